"""In Chromium, as each role: every menu entry and the list, create, edit and details pages
reachable from it, read as a Colombian staff member would. The walk fails on any of
Flask-Admin's or Werkzeug's own English strings, on any console error or Content-Security-Policy
violation, and on any axe-core violation of serious or critical impact."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from panel.sms.render import UNKNOWN
from tests import factories

from .conftest import axe_violations
from .steps import login_as, owner

# Flask-Admin's own English UI strings (its bootstrap4 templates, model/base.py's flashes, its
# filters and form widgets, and the select2 and daterangepicker widgets it ships), and
# Werkzeug's and Flask-WTF's error pages. Matched as whole words, case-sensitive, in the text
# a person can read or hear.
FLASK_ADMIN = [
    "Home", "List", "Create", "Create New Record", "Edit", "Edit Record", "Delete", "Delete Record",
    "Delete?", "Details", "View Record", "Save", "Save and Add Another", "Save and Continue Editing",
    "Cancel", "Filter", "Add Filter", "Reset Filters", "Apply", "Search", "Export", "items", "item",
    "With selected", "Select all records", "Select record", "Please select", "Are you sure",
    "Record was successfully", "records were successfully", "Failed to", "There are no items",
    "Record does not exist", "Yes", "equals", "not equal", "contains", "not contains",
    "greater than", "smaller than", "empty", "in list", "not in list", "between", "not between",
    "Sort by", "Actions", "Add", "New", "Root", "Integrity error", "Invalid", "Not a valid",
    "This field is required", "Toggle navigation", "Log out", "Log in", "Logout", "Login", "Submit",
    "No matches found", "Please enter", "Loading more results", "Searching", "Clear", "From", "To",
    "January", "February", "March", "April", "June", "July", "August", "September", "October",
    "November", "December",
]  # fmt: skip
WERKZEUG = [
    "Bad Request", "Unauthorized", "Forbidden", "Not Found", "Method Not Allowed",
    "Internal Server Error", "Too Many Requests", "Request Entity Too Large",
    "You don't have the permission", "The requested URL was not found", "The method is not allowed",
    "The server encountered", "Redirecting", "CSRF token", "The CSRF token",
]  # fmt: skip
ENGLISH = re.compile(
    r"(?<!\w)("
    + "|".join(re.escape(s) for s in sorted(FLASK_ADMIN + WERKZEUG, key=len, reverse=True))
    + r")(?!\w)"
)
# An explicit, minimal allow-list for what another work item of issue #17 is fixing. Each entry:
# (path prefix, exact English text, the work item). Empty: nothing is waved through today.
ALLOWED: list[tuple[str, str, str]] = []

# Collects the CSP violations of each page (the listener is installed before any page script).
WATCH = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push("
    "e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));"
)
# What a person can read or hear: the text of the page (open dropdowns, date pickers and hidden
# menus included, scripts excluded) and the attributes read out or shown as text.
TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('script, style, template, noscript').forEach(e => e.remove());
  const parts = [copy.textContent];
  const shown = '[title], [placeholder], [aria-label], [alt], input[type=submit], input[type=button]';
  document.querySelectorAll(shown)
    .forEach(e => parts.push(e.getAttribute('title'), e.getAttribute('placeholder'),
                             e.getAttribute('aria-label'), e.getAttribute('alt'),
                             e.matches('input') ? e.value : null));
  return parts.filter(Boolean).join(' ').replace(/\\s+/g, ' ');
}"""

