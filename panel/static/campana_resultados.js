// Campaign page: draws the results chart from the JSON embedded in the page (no inline script),
// as the dashboard does. A count the campaign does not have (clicks without links) is left out.
(function () {
  "use strict";
  var node = document.getElementById("resultados-data");
  var canvas = document.getElementById("chart-resultados");
  if (!node || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var fmt = new Intl.NumberFormat("es-CO");
  var COLORS = ["#0056b3", "#1e7b34", "#b35c00", "#b02a37", "#6c757d", "#5a2d91", "#343a40"];
  var labels = [], values = [], colors = [];
  data.etiquetas.forEach(function (label, i) {
    if (data.valores[i] !== null) { labels.push(label); values.push(data.valores[i]); colors.push(COLORS[i]); }
  });
  new Chart(canvas, {
    type: "bar",
    data: { labels: labels, datasets: [{ label: "Mensajes", data: values,
      backgroundColor: colors }] },
    options: { responsive: true, animation: false, plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: function (v) { return fmt.format(v); } } } } }
  });
})();
