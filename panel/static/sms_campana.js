/* Campaign page: poll progreso.json while the campaign is being prepared, scheduled or sending,
   updating the counts, the bar and the per-message table live; reload once it stops or its
   outbox is whole (fresh buttons). */
(function () {
  "use strict";
  var box = document.getElementById("progreso");
  if (!box || box.dataset.activa !== "1") return;
  var ACTIVE = ["preparando", "programada", "pendiente", "procesando"];
  var COUNTS = ["etiqueta_estado", "total", "enviados", "fallidos", "pendientes", "cancelados",
    "omitidos", "revision", "programada_para", "siguiente_envio", "preparacion_texto"];
  var first = box.querySelector('[data-testid="estado-campana"]').dataset.estado;
  var table = document.querySelector('[data-testid="log-sms"]');

  function set(root, campo, valor) {
    var el = root.querySelector('[data-campo="' + campo + '"]');
    if (el) el.textContent = valor;
    var line = root.querySelector('[data-mostrar="' + campo + '"]');
    if (line) line.hidden = !valor;  // an empty field is not shown at all
  }

  function bar(p) {
    var el = box.querySelector('[data-campo="barra"]');
    // style-src 'self': the width is one of panel.css's bar-N classes, not a style attribute.
    el.className = el.className.replace(/\bbar-\d+\b/, "bar-" + 5 * Math.floor(p.porcentaje / 5));
    el.setAttribute("aria-valuenow", p.hechos);
    el.setAttribute("aria-valuemax", p.enviables);
  }

  function row(fila) {
    var tr = table.querySelector('tr[data-id="' + fila.id + '"]');
    if (!tr) return;  // not on this page of the table
    tr.dataset.estado = fila.estado;
    set(tr, "estado", fila.etiqueta);
    set(tr, "entrega", fila.entrega);
    set(tr, "sid", fila.sid);
    set(tr, "error", fila.error);
  }

  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        COUNTS.forEach(function (k) { set(box, k, p[k]); });
        box.querySelector('[data-testid="estado-campana"]').dataset.estado = p.estado;
        bar(p);
        if (table && table.dataset.vivo === "1") p.filas.forEach(row);
        var prepared = first === "preparando" && p.estado !== "preparando";
        if (ACTIVE.indexOf(p.estado) >= 0 && !prepared) setTimeout(tick, 1500);
        else window.location.reload();
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 1000);
})();
