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

  // Flask-Admin's form.js and filters start their date pickers (daterangepicker 1.3) without a
  // locale, and the filters in ISO formats (YYYY-MM-DD, YYYY-MM-DD HH:mm:ss). Every picker is
  // given the Spanish locale and shows and takes dates as the panel writes them (dd/mm/aaaa,
  // dd/mm/aaaa hh:mm: panel/forms/fechas.py reads both); an ISO value (a filter's value from the
  // URL, an old bookmark) is shown the same way.
  var ES = {
    applyLabel: "Aplicar",
    cancelLabel: "Cancelar",
    fromLabel: "Desde",
    toLabel: "Hasta",
    weekLabel: "Sem",
    customRangeLabel: "Otro rango",
    daysOfWeek: ["do", "lu", "ma", "mi", "ju", "vi", "sá"],
    monthNames: ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
      "septiembre", "octubre", "noviembre", "diciembre"],
    firstDay: 0
  };
  var SELECTS = { "select.monthselect": "Mes", "select.yearselect": "Año", "select.hourselect": "Hora",
    "select.minuteselect": "Minuto", "select.secondselect": "Segundo", "select.ampmselect": "a. m. o p. m." };
  var FORMATOS = { "YYYY-MM-DD": "DD/MM/YYYY", "YYYY-MM-DD HH:mm:ss": "DD/MM/YYYY HH:mm" };
  var ISO = ["YYYY-MM-DD", "YYYY-MM-DD HH:mm:ss", "YYYY-MM-DD HH:mm", "YYYY-MM-DDTHH:mm", "YYYY-MM-DDTHH:mm:ss"];

  function asShown(value, format, separator) {
    if (!value || !window.moment) return value;
    return value.split(/ to | a /).map(function (part) {
      var iso = window.moment(part.trim(), ISO, true);
      return iso.isValid() ? iso.format(format) : part;
    }).join(separator);
  }

  function spanish(original) {
    return function (options, callback) {
      var merged = $.extend(true, {}, options || {});
      merged.locale = $.extend({}, ES, merged.locale || {});
      merged.format = FORMATOS[merged.format] || merged.format || FORMATOS["YYYY-MM-DD"];
      merged.separator = " a ";
      var shown = merged.format.replace("DD/MM/YYYY", "dd/mm/aaaa").replace("HH:mm", "hh:mm");
      if (!merged.singleDatePicker) shown += merged.separator + shown;
      this.each(function () {
        var $el = $(this);
        if (!$el.is("input")) return;
        if (!$el.attr("placeholder")) $el.attr("placeholder", shown);
        $el.attr({ "data-date-format": merged.format, autocomplete: "off" });
        $el.val(asShown($el.val(), merged.format, merged.separator));
      });
      var started = original.call(this, merged, callback);
      this.each(function () { typable($(this), merged); });
      return started;
    };
  }

  // daterangepicker 1.3 reads the box at every key (loosely: "1" is the 1st of this month) and
  // rewrites it, and on closing writes its own date over what was typed: the box could not be
  // typed in. Here a key moves the calendar only once the text is a whole date, and closing
  // leaves an unfinished or empty box as it is (the server says what is wrong with it); picking
  // in the calendar still writes the box.
  function typable($el, options) {
    var drp = $el.data("daterangepicker");
    if (!drp || !$el.is("input") || !window.moment) return;
    function dates() {
      var text = $.trim($el.val());
      var parts = options.singleDatePicker ? [text] : text.split(options.separator);
      var read = parts.map(function (part) { return window.moment($.trim(part), options.format, true); });
      var ok = text && read.every(function (m) { return m.isValid(); });
      return ok ? read : null;
    }
    function keep() {
      drp.oldStartDate = drp.startDate.clone();
      drp.oldEndDate = drp.endDate.clone();
    }
    $el.off("keyup.daterangepicker").on("keyup.daterangepicker", function () {
      var read = dates();
      if (!read || read[read.length - 1].isBefore(read[0])) return;
      drp.startDate = read[0];
      drp.endDate = read[read.length - 1];
      keep();
      drp.updateView();
      drp.updateCalendars();
    });
    // The calendar's drop-downs have no label (axe select-name); it redraws them at every change.
    var draw = drp.updateCalendars;
    drp.updateCalendars = function () {
      var result = draw.apply(drp, arguments);
      $.each(SELECTS, function (css, name) { drp.container.find(css).attr("aria-label", name); });
      return result;
    };
    drp.updateCalendars();
    var hide = drp.hide;
    drp.hide = function () {
      if (!dates()) keep();
      return hide.apply(drp, arguments);
    };
  }

  // daterangepicker.js loads after this file (lib.form_js), and the filters start theirs as soon
  // as they load, before any "ready" handler: the plugin is wrapped the moment it is installed.
  var picker = $.fn.daterangepicker && spanish($.fn.daterangepicker);
  Object.defineProperty($.fn, "daterangepicker", {
    configurable: true,
    get: function () { return picker; },
    set: function (fn) { picker = spanish(fn); }
  });
})();
