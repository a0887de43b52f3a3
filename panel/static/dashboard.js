// Draws the dashboard charts from the JSON embedded in the page (no inline script).
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || typeof Chart === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var fmt = new Intl.NumberFormat("es-CO");
  var common = { responsive: true, animation: false, plugins: { legend: { display: false } } };

  function bar(id, labels, datasets, legend) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    var options = JSON.parse(JSON.stringify(common));
    options.plugins.legend.display = !!legend;
    options.scales = { y: { beginAtZero: true, ticks: { callback: function (v) { return fmt.format(v); } } } };
    new Chart(canvas, { type: "bar", data: { labels: labels, datasets: datasets }, options: options });
  }

  var estado = document.getElementById("chart-estado");
  if (estado) {
    new Chart(estado, {
      type: "doughnut",
      data: {
        labels: data.por_estado.map(function (r) { return r.nombre; }),
        datasets: [{ data: data.por_estado.map(function (r) { return r.total; }),
                     backgroundColor: ["#6c757d", "#1e7b34", "#b02a37"] }]
      },
      options: { responsive: true, animation: false }
    });
  }
  bar("chart-ciudad", data.por_ciudad.map(function (r) { return r.ciudad; }),
      [{ label: "Clientes", data: data.por_ciudad.map(function (r) { return r.total; }), backgroundColor: "#0056b3" }]);
  bar("chart-departamento", data.por_departamento.map(function (r) { return r.departamento; }),
      [{ label: "Clientes", data: data.por_departamento.map(function (r) { return r.total; }), backgroundColor: "#0056b3" }]);
  bar("chart-campanas", data.campanas.map(function (c) { return c.nombre; }), [
    { label: "Enviados", data: data.campanas.map(function (c) { return c.enviados; }), backgroundColor: "#1e7b34" },
    { label: "Fallidos", data: data.campanas.map(function (c) { return c.fallidos; }), backgroundColor: "#b02a37" }
  ], true);
  // The last campaigns compared: delivered and click rates, in percent (null: no bar).
  var resultados = data.resultados || [];
  bar("chart-resultados", resultados.map(function (c) { return c.nombre; }), [
    { label: "Entregados (%)", data: resultados.map(function (c) { return c.entrega; }), backgroundColor: "#1e7b34" },
    { label: "Clics (%)", data: resultados.map(function (c) { return c.clics; }), backgroundColor: "#5a2d91" }
  ], true);
})();
