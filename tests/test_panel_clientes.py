"""The Clientes list, details and forms: columns, search, filters, N+1, bad input."""

import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from panel.admin.clientes.filtros import matching_clientes
from panel.extensions import db
from panel.models import CampanaSMS, Cliente, SMSLog, Usuario

from . import factories
from .helpers import csrf_from, login


def _user(account):
    return db.session.get(Usuario, account.id)


@pytest.fixture
def data(app, tenants):
    a, b = _user(tenants.admin_a), _user(tenants.admin_b)
    emp = factories.empresa(a, "Acme")
    cam = factories.campana(a, "Verano")
    factories.empresa(b, "Empresa de B")
    ana = factories.cliente(
        a, nombre_cliente="Ana", apellido_cliente="Rojas", id_empresa=emp.id, id_campana=cam.id
    )
    luis = factories.cliente(a, nombre_cliente="Luis", estado=0, id_ciudad=2, id_pais=1)
    beto = factories.cliente(b, nombre_cliente="Ana", apellido_cliente="DeB")
    return dict(ana=ana.id_cliente, luis=luis.id_cliente, beto=beto.id_cliente, emp=emp.id, cam=cam.id)


def _names(html: str) -> set[str]:
    return set(re.findall(r'<td class="col-nombre_cliente">\s*(\S+)\s*</td>', html))


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", {"Ana", "Luis"}),
        ("?search=rojas", {"Ana"}),
        ("?search=ANA", {"Ana"}),
        ("?flt0_estado=0", {"Luis"}),
        ("?flt0_estado=1&flt1_empresa={emp}", {"Ana"}),
        ("?flt0_campana={cam}", {"Ana"}),
        ("?flt0_ciudad=2", {"Luis"}),
        ("?flt0_pais=1", {"Ana", "Luis"}),
        ("?flt0_creado_desde=2000-01-01", {"Ana", "Luis"}),
        ("?flt0_creado_hasta=2000-01-01", set()),
    ],
)
def test_search_and_filters(client, data, query, expected):
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/" + query.format(**data)).get_data(as_text=True)
    assert _names(html) == expected


@pytest.mark.parametrize(
    "query",
    [
        "?flt0_estado=abc",
        "?flt0_empresa=99999999999999999999999",
        "?flt0_creado_desde=ayer",
        "?flt0_creado_hasta=9999-12-31",
        "?flt0_desconocido=1",
        "?page=999",
        "?page=-5",
        "?page=99999999999999999999999&page_size=100",  # written into the SQL as a number: clamped first
        "?page_size=7",
        "?sort=99",
        "?sort=abc&desc=x",
        "?search=" + "%_" * 300,
    ],
)
def test_bad_list_input_never_500(client, data, query):
    login(client, "admin.a@test.co")
    assert client.get("/admin/clientes/" + query).status_code == 200


def test_other_tenants_empresa_in_a_filter_gives_an_empty_list(client, data, tenants):
    other = db.session.scalar(
        sa.select(factories.Empresa.id).where(factories.Empresa.nombre == "Empresa de B")
    )
    login(client, "admin.a@test.co")
    assert _names(client.get(f"/admin/clientes/?flt0_empresa={other}").get_data(as_text=True)) == set()


