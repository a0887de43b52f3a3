// The Clientes list's Ciudad filter: a search over the 1,123 municipios (the Clientes view's
// ajax lookup, Flask-Admin's select2-ajax widget) instead of a drop-down carrying them all.
(function () {
  var data = document.getElementById('ciudades-filtro');
  if (!data || !window.faForm || !window.jQuery) return;
  var url = data.getAttribute('data-url');
  var nombres = JSON.parse(data.textContent || '{}');
  function upgrade(input) {
    if (input.getAttribute('data-ciudad') === '1' || !/_ciudad$/.test(input.name || '')) return;
    input.setAttribute('data-ciudad', '1');
    input.type = 'hidden';
    input.setAttribute('data-url', url);
    input.setAttribute('data-minimum-input-length', '1');
    input.setAttribute('aria-label', 'Ciudad');
    var value = input.value;
    input.setAttribute('data-json', JSON.stringify(value ? [value, nombres[value] || value] : null));
    window.faForm.applyStyle(window.jQuery(input), 'select2-ajax');
  }
  function scan() {
    document.querySelectorAll('table.filters input.filter-val').forEach(upgrade);
  }
  var table = document.querySelector('table.filters');
  if (table) new MutationObserver(scan).observe(table, { childList: true, subtree: true });
  window.jQuery(scan);
})();
