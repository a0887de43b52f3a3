"""The Clientes list near the floor (issue #19): its statements per page, the cached inexact
count (bounded in age, dropped on a write), the count known from a short page, and the user
load that sets the transaction's tenant in the same statement."""

import contextlib
import re
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import time_machine

from panel import tenancy
from panel.admin.clientes import filtros
from panel.admin.comun import counting
from panel.admin.comun.lista_rapida import counted_from_rows
from panel.extensions import db
from panel.models import Ciudad, Cliente, Departamento, Usuario

from . import factories
from .conftest import own_postgres_database
from .helpers import csrf_of, login
from .support.statements import counts_alone, counts_in, statements

TOTAL = re.compile(r'data-testid="total-clientes">\(([^)]*)\)')


@pytest.fixture
def view(app):
    """The Clientes view, with a count cap of 2 so a handful of rows is a "large" list."""
    found = next(v for v in app.extensions["panel_admin"]._views if getattr(v, "endpoint", "") == "clientes")
    found.count_cap = 2
    counting.INEXACT.clear()
    yield found
    found.count_cap = 10_000
    counting.INEXACT.clear()


@pytest.fixture
def clientes(app, tenants):
    """Three clients of tenant A, one of B."""
    a, b = db.session.get(Usuario, tenants.admin_a.id), db.session.get(Usuario, tenants.admin_b.id)
    for _ in range(3):
        factories.cliente(a)
    factories.cliente(b)
    return tenants


def list_page(client, url="/admin/clientes/") -> str:
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="total-clientes"' in html, html[:500]  # on the Clientes list page
    return html


def _bogota_departamento() -> int:
    return db.session.scalar(sa.select(Departamento.id).where(Departamento.codigo_dane == "11"))


# The clients of the fixture live in Bogotá (ciudad 1, departamento "11"): each filtered page
# below is a large list too. The departamento and ciudad filters (SPEC §16) cost no statement of
# their own: the departamento is a subquery inside the rows' statement, the ciudad's name comes
# from the rows already loaded, their choices from the one UNION of every choice list.
LARGE_PAGES = {
    "página 1": lambda: "/admin/clientes/",
    "departamento": lambda: f"/admin/clientes/?flt0_departamento={_bogota_departamento()}",
    "estado + departamento": lambda: (
        f"/admin/clientes/?flt0_estado=1&flt1_departamento={_bogota_departamento()}"
    ),
    "ciudad": lambda: "/admin/clientes/?flt0_ciudad=1",
}


@pytest.mark.parametrize("page", list(LARGE_PAGES))
@pytest.mark.parametrize("email", ["admin.a@test.co", "super@test.co"])
def test_a_large_lists_page_costs_at_most_three_statements(client, view, clientes, monkeypatch, email, page):
    """User load (with the tenant set in it), the rows, the filters' choice lists: the count of
    a large list comes from the cache after the first page (before: 5 to 7)."""
    factories.cliente(db.session.get(Usuario, clientes.admin_a.id), id_ciudad=2)  # Medellín: filtered out
    login(client, email)
    url = LARGE_PAGES[page]()
    list_page(client, url)  # the first page counts and estimates
    with statements(monkeypatch) as (seen, raw):
        html = list_page(client, url)
    rows = (3 if email.startswith("admin") else 4) + (page == "página 1")
    assert html.count('name="rowid"') == rows, html[-3000:]  # the filter applied
    assert len(seen) <= 3, seen
    assert db.engine.dialect.name != "postgresql" or len(raw) <= 3, raw
    assert counts_in(seen) == 0
    assert TOTAL.search(html).group(1).startswith(("unos ", "más de "))
    # the rows' cities without their departamento, and no empresa or campaña: their names come
    # with the filters' choices
    rows_statement = next(s for s in seen if "JOIN ciudad" in s)
    for table in ("departamento", "empresa", "campana_publicitaria"):
        assert f"JOIN {table}" not in rows_statement, rows_statement