ROLES = {
    "admin": "admin.a@test.co",
    "vendedor": "vendedor.a@test.co",
    "admin_otro_tenant": "admin.b@test.co",
    "superadmin": "super@test.co",
}
# A role whose pages are another's templates with another tenant's rows: axe-core and the
# phone's width, which judge the markup, are measured by that role's walk.
SAME_MARKUP_AS = {"admin_otro_tenant": "admin"}
# What each role must find in its menu (the walk would pass vacuously on an empty menu).
MENU_MUST_HAVE = {
    "admin": {"Clientes", "Empresas", "Usuarios", "Historial", "Mi cuenta", "Tokens de API"},
    "vendedor": {"Clientes", "Plantillas SMS", "Mi cuenta"},
    "admin_otro_tenant": {"Clientes", "Empresas", "Historial", "Mi cuenta"},
    "superadmin": {"Clientes", "Países", "Ciudades", "Números excluidos (RNE)", "Mi cuenta"},
}
HALVES = 2  # each role's menu is walked in this many tests (every HALVES-th entry)
NOT_PAGES = ("/export", "/exportar", "/logout", "/delete", "/eliminar", "/ajax/")
# A phone's width (issue #29): nothing may push the page sideways.
PHONE_WIDTH = 375
# Dates are typed dd/mm/aaaa in a text box with the panel's picker, never the browser's own.
NATIVE_DATES = "input[type=date], input[type=datetime-local], input[type=month], input[type=week]"
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# Resize observers (the dashboard's charts) run within the next frames.
SETTLED = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50))))"
)
# Historial's Detalle is words, never a stored code (issue #29).
RAW_CODES = re.compile(r"Estado: \d|Empresa: \d|Campaña: \d|CSV-EXCEL|csv-excel|[A-Za-z]+_[a-z_]+: |flt\d_")


def _tenant_rows(admin, vendedor, nombre: str):
    """One row of every kind for a tenant, so every list has a first row to open."""
    empresa = factories.empresa(admin, f"Transportes {nombre}")
    campana = factories.campana(admin, f"Temporada {nombre}")
    cliente = factories.cliente(
        admin, nombre_cliente="Lucía", apellido_cliente=nombre, id_empresa=empresa.id, id_campana=campana.id
    )
    factories.cliente(admin, nombre_cliente="Andrés", apellido_cliente=nombre)
    factories.vehiculo(cliente)
    factories.movimiento(cliente)
    factories.venta(cliente, vendedor)
    factories.plantilla(admin, "Hola {nombre}, le saluda su concesionario", nombre=f"Saludo {nombre}")
    factories.sent_campaign(admin, cliente, f"Bienvenida {nombre}", "Hola Lucía", "+573001112233")
    return cliente


@pytest.fixture
def datos(tenants):
    a = _tenant_rows(owner(tenants.admin_a), owner(tenants.vendedor_a), "Restrepo")
    _tenant_rows(owner(tenants.admin_b), owner(tenants.vendedor_b), "Gómez")
    return a