def test_filter_choices_are_the_tenants_own(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/").get_data(as_text=True)
    raw = re.search(r'id="filter-groups-data" class="d-none">(.*?)</div>', html, re.S).group(1)
    groups = {
        name: [label for _, label in items[0]["options"] or []] for name, items in json.loads(raw).items()
    }
    assert groups["Empresa"] == ["Acme"] and groups["Campaña"] == ["Verano"]
    assert "Inactivo" in groups["Estado"] and "Antioquia" in groups["Departamento"]
    assert groups["Ciudad"] == []  # 1,123 municipios: searched as you type, never in the page


@pytest.mark.parametrize("page_size", [20, 100])
def test_list_statements_are_bounded_whatever_the_page_size(client, app, tenants, page_size):
    a = _user(tenants.admin_a)
    emp = factories.empresa(a)
    cam = factories.campana(a)
    for _ in range(page_size):
        factories.cliente(a, id_empresa=emp.id, id_campana=cam.id)
    login(client, "admin.a@test.co")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        html = client.get(f"/admin/clientes/?page_size={page_size}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(_names(html)) == page_size
    # the user, the capped count, the page (with the related names), the filter choice lists
    assert len(statements) <= 4, statements


def test_details_show_what_hangs_from_the_client(client, data, tenants):
    ana = db.session.get(Cliente, data["ana"])
    factories.vehiculo(ana, "XYZ123")
    factories.movimiento(ana, "ingreso", "1000.00")
    factories.movimiento(ana, "egreso", "250.50")
    factories.venta(ana, _user(tenants.vendedor_a), "777.00")
    campana = CampanaSMS(
        nombre="Promo", mensaje="Hola", id_usuario=tenants.admin_a.id, id_propietario=tenants.admin_a.id
    )
    db.session.add(campana)
    db.session.flush()
    db.session.add(
        SMSLog(
            id_campana=campana.id,
            id_cliente=ana.id_cliente,
            mensaje="Hola Ana",
            estado="enviado",
            id_propietario=tenants.admin_a.id,
        )
    )
    db.session.commit()
    login(client, "vendedor.a@test.co")
    html = client.get(f"/admin/clientes/details/?id={data['ana']}").get_data(as_text=True)
    assert "XYZ123" in html and "$ 777" in html and "Hola Ana" in html and "Promo" in html
    assert 'data-testid="balance">$ 749,50<' in html


def _form(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return csrf_from(page.data)


def _cliente_fields(**over):
    fields = dict(
        cedula_cliente="123456",
        nombre_cliente="Nueva",
        apellido_cliente="Persona",
        telefono="3001234567",
        email="nueva@example.com",
        id_pais="1",
        id_ciudad="1",
        estado="1",
        genero="0",
    )
    fields.update(over)
    return fields


def test_admin_creates_a_client_stamped_with_its_tenant_whatever_the_post_says(client, data, tenants):
    login(client, "admin.a@test.co")
    token = _form(client, "/admin/clientes/new/")
    response = client.post(
        "/admin/clientes/new/",
        data=_cliente_fields(csrf_token=token, id_propietario=str(tenants.admin_b.id), creado="2001-01-01"),
    )
    assert response.status_code == 302
    nueva = db.session.scalar(sa.select(Cliente).where(Cliente.cedula_cliente == "123456"))
    assert nueva.id_propietario == tenants.admin_a.id and nueva.creado.year > 2001


@pytest.mark.parametrize(
    "over,message",
    [
        ({"cedula_cliente": "12ab"}, "La cédula solo puede tener dígitos."),
        ({"nombre_cliente": "x" * 21}, "Máximo 20 caracteres."),
        ({"email": "no-es-correo"}, "Correo electrónico no válido."),
        ({"telefono": "12"}, "Teléfono no válido"),
        ({"fecha_nacimiento": "2999-01-01"}, "La fecha de nacimiento debe estar en el pasado."),
        ({"id_ciudad": "21"}, "La ciudad no pertenece al país elegido."),
        ({"id_empresa": "{emp_b}"}, "No es una opción válida."),
    ],
)
def test_bad_client_input_is_explained_and_nothing_is_saved(client, data, over, message):
    emp_b = db.session.scalar(
        sa.select(factories.Empresa.id).where(factories.Empresa.nombre == "Empresa de B")
    )
    over = {k: v.format(emp_b=emp_b) for k, v in over.items()}
    login(client, "admin.a@test.co")
    token = _form(client, "/admin/clientes/new/")
    response = client.post("/admin/clientes/new/", data=_cliente_fields(csrf_token=token, **over))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cliente)) == 3


def test_a_cedula_of_another_tenant_is_not_a_duplicate(client, data):
    beto = db.session.get(Cliente, data["beto"])
    login(client, "admin.a@test.co")
    token = _form(client, "/admin/clientes/new/")
    response = client.post(
        "/admin/clientes/new/", data=_cliente_fields(csrf_token=token, cedula_cliente=beto.cedula_cliente)
    )
    assert response.status_code == 302


def test_edit_keeps_owner_and_creation_date(client, data, tenants):
    ana = db.session.get(Cliente, data["ana"])
    creado = ana.creado
    login(client, "admin.a@test.co")
    token = _form(client, f"/admin/clientes/edit/?id={data['ana']}")
    fields = _cliente_fields(csrf_token=token, cedula_cliente=ana.cedula_cliente, nombre_cliente="Anita")
    fields.update(id_propietario=str(tenants.admin_b.id), creado="2001-01-01")
    assert client.post(f"/admin/clientes/edit/?id={data['ana']}", data=fields).status_code == 302
    db.session.expire_all()
    ana = db.session.get(Cliente, data["ana"])
    assert ana.nombre_cliente == "Anita" and ana.id_propietario == tenants.admin_a.id and ana.creado == creado


def test_superadmin_picks_the_owner_and_the_empresa_must_be_that_owners(client, data, tenants):
    login(client, "super@test.co")
    token = _form(client, "/admin/clientes/new/")
    bad = _cliente_fields(csrf_token=token, propietario=str(tenants.admin_b.id), id_empresa=str(data["emp"]))
    response = client.post("/admin/clientes/new/", data=bad)
    # Written under tenancy.using(owner): the other tenant's empresa is not even a choice.
    assert response.status_code == 200 and "No es una opción válida." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).where(Cliente.cedula_cliente == "555")) == 0
    good = _cliente_fields(csrf_token=token, propietario=str(tenants.admin_b.id), cedula_cliente="555")
    assert client.post("/admin/clientes/new/", data=good).status_code == 302
    assert (
        db.session.scalar(sa.select(Cliente.id_propietario).where(Cliente.cedula_cliente == "555"))
        == tenants.admin_b.id
    )


