/* SMS character and segment counter: the same rules as panel/sms/encoding.py.
 * window.smsAnalyze(text) -> {encoding, length, segments, nonGsm}
 * GSM-7 counts septets (extension characters take two); UCS-2 counts UTF-16 code units.
 * Markup hook: <textarea data-sms-counter="#salida"> writes a Spanish summary into #salida.
 * Segments: 160/153 (GSM-7) or 70/67 (UCS-2); a character is never split between segments.
 */
(function (root) {
  "use strict";

  var GSM_BASIC = new Set(Array.from(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
  ));
  var GSM_EXTENSION = new Set(Array.from("^{}\\[~]|€\f"));
  var LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };

  function nonGsmChars(chars) {
    var seen = [];
    chars.forEach(function (c) {
      if (!GSM_BASIC.has(c) && !GSM_EXTENSION.has(c) && seen.indexOf(c) < 0) seen.push(c);
    });
    return seen;
  }

  function weights(chars, encoding) {
    return chars.map(function (c) {
      if (encoding === "GSM-7") return GSM_EXTENSION.has(c) ? 2 : 1;
      return c.codePointAt(0) > 0xffff ? 2 : 1;
    });
  }

  function countSegments(ws, single, multi) {
    var total = ws.reduce(function (a, b) { return a + b; }, 0);
    if (total === 0) return 0;
    if (total <= single) return 1;
    var segments = 1, used = 0;
    ws.forEach(function (w) {
      if (used + w > multi) { segments += 1; used = 0; }
      used += w;
    });
    return segments;
  }

  function smsAnalyze(text) {
    var chars = Array.from(text || "");  // code points, like Python's str
    var nonGsm = nonGsmChars(chars);
    var encoding = nonGsm.length ? "UCS-2" : "GSM-7";
    var ws = weights(chars, encoding);
    var limits = LIMITS[encoding];
    return {
      encoding: encoding,
      length: ws.reduce(function (a, b) { return a + b; }, 0),
      segments: countSegments(ws, limits[0], limits[1]),
      nonGsm: nonGsm
    };
  }

  function describe(info) {
    var text = info.length + (info.encoding === "GSM-7" ? " caracteres" : " unidades") + " · " +
      info.segments + (info.segments === 1 ? " segmento" : " segmentos") + " · " + info.encoding;
    if (info.nonGsm.length) text += " (por: " + info.nonGsm.join(" ") + ")";
    return text;
  }

  // Auto-wiring, no inline script: <textarea data-sms-counter="#salida"> updates #salida as you type.
  function wire(doc) {
    doc.querySelectorAll("[data-sms-counter]").forEach(function (field) {
      var out = doc.querySelector(field.getAttribute("data-sms-counter"));
      if (!out) return;
      var update = function () { out.textContent = describe(smsAnalyze(field.value)); };
      field.addEventListener("input", update);
      update();
    });
  }

  root.smsAnalyze = smsAnalyze;
  root.smsDescribe = describe;
  if (typeof document !== "undefined") {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { wire(document); });
    } else {
      wire(document);
    }
  }
  if (typeof module !== "undefined" && module.exports) module.exports = smsAnalyze;
})(typeof window !== "undefined" ? window : globalThis);
