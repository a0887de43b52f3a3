/* Import page: poll progreso.json while the preview or the import is queued or running, updating
   the counts and the bar; reload once it ends (the preview, the result's links or "Reintentar"
   appear). */
(function () {
  "use strict";
  var box = document.getElementById("progreso");
  if (!box || box.dataset.activa !== "1") return;
  var COUNTS = ["etiqueta", "mensaje", "total", "procesadas", "nuevos", "actualizados", "con_errores"];

  function miles(v) {
    return typeof v === "number" ? v.toLocaleString("es-CO").replace(/,/g, ".") : v;
  }

  function set(campo, valor) {
    var el = box.querySelector('[data-campo="' + campo + '"]');
    if (el && valor !== null && valor !== undefined) el.textContent = miles(valor);
  }

  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        COUNTS.forEach(function (k) { set(k, p[k]); });
        box.querySelector('[data-testid="estado-importacion"]').dataset.estado = p.estado;
        var bar = box.querySelector('[data-campo="barra"]');
        // style-src 'self': the width is one of panel.css's bar-N classes, not a style attribute.
        if (p.total === null) {  // a preview: rows read so far, no end known
          bar.setAttribute("aria-valuetext", miles(p.procesadas) + " filas leídas");
        } else {
          bar.className = bar.className.replace(/\bbar-\d+\b/, "bar-" + 5 * Math.floor(p.porcentaje / 5));
          bar.setAttribute("aria-valuenow", p.procesadas);
          bar.setAttribute("aria-valuemax", p.total);
        }
        if (p.terminado) window.location.reload();
        else setTimeout(tick, 1000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 500);
})();
