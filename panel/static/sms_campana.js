/* Campaign page: poll progreso.json while the campaign runs; reload once it ends (fresh log). */
(function () {
  "use strict";
  var box = document.getElementById("progreso");
  if (!box || box.dataset.activa !== "1") return;

  function set(campo, valor) {
    var el = box.querySelector('[data-campo="' + campo + '"]');
    if (el) el.textContent = valor;
  }

  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        ["estado", "total", "enviados", "fallidos", "pendientes", "revision"].forEach(function (k) { set(k, p[k]); });
        var hechos = p.enviados + p.fallidos;
        var barra = box.querySelector('[data-campo="barra"]');
        barra.style.width = (p.total ? Math.round(100 * hechos / p.total) : 0) + "%";
        barra.setAttribute("aria-valuenow", hechos);
        if (p.estado === "pendiente" || p.estado === "procesando") setTimeout(tick, 1500);
        else window.location.reload();
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 1000);
})();
