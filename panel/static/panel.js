/* Every panel page (templates/admin/panel_base.html): what Flask-Admin's own markup and its
 * vendored widgets would otherwise leave in English or against the Content-Security-Policy. */
(function () {
  "use strict";

  // Flask-Admin writes a "javascript:" href (void 0) on menu toggles, active tabs, the pager's
  // current page and select2's choices; following one is an inline script the CSP blocks (a
  // console error). Cancel only the navigation: Bootstrap's and select2's handlers still run.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && /^\s*javascript:/i.test(link.getAttribute("href"))) event.preventDefault();
  }, true);

  // Row checkboxes are named by a title only (axe label-title-only): give them a label.
  document.querySelectorAll("input.action-checkbox[title], input.action-rowtoggle[title]").forEach(function (box) {
    box.setAttribute("aria-label", box.title);
  });
  document.querySelectorAll(".navbar-toggler[aria-label]").forEach(function (button) {
    button.setAttribute("aria-label", "Mostrar u ocultar el menú");
  });

  // Flask-Admin's filter rows (built by its filters.js) have an operation and a value field but
  // no label (axe label): name each after its filter, e.g. "Activa: condición".
  function labelFilterRows(root) {
    root.querySelectorAll("table.filters tr").forEach(function (row) {
      var name = row.querySelector(".remove-filter");
      name = name ? name.textContent.replace("×", "").trim() : "Filtro";
      row.querySelectorAll("select.filter-op, .filter-op input.select2-focusser").forEach(function (el) {
        el.setAttribute("aria-label", name + ": condición");
      });
      row.querySelectorAll("input.filter-val, select.filter-val, .filter-val input.select2-focusser").forEach(function (el) {
        el.setAttribute("aria-label", name + ": valor");
      });
    });
  }
  var filters = document.querySelector("table.filters");
  if (filters) {
    labelFilterRows(document);
    new MutationObserver(function () { labelFilterRows(document); }).observe(filters, { childList: true, subtree: true });
  }

  var $ = window.jQuery;
  if (!$) return;

  // select2 3.5 (Flask-Admin's selects and the AJAX client picker) speaks English by default.
  if ($.fn.select2) {
    $.extend($.fn.select2.defaults, {
      formatNoMatches: function () { return "No hay resultados"; },
      formatInputTooShort: function (input, min) {
        var n = min - input.length;
        return "Escriba " + n + (n === 1 ? " carácter más" : " caracteres más");
      },
      formatInputTooLong: function (input, max) {
        var n = input.length - max;
        return "Borre " + n + (n === 1 ? " carácter" : " caracteres");
      },
      formatSelectionTooBig: function (limit) {
        return "Solo puede elegir " + limit + (limit === 1 ? " opción" : " opciones");
      },
      formatLoadMore: function () { return "Cargando más resultados…"; },
      formatSearching: function () { return "Buscando…"; },
      formatAjaxError: function () { return "No se pudo cargar la lista"; }
    });
  }

  // Flask-Admin's form.js starts its date pickers (daterangepicker 1.3) at document ready
  // without a locale: English buttons, days and months. This handler is registered before
  // form.js's, so it runs first and every picker gets the Spanish one.
  var ES = {
    applyLabel: "Aplicar",
    cancelLabel: "Cancelar",
    fromLabel: "Desde",
    toLabel: "Hasta",
    weekLabel: "Sem",
    customRangeLabel: "Otro rango",
    daysOfWeek: ["do", "lu", "ma", "mi", "ju", "vi", "sá"],
    monthNames: ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
    firstDay: 0
  };
  $(function () {
    var original = $.fn.daterangepicker;
    if (!original) return;
    $.fn.daterangepicker = function (options, callback) {
      var merged = $.extend(true, {}, options || {});
      merged.locale = $.extend({}, ES, merged.locale || {});
      return original.call(this, merged, callback);
    };
  });
})();