class Walk:
    """One role's walk: the pages seen and every problem found, reported together at the end."""

    def __init__(self, page, email: str, measure: bool = True):
        self.page, self.email, self.measure = page, email, measure
        self.seen: set[str] = set()
        self.measured: set[str] = set()  # the paths already measured by axe and at a phone's width
        self.problems: list[str] = []
        self.console: list[str] = []
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console.append(f"excepción: {e}"))

    def key(self, url: str) -> str:
        """A page without the return address Flask-Admin appends (the same page from any list)."""
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "url"]
        return parts.path + ("?" + urlencode(query) if query else "")

    def check(self, where: str) -> None:
        """Where we think we are (logged in, one heading, no error page), then what must be absent."""
        page = self.page
        page.wait_for_load_state("load")
        self.seen.add(self.key(page.url))
        problems = []
        expect(page.get_by_test_id("usuario-actual")).to_contain_text(self.email)
        if page.get_by_test_id("pagina-error").count():
            problems.append(
                "página de error " + page.get_by_test_id("pagina-error").get_attribute("data-codigo")
            )
        headings = page.locator("h1").all_inner_texts()
        if len(headings) != 1 or not headings[0].strip():
            problems.append(f"debe tener un h1, tiene {headings}")
        if page.locator("table.model-list").count() and page.locator("form[role=search]").count():
            if not page.get_by_label(re.compile(r"^Buscar por")).count():
                problems.append("la búsqueda no tiene etiqueta")
        path = urlsplit(page.url).path
        text = page.evaluate(TEXT)
        allowed = {t for prefix, t, _item in ALLOWED if path.startswith(prefix)}
        english = sorted({m.group(1) for m in ENGLISH.finditer(text)} - allowed)
        if english:
            problems.append(f"en inglés: {english}")
        violations = page.evaluate("window.__csp || []")
        if violations:
            problems.append(f"CSP: {violations}")
        template = self.first_of_its_kind(page.url)
        if template and (overflow := self.overflow_on_a_phone()):
            problems.append(f"se desborda a lo ancho {overflow} px a {PHONE_WIDTH} px")
        if page.locator(NATIVE_DATES).count():  # mm/dd/yyyy in an English browser
            problems.append("fecha con el selector nativo del navegador")
        if page.locator("[data-date-format^=YYYY]").count():
            problems.append("fecha en formato aaaa-mm-dd")
        detalles = " ".join(page.locator(".historial-detalle, .historial-cambios").all_inner_texts())
        if RAW_CODES.search(detalles):
            problems.append(f"Historial con códigos: {RAW_CODES.findall(detalles)}")
        if self.console:
            problems.append(f"consola: {self.console}")
            self.console.clear()
        page.evaluate("window.__csp = []")
        for v in axe_violations(page) if template else ():
            problems.append(f"axe {v['impact']} {v['id']}: {v['help']} → {v['nodes']}")
        self.problems += [f"{where} ({self.key(page.url)}): {p}" for p in problems]

    def first_of_its_kind(self, url: str) -> bool:
        """The first page of its path in this walk (a list, a form, a details page): axe-core and
        the phone's width judge a page's markup, which its path's template decides, so they run
        once per path; another row's or filter's page of the same path is read for its words."""
        path = urlsplit(url).path
        first = self.measure and path not in self.measured
        self.measured.add(path)
        return first

    def overflow_on_a_phone(self) -> int:
        """The page's horizontal overflow at a phone's width: the same page narrowed to 375 px
        (a reflow, no reload), measured, then put back, so one walk checks both widths."""
        page, size = self.page, dict(self.page.viewport_size)
        page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
        try:
            page.evaluate(SETTLED)  # charts redraw on the resize, a frame or two later
            return page.evaluate(OVERFLOW)
        finally:
            page.set_viewport_size(size)

    def visit(self, href: str, where: str) -> bool:
        if self.key(href) in self.seen or any(part in href for part in NOT_PAGES):
            return False
        response = self.page.goto(href)
        if response.status != 200:
            self.problems.append(f"{where} ({href}): respuesta {response.status}")
        self.check(where)
        return True

    def menu(self) -> list[tuple[str | None, str, str]]:
        """(category, entry, href) of every entry of the navigation menu."""
        return self.page.locator("#admin-navbar-collapse ul.navbar-nav").first.evaluate(
            """ul => [...ul.querySelectorAll('a[href^="/admin"]')].map(a => {
                 const drop = a.closest('li.dropdown');
                 const toggle = drop && drop.querySelector(':scope > a.dropdown-toggle');
                 const cat = toggle ? toggle.textContent.trim() : null;
                 return [cat, a.textContent.trim(), a.getAttribute('href')];
               })"""
        )

    def open_entry(self, category: str | None, name: str) -> None:
        """Reach a menu entry as a person does: open its category, click it."""
        nav = self.page.locator("#admin-navbar-collapse")
        if category:
            nav.locator("a.dropdown-toggle", has_text=category).first.click()
        nav.get_by_role("link", name=name, exact=True).first.click()
        self.page.wait_for_load_state("load")

    def exercise_list(self) -> None:
        """Open what a list page hides behind clicks: every filter's row, the page-size, action
        and export menus (their texts are then checked with the page)."""
        page = self.page
        toggle = page.locator("a.dropdown-toggle", has_text="Añadir filtro")
        if toggle.count():
            for i in range(page.locator(".field-filters a.filter").count()):
                toggle.click()
                page.locator(".field-filters a.filter").nth(i).click()
        for name in ("registros", "Con seleccionados", "Exportar"):
            menu = page.locator(".nav-tabs a.dropdown-toggle", has_text=name)
            if menu.count():
                menu.first.click()
                page.keyboard.press("Escape")

    def links_from(self, selector: str) -> list[str]:
        return self.page.locator(selector).evaluate_all("els => els.map(e => e.getAttribute('href'))")