def test_the_rows_statement_writes_its_limit_offset_and_count_cap_as_numbers(
    client, view, clientes, monkeypatch
):
    """A page's LIMIT and OFFSET, and the folded count's cap, are numbers in the SQL, not
    parameters: PostgreSQL can then keep one plan for the page's prepared statement (a plan for
    an unknown LIMIT does not suit 20 rows, and it planned again on every page)."""
    login(client, "admin.a@test.co")
    for url, shown, limits in (
        ("/admin/clientes/", 3, "LIMIT 20"),
        ("/admin/clientes/?page=1", 0, "LIMIT 20 OFFSET 20"),
    ):
        with statements(monkeypatch) as (seen, _raw):
            html = list_page(client, url)
        assert html.count('name="rowid"') == shown, html[-2000:]  # tenant A's 3 clients, on page 1
        rows = next(s for s in seen if s.startswith("SELECT cliente."))
        assert re.search(limits + r"( OFFSET \?)?$", rows.rstrip()), rows  # SQLite writes "OFFSET ?" for none
        if db.engine.dialect.name == "postgresql":
            assert not re.search(r"(LIMIT|OFFSET) %\(", rows), rows
    with statements(monkeypatch) as (seen, _raw):
        list_page(client, "/admin/clientes/?flt0_estado=1")  # a filter not counted yet: folded in
    folded = next(s for s in seen if s.startswith("SELECT cliente."))
    assert re.search(r"LIMIT 3( OFFSET \?)?\)", folded), folded  # the folded count: cap + 1 rows at most


