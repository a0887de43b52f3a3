"""Our Spanish catalogue of Flask-Admin's strings (panel/translations): it wins over Flask-Admin's
own, the committed .mo is the compiled .po, and no string it translates is left in English on the
main pages (the browser walk, tests/browser/test_walk_browser.py, reads every screen)."""

import json
import re
from html.parser import HTMLParser
from io import BytesIO

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from panel.extensions import db
from panel.models import Usuario
from panel.translations import DIRECTORY, DOMAIN
from tests import factories
from tests.helpers import login

PO = DIRECTORY / "es" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
REBUILD = f".venv/bin/pybabel compile -d panel/translations -D {DOMAIN}"


def _catalogue():
    with PO.open("rb") as f:
        return read_po(f)


def _entries():
    """(msgid, plural msgid or None, Spanish singular, Spanish plural or None) of our .po."""
    for m in _catalogue():
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            yield m.id[0], m.id[1], m.string[0], m.string[1]
        else:
            yield m.id, None, m.string, None


def test_the_committed_mo_is_the_compiled_po():
    """A clean clone runs from the committed .mo; it must say what the .po says."""
    compiled = BytesIO()
    write_mo(compiled, _catalogue())
    compiled.seek(0)
    expected = Translations(compiled)._catalog
    with MO.open("rb") as f:
        committed = Translations(f)._catalog
    expected.pop(""), committed.pop("")  # the header: Babel stamps it with the time of compiling
    assert committed == expected, f"admin.mo no corresponde a admin.po: ejecute {REBUILD}"


def test_every_entry_is_translated_and_keeps_its_placeholders():
    for msgid, plural, singular, plural_es in _entries():
        assert singular and singular != msgid, msgid
        for english, spanish in ((msgid, singular), (plural, plural_es)):
            if english:
                assert set(re.findall(r"%\(\w+\)s", spanish)) <= set(re.findall(r"%\(\w+\)s", english)), msgid


def test_our_catalogue_wins_over_flask_admins(app):
    from flask_admin.babel import gettext, ngettext

    with app.test_request_context("/admin/"):
        for msgid, plural, singular, plural_es in _entries():
            if plural is None:
                assert gettext(msgid) == singular, msgid
            else:
                for n, spanish in ((1, singular), (2, plural_es)):
                    expected = spanish.replace("%(num)d", str(n)).replace("%(count)s", str(n))
                    assert ngettext(msgid, plural, n, count=n) == expected, msgid
        # Flask-Admin's own entries we do not repeat still come through.
        assert gettext("Add Filter") == "Añadir filtro"
        assert gettext("Cancel") == "Cancelar"


def test_every_page_size_option_has_its_spanish_entry(app):
    """Flask-Admin builds the page-size menu's msgid from the number ("50 items"): a new option
    in a view needs its entry in the catalogue."""
    from flask_admin.babel import ngettext

    admin = app.extensions["panel_admin"]
    options = {o for view in admin._views for o in getattr(view, "page_size_options", None) or ()}
    assert options
    with app.test_request_context("/admin/"):
        for option in sorted(options):
            text = ngettext(f"{option} item", f"{option} items", option)
            assert text == f"{option} registros", option


class _Text(HTMLParser):
    """What a person can read or hear on a page: text outside scripts, and the attributes shown as
    text (title, placeholder, aria-label, alt, button values)."""

    SHOWN = ("title", "placeholder", "aria-label", "alt", "data-placeholder")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0
        self.filter_groups = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self.skip += 1
        self.filter_groups = attrs.get("id") == "filter-groups-data"
        self.parts += [attrs[a] for a in self.SHOWN if attrs.get(a)]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if self.skip:
            return
        if self.filter_groups:  # the filter menu's options, written as JSON for Flask-Admin's JS
            groups = json.loads(data)
            data = " ".join(
                f"{f['operation']} " + " ".join(label for _value, label in f["options"] or ())
                for group in groups.values()
                for f in group
            )
            self.filter_groups = False
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_left(text: str) -> list[str]:
    """The msgids of our catalogue (Flask-Admin's English) still present as whole words."""
    found = []
    for msgid, plural, _singular, _plural_es in _entries():
        for english in filter(None, (msgid, plural)):
            pattern = re.escape(english).replace(r"%\(count\)s", r"\d+").replace(r"%\(num\)d", r"\d+")
            pattern = re.sub(r"%\\\(\w+\\\)s", ".*?", pattern)
            if re.search(rf"(?<!\w){pattern}(?!\w)", text):
                found.append(english)
    return found


@pytest.fixture
def rows(tenants):
    """One row of each kind for tenant A, so every list has a row and its links."""
    admin = db.session.get(Usuario, tenants.admin_a.id)
    cliente = factories.cliente(admin, nombre_cliente="Lucía", apellido_cliente="Giraldo")
    factories.empresa(admin, "Transportes Andinos")
    factories.campana(admin, "Temporada")
    factories.vehiculo(cliente, placa="ABC123")
    factories.movimiento(cliente)
    factories.venta(cliente, admin)
    factories.plantilla(admin, "Hola {nombre}", nombre="Saludo")
    return cliente


LISTS = [
    "clientes",
    "empresas",
    "campanas",
    "vehiculos",
    "movimientos",
    "ventas",
    "plantillas-sms",
    "campanas-sms",
    "usuarios",
    "historial",
]


@pytest.mark.parametrize("email", ["admin.a@test.co", "super@test.co"])
def test_main_pages_show_no_catalogue_string_in_english(client, rows, email):
    assert login(client, email).status_code == 302
    pages = ["/admin/"] + [f"/admin/{name}/" for name in LISTS]
    pages += [f"/admin/{name}/new/" for name in LISTS[:7]]
    pages += [
        f"/admin/clientes/edit/?id={rows.id_cliente}",
        f"/admin/clientes/details/?id={rows.id_cliente}",
    ]
    if email.startswith("super"):
        pages += ["/admin/paises/", "/admin/ciudades/", "/admin/paises/new/"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        text = visible_text(response.get_data(as_text=True))
        assert email in text, f"{path}: no es la página de {email}"  # logged in, the page we meant
        assert "Cerrar sesión" in text, path
        assert not english_left(text), f"{path}: {english_left(text)}"


def test_the_list_pages_say_it_in_spanish(client, rows):
    """The strings the issue named, where a person sees them."""
    login(client, "admin.a@test.co")
    text = visible_text(client.get("/admin/usuarios/").get_data(as_text=True))
    assert "Listado (" in text and "20 registros" in text and "Añadir filtro" in text
    assert " Sí " in f" {text} " and "igual a" in text  # the Activo filter's options
    assert not re.search(r"(?<!\w)Si(?!\w)", text)
    text = visible_text(client.get("/admin/clientes/new/").get_data(as_text=True))
    assert "Guardar" in text and "Guardar y añadir otro" in text and "Guardar y continuar editando" in text
    assert "Salvar" not in text