@pytest.mark.parametrize("mitad", range(HALVES))
@pytest.mark.parametrize("rol", ROLES)
def test_every_screen_is_in_spanish_without_errors_or_barriers(browser, live_server, datos, rol, mitad):
    """Every page of every role at 1280 px, each path also measured at 375 px (no horizontal
    scroll). A role's menu is walked in halves (every other entry), so the two workers of a pass
    share the longest test of the suite instead of one of them ending the run with it alone."""
    email = ROLES[rol]
    context = browser.new_context(
        base_url=live_server.url, locale="es-CO", viewport={"width": 1280, "height": 900}
    )
    context.add_init_script(WATCH)
    try:
        page = context.new_page()
        login_as(page, email)
        walk = Walk(page, email, measure=rol not in SAME_MARKUP_AS)
        entries = walk.menu()
        assert MENU_MUST_HAVE[rol] <= {name for _cat, name, _href in entries}, entries
        mine = entries[mitad::HALVES]

        deeper: list[tuple[str, str]] = []
        for category, name, href in mine:  # each from the last one's page: the menu is on every page
            walk.open_entry(category, name)
            assert walk.key(page.url) == walk.key(href), f"{name}: {page.url}"
            expect(page).to_have_title(f"{name} - Panel de Clientes")  # the entry's own page
            if page.locator("table.model-list").count():
                walk.exercise_list()
                first_row = "table.model-list tbody tr:first-child a[href^='/admin/']"
                deeper += [
                    (f"{name} → {h}", h)
                    for h in walk.links_from(f".nav-tabs a[href^='/admin/'], {first_row}")
                ]
            walk.check(name)
        for where, href in deeper:  # create, edit and details pages, and a row's own pages
            if walk.visit(href, where) and "/details/" in href:
                for more in walk.links_from("a.btn[href^='/admin/']"):  # e.g. Enviar SMS
                    walk.visit(more, f"{where} → {more}")
    finally:
        context.close()
    print(f"[recorrido {rol} {mitad + 1}/{HALVES}] {len(walk.seen)} páginas, {len(walk.measured)} rutas")
    assert len(walk.seen) >= len(mine) + 3, sorted(walk.seen)
    assert not walk.problems, "\n".join(walk.problems)


def test_the_live_preview_flags_an_unknown_placeholder_in_the_servers_words(page, datos):
    login_as(page, "admin.a@test.co")
    page.goto(f"/admin/clientes/details/?id={datos.id_cliente}")
    page.get_by_test_id("enviar-sms-cliente").click()
    expect(page.get_by_test_id("total-destinatarios")).to_contain_text("1")
    preview = page.get_by_test_id("vista-previa-en-vivo")
    aviso = page.get_by_test_id("error-vista-previa")
    mensaje = page.get_by_label("Mensaje", exact=True)

    mensaje.fill("Hola {nombre}")
    expect(preview.locator("li").first).to_contain_text("Hola Lucía")
    expect(aviso).to_be_hidden()

    mensaje.fill("Hola {foo}")
    expected = UNKNOWN % "{foo}"
    expect(aviso).to_have_text(expected)  # at once, before "Revisar envío"
    expect(preview.locator("li")).to_have_count(0)  # never the literal {foo} as if it would be sent
    page.get_by_test_id("revisar").click()
    expect(page.get_by_test_id("error-envio")).to_have_text(expected)  # the server says the same

    page.get_by_label("Mensaje", exact=True).fill("Hola {nombre")
    expect(page.get_by_test_id("error-vista-previa")).to_contain_text("Llave sin cerrar")