def test_protected_delete_names_what_blocks_it(client, data, tenants):
    ana = db.session.get(Cliente, data["ana"])
    factories.vehiculo(ana)
    factories.vehiculo(ana)
    factories.venta(ana, _user(tenants.admin_a))
    login(client, "admin.a@test.co")
    token = _form(client, "/admin/clientes/")
    response = client.post(
        "/admin/clientes/delete/", data={"id": data["ana"], "csrf_token": token}, follow_redirects=True
    )
    assert "No se puede eliminar: tiene 2 vehículos y 1 venta." in response.get_data(as_text=True)
    assert db.session.get(Cliente, data["ana"]) is not None
    response = client.post("/admin/clientes/delete/", data={"id": data["luis"], "csrf_token": token})
    assert response.status_code == 302 and db.session.get(Cliente, data["luis"]) is None


def test_matching_clientes_applies_search_and_filters_in_the_users_tenant(client, data, app):
    login(client, "admin.a@test.co")
    with app.test_request_context():
        from flask import g
        from flask_login import login_user

        from panel import tenancy

        login_user(
            db.session.get(
                Usuario,
                data and db.session.scalar(sa.select(Usuario.id).where(Usuario.email == "admin.a@test.co")),
            )
        )
        g.tenant_scope = tenancy.scope_for(
            db.session.get(
                Usuario, db.session.scalar(sa.select(Usuario.id).where(Usuario.email == "admin.a@test.co"))
            )
        )
        names = lambda q: {c.nombre_cliente for c in db.session.scalars(matching_clientes(q))}  # noqa: E731
        assert names("search=ana") == {"Ana"}
        assert names("flt0_estado=0") == {"Luis"}
        assert names("") == {"Ana", "Luis"}
        assert names("flt0_estado=zz&flt1_nada=3&search=") == {"Ana", "Luis"}
        assert names(f"flt0_empresa={data['emp']}&search=rojas") == {"Ana"}


def test_a_deep_page_shows_the_same_rows_as_plain_offset_and_only_the_tenants(client, app, tenants):
    """Past DEEP_OFFSET the page is fetched by its keys first; it must be the very same page."""
    from panel.admin.clientes import lista as view_module

    a, b = _user(tenants.admin_a), _user(tenants.admin_b)
    for i in range(30):
        factories.cliente(a, nombre_cliente=f"A{i:02d}")
        factories.cliente(b, nombre_cliente=f"B{i:02d}")  # interleaved ids of another tenant
    login(client, "admin.a@test.co")
    url = "/admin/clientes/?page_size=20&page=1"
    plain = _names(client.get(url).get_data(as_text=True))
    deep, view_module.DEEP_OFFSET = view_module.DEEP_OFFSET, 1
    try:
        deferred = _names(client.get(url).get_data(as_text=True))
        sorted_deep = _names(client.get(url + "&sort=1&desc=1").get_data(as_text=True))
    finally:
        view_module.DEEP_OFFSET = deep
    assert deferred == plain and len(plain) == 10 and all(n.startswith("A") for n in plain)
    assert sorted_deep == {f"A{i:02d}" for i in range(10)}  # by nombre descending: page 1 is A09…A00


def test_an_11_digit_cedula_is_refused_not_cut_and_dots_are_normalised(client, tenants):
    login(client, "admin.a@test.co")
    page = client.get("/admin/clientes/new/")
    assert page.status_code == 200
    field = re.search(r'<input[^>]*name="cedula_cliente"[^>]*>', page.get_data(as_text=True)).group(0)
    assert "maxlength" not in field  # the browser would cut a pasted cédula silently
    token = csrf_from(page.data)
    refused = client.post(
        "/admin/clientes/new/", data=_cliente_fields(csrf_token=token, cedula_cliente="12345678901")
    )
    assert refused.status_code == 200 and "La cédula tiene como máximo 10 dígitos." in refused.get_data(
        as_text=True
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cliente)) == 0
    saved = client.post(
        "/admin/clientes/new/", data=_cliente_fields(csrf_token=token, cedula_cliente="1.020. 304")
    )
    assert saved.status_code == 302
    assert db.session.scalars(sa.select(Cliente.cedula_cliente)).all() == ["1020304"]