@pytest.mark.parametrize("email", ["admin.a@test.co", "super@test.co"])
def test_a_clients_empresa_and_campana_are_named_from_the_filters_choices(client, clientes, email):
    owner = db.session.get(Usuario, clientes.admin_a.id)
    empresa, campana = factories.empresa(owner, "Acme Ltda"), factories.campana(owner, "Verano 2026")
    factories.cliente(owner, nombre_cliente="Conempresa", id_empresa=empresa.id, id_campana=campana.id)
    login(client, email)
    html = list_page(client)
    row = re.search(r"<tr>(?:(?!</tr>).)*Conempresa(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert '<td class="col-empresa">Acme Ltda</td>' in row
    assert '<td class="col-campana">Verano 2026</td>' in row
    assert html.count('<td class="col-empresa"></td>') == html.count('name="rowid"') - 1  # the others: none


@pytest.mark.parametrize("url", ["/admin/clientes/", "/admin/clientes/?search=Nombre"])
def test_a_short_page_is_counted_from_its_rows(client, clientes, monkeypatch, url):
    """Three rows on a page of 20: the count is 3 with no count statement of its own, as the
    capped count says (the rows' statement carries the count, unused: the page is the end)."""
    counting.INEXACT.clear()
    login(client, "admin.a@test.co")
    list_page(client)
    with statements(monkeypatch) as (seen, raw):
        html = list_page(client, url)
    assert counts_alone(seen) == 0 and len(seen) <= 3, seen
    assert db.engine.dialect.name != "postgresql" or len(raw) <= 3, raw
    with tenancy.using(clientes.admin_a.id):
        flask_admins = db.session.query(sa.func.count("*")).select_from(Cliente)  # its get_count_query
        counted = counting.CappedCount(flask_admins, 10_000).scalar()
    assert TOTAL.search(html).group(1) == str(counted) == "3"


def test_a_page_past_the_end_still_counts(client, clientes):
    """An empty page after the first says nothing about the length: the count runs."""
    login(client, "admin.a@test.co")
    html = list_page(client, "/admin/clientes/?page=5")
    assert TOTAL.search(html).group(1) == "3"


@pytest.mark.parametrize(
    ("rows", "page", "size", "known"),
    [(3, 0, 20, 3), (0, 0, 20, 0), (20, 0, 20, None), (5, 2, 20, 45), (0, 2, 20, None), (7, 0, 0, 7)],
)
def test_the_count_known_from_a_page(rows, page, size, known):
    assert counted_from_rows(rows, page, size) == known


@contextmanager
def clock_at_now():
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


def test_the_cached_estimate_expires(client, view, clientes, monkeypatch):
    with clock_at_now() as traveller:
        login(client, "admin.a@test.co")
        list_page(client)
        traveller.shift(counting.ESTIMATE_TTL.total_seconds() - 1)
        with statements(monkeypatch) as (seen, _):
            list_page(client)
        assert counts_in(seen) == 0, seen  # still fresh
        traveller.shift(1)
        with statements(monkeypatch) as (seen, _):
            list_page(client)
        assert counts_in(seen) >= 1, seen  # as old as ESTIMATE_TTL: counted again


def test_a_write_to_the_table_drops_the_cached_count(client, view, clientes, monkeypatch):
    login(client, "admin.a@test.co")
    list_page(client)
    with statements(monkeypatch) as (seen, _):
        list_page(client)
    assert counts_in(seen) == 0  # cached
    factories.cliente(db.session.get(Usuario, clientes.admin_a.id))  # an INSERT INTO cliente
    with statements(monkeypatch) as (seen, _):
        html = list_page(client)
    assert counts_in(seen) >= 1, seen  # counted again
    assert TOTAL.search(html).group(1).startswith(("unos ", "más de "))


def test_a_delete_shows_the_exact_count_at_once(client, view, clientes):
    """Deleting rows below the cap: the next page says the exact number, not the cached "large" one."""
    login(client, "admin.a@test.co")
    assert TOTAL.search(list_page(client)).group(1).startswith(("unos ", "más de "))
    with tenancy.using(clientes.admin_a.id):
        doomed = db.session.scalars(sa.select(Cliente.id_cliente).limit(2)).all()
        db.session.execute(sa.delete(Cliente).where(Cliente.id_cliente.in_(doomed)))
        db.session.commit()
    assert TOTAL.search(list_page(client)).group(1) == "1"


def test_the_cache_is_per_tenant(client, view, clientes):
    """Tenant B (one client) never sees tenant A's cached "large" count."""
    login(client, "admin.a@test.co")
    assert TOTAL.search(list_page(client)).group(1).startswith(("unos ", "más de "))
    other = type(client)(client.application)
    login(other, "admin.b@test.co")
    assert TOTAL.search(list_page(other)).group(1) == "1"


@pytest.mark.parametrize("who", ["superadmin", "admin_a", "vendedor_a", "cliente_a", "admin_b"])
def test_the_user_loads_setting_is_the_scopes(app, tenants, who):
    """The SQL of the user load gives the same ``app.tenant`` as scope_for on the loaded user."""
    account = getattr(tenants, who)
    setting = db.session.scalar(sa.select(tenancy.pg_setting_of_user()).where(Usuario.id == account.id))
    user = db.session.get(Usuario, account.id)
    assert setting == tenancy.pg_setting(tenancy.scope_for(user))


def test_the_cache_is_per_filter_value(client, view, clientes):
    """A filter's value is part of the cached statement: estado 0 is not estado 1's "large" count."""
    login(client, "admin.a@test.co")
    estado = db.session.scalar(sa.select(Cliente.estado).where(Cliente.id_propietario == clientes.admin_a.id))
    large = TOTAL.search(list_page(client, f"/admin/clientes/?flt0_estado={estado}")).group(1)
    assert large.startswith(("unos ", "más de "))
    other = 2 if estado != 2 else 0
    assert TOTAL.search(list_page(client, f"/admin/clientes/?flt0_estado={other}")).group(1) == "0"


def test_a_list_page_builds_no_delete_form_and_deletes_still_validate(client, app, clientes, monkeypatch):
    """Flask-Admin's delete form is for row buttons we do not use (ours link to the
    confirmation page): the list page skips it; the POST that deletes still checks its CSRF."""
    from flask_admin.model.base import BaseModelView

    built = []
    original = BaseModelView.delete_form
    monkeypatch.setattr(BaseModelView, "delete_form", lambda self: built.append(1) or original(self))
    login(client, "admin.a@test.co")
    html = list_page(client)
    assert built == [] and "/admin/clientes/delete/?id=" in html  # the row's delete link is there
    pk = db.session.scalar(sa.select(Cliente.id_cliente).where(Cliente.id_propietario == clientes.admin_a.id))
    answer = client.post("/admin/clientes/delete/", data={"id": pk, "csrf_token": csrf_of(client)})
    assert answer.status_code == 302 and built == [1]  # the delete built and validated its form
    db.session.expire_all()
    assert db.session.get(Cliente, pk) is None


def test_a_clientes_list_page_builds_no_action_form_and_actions_still_validate(client, clientes, monkeypatch):
    """The Clientes list prints its own actions' form: the page skips Flask-Admin's; the POST
    that runs an action still builds and validates it (and a missing CSRF token is refused)."""
    from flask_admin.model.base import BaseModelView

    built = []
    original = BaseModelView.action_form
    counted = lambda self, obj=None: built.append(1) or original(self, obj)  # noqa: E731
    monkeypatch.setattr(BaseModelView, "action_form", counted)
    login(client, "admin.a@test.co")
    html = list_page(client)
    assert built == [] and 'id="action_form"' in html and 'name="csrf_token"' in html  # its own form
    pk = db.session.scalar(sa.select(Cliente.id_cliente).where(Cliente.id_propietario == clientes.admin_a.id))
    refused = client.post("/admin/clientes/action/", data={"action": "desactivar", "rowid": pk})
    assert refused.status_code == 400  # no token: refused, nothing done
    assert db.session.scalar(sa.select(Cliente.estado).where(Cliente.id_cliente == pk)) == 1
    done = client.post(
        "/admin/clientes/action/", data={"action": "desactivar", "rowid": pk, "csrf_token": csrf_of(client)}
    )
    assert done.status_code == 302 and built == [1]  # the action built its form
    db.session.expire_all()
    assert db.session.scalar(sa.select(Cliente.estado).where(Cliente.id_cliente == pk)) == 0


def test_the_departamento_filter_writes_its_municipios_ids_into_the_rows_statement(
    client, view, clientes, monkeypatch
):
    """The filter's municipios come with the choice lists' one statement and are written into
    the rows' statement as ids: PostgreSQL then estimates a departamento's share of clients from
    id_ciudad's statistics (a subquery hid it, and a small departamento's page 1 scanned the
    whole table backwards at 1,000,000 clients)."""
    login(client, "admin.a@test.co")
    cundinamarca = db.session.scalar(sa.select(Departamento.id).where(Departamento.codigo_dane == "25"))
    municipios = db.session.scalar(
        sa.select(sa.func.count()).select_from(Ciudad).where(Ciudad.id_departamento == cundinamarca)
    )
    factories.cliente(db.session.get(Usuario, clientes.admin_a.id), id_ciudad=_city("25754"))  # Soacha
    url = f"/admin/clientes/?flt0_departamento={cundinamarca}"
    with statements(monkeypatch) as (seen, _raw):
        html = list_page(client, url)
    assert html.count('name="rowid"') == 1  # Soacha's client only, not Bogotá's three
    rows = next(s for s in seen if s.startswith("SELECT cliente."))
    assert "FROM ciudad" not in rows.split("FROM cliente", 1)[1], rows  # no subquery
    written = re.search(r"cliente\.id_ciudad IN \(([\d, ]+)\)", rows)  # as literals: short SQL
    ids = set(db.session.scalars(sa.select(Ciudad.id).where(Ciudad.id_departamento == cundinamarca)))
    assert written and {int(i) for i in written.group(1).split(", ")} == ids, rows
    assert municipios == len(ids) == 116
    # In ascending order, and written once: the next page reuses the condition (no literal
    # rendered again at each execution) and sends the very same SQL (the driver's parsed form).
    assert [int(i) for i in written.group(1).split(", ")] == sorted(ids)
    reused = filtros._in_municipios.cache_info().hits
    with statements(monkeypatch) as (again, _raw):
        assert list_page(client, url).count('name="rowid"') == 1
    assert filtros._in_municipios.cache_info().hits > reused
    assert next(s for s in again if s.startswith("SELECT cliente.")) == rows


def _city(codigo: str) -> int:
    return db.session.scalar(sa.select(Ciudad.id).where(Ciudad.codigo_dane == codigo))


def test_postgresql_samples_id_ciudad_finely(database_url):
    """Migration 0025: the statistics that tell a departamento of a handful of clients from one
    of half a million. SQLite has no such setting: in the SQLite pass this runs against a migrated
    database of its own on the local PostgreSQL, so it is never skipped."""
    sql = "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'cliente'::regclass AND attname = :a"
    with contextlib.ExitStack() as stack:
        url = database_url
        if not url.startswith("postgres"):
            url = stack.enter_context(own_postgres_database("panel_estadisticas"))
        engine = sa.create_engine(url)
        stack.callback(engine.dispose)
        with engine.connect() as conn:
            target = conn.scalar(sa.text(sql), {"a": "id_ciudad"})
    assert target == 3000
