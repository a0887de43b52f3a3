// Bulk actions of the Clientes list: ticked rows, or "all N rows matching" (select-across).
(function () {
  var form = document.getElementById('action_form');
  var banner = document.getElementById('select-across');
  var confirmations = JSON.parse(document.getElementById('actions-confirmation-data').textContent);
  var todos = document.getElementById('todos');
  function boxes() { return document.querySelectorAll('input.action-checkbox'); }
  function checked() { return document.querySelectorAll('input.action-checkbox:checked'); }
  function setAll(on) {
    todos.value = on ? '1' : '0';
    if (!banner) return;
    banner.querySelector('.select-across-done').classList.toggle('d-none', !on);
    banner.querySelector('.select-across-page').classList.toggle('d-none', on);
    var link = document.getElementById('select-across-all');
    if (link) link.classList.toggle('d-none', on);
  }
  function refresh() {
    var all = boxes().length > 0 && checked().length === boxes().length;
    if (banner) banner.classList.toggle('d-none', !all);
    if (!all) setAll(false);
  }
  document.addEventListener('change', function (e) {
    if (e.target.matches('input.action-checkbox, input.action-rowtoggle')) setTimeout(refresh, 0);
  });
  var link = document.getElementById('select-across-all');
  if (link) link.addEventListener('click', function () { setAll(true); });
  var clear = document.getElementById('select-across-clear');
  if (clear) clear.addEventListener('click', function () {
    boxes().forEach(function (b) { b.checked = false; });
    document.querySelectorAll('input.action-rowtoggle').forEach(function (b) { b.checked = false; });
    refresh();
  });
  // Replaces Flask-Admin's modelActions.execute: also sends "todos" and the filters.
  window.modelActions = {
    execute: function (name) {
      if (todos.value !== '1' && checked().length === 0) { alert('Seleccione al menos un cliente.'); return false; }
      if (todos.value !== '1' && confirmations[name] && !confirm(confirmations[name])) return false;
      form.querySelector('#action').value = name;
      form.querySelectorAll('input.action-checkbox').forEach(function (b) { b.remove(); });
      if (todos.value !== '1') checked().forEach(function (b) { form.appendChild(b.cloneNode()); });
      form.submit();
      return false;
    }
  };
})();
