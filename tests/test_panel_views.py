"""The panel's model views: who gets in, what each role may do, another tenant's row is 404."""

import re

import pytest

from panel.extensions import db
from panel.models import Cliente, Empresa

from . import factories
from .helpers import csrf_of, login

VIEWS = ["clientes", "empresas", "campanas", "vehiculos", "movimientos", "ventas", "usuarios", "historial"]
CATALOGOS = ["paises", "departamentos", "ciudades"]  # admins read them, the superadmin changes them


def owner(account):
    return db.session.get(factories.Usuario, account.id) if hasattr(factories, "Usuario") else None


@pytest.fixture
def data(app, tenants):
    """One client of each tenant, with an empresa and campaign; and a vehículo for A's."""
    from panel.models import Usuario

    a, b = db.session.get(Usuario, tenants.admin_a.id), db.session.get(Usuario, tenants.admin_b.id)
    emp_a, emp_b = factories.empresa(a, "Empresa A"), factories.empresa(b, "Empresa B")
    cam_a = factories.campana(a, "Campaña A")
    ca = factories.cliente(a, nombre_cliente="Ana", id_empresa=emp_a.id, id_campana=cam_a.id)
    cb = factories.cliente(b, nombre_cliente="Beto", id_empresa=emp_b.id)
    return dict(a=ca.id_cliente, b=cb.id_cliente, emp_a=emp_a.id, emp_b=emp_b.id, cam_a=cam_a.id, t=tenants)


@pytest.mark.parametrize("view", VIEWS + CATALOGOS)
def test_superadmin_opens_every_list(client, data, view):
    login(client, "super@test.co")
    response = client.get(f"/admin/{view}/")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]


@pytest.mark.parametrize("view", VIEWS)
def test_admin_opens_its_lists(client, data, view):
    login(client, "admin.a@test.co")
    assert client.get(f"/admin/{view}/").status_code == 200


@pytest.mark.parametrize("view", CATALOGOS)
def test_admin_reads_but_may_not_change_the_catalogos(client, data, view):
    login(client, "admin.a@test.co")
    assert client.get(f"/admin/{view}/").status_code == 200
    assert client.get(f"/admin/{view}/new/").status_code == 403
    assert client.get(f"/admin/{view}/edit/?id=1").status_code == 403


@pytest.mark.parametrize("view", [v for v in VIEWS + CATALOGOS if v != "clientes"])
def test_vendedor_only_sees_clientes(client, data, view):
    login(client, "vendedor.a@test.co")
    assert client.get("/admin/clientes/").status_code == 200
    assert client.get(f"/admin/{view}/").status_code == 403


def test_anonymous_goes_to_login(client, data):
    response = client.get("/admin/clientes/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_clientes_list_shows_only_the_tenants_rows(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/").get_data(as_text=True)
    assert "Ana" in html and "Beto" not in html
    assert "Empresa A" in html and "Campaña A" in html and "Bogotá" in html
    assert 'class="badge badge-estado-1"' in html


@pytest.mark.parametrize("path", ["details", "edit"])
def test_another_tenants_client_is_404_like_a_missing_one(client, data, path):
    login(client, "admin.a@test.co")
    assert client.get(f"/admin/clientes/{path}/?id={data['a']}").status_code == 200
    assert client.get(f"/admin/clientes/{path}/?id={data['b']}").status_code == 404
    assert client.get(f"/admin/clientes/{path}/?id=999999").status_code == 404
    assert client.get(f"/admin/clientes/{path}/?id=abc").status_code == 404


def test_deleting_another_tenants_client_is_404_and_keeps_it(client, data):
    login(client, "admin.a@test.co")
    token = csrf_of(client)
    response = client.post("/admin/clientes/delete/", data={"id": data["b"], "csrf_token": token})
    assert response.status_code == 404
    assert db.session.get(Cliente, data["b"]) is not None


def test_editing_another_tenants_empresa_is_404(client, data):
    login(client, "admin.a@test.co")
    token = csrf_of(client)
    response = client.post(
        f"/admin/empresas/edit/?id={data['emp_b']}", data={"nombre": "Robada", "csrf_token": token}
    )
    assert response.status_code == 404
    assert db.session.get(Empresa, data["emp_b"]).nombre == "Empresa B"


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/admin/clientes/new/"),
        ("get", "/admin/clientes/edit/?id={a}"),
        ("post", "/admin/clientes/delete/"),
        ("get", "/admin/clientes/exportar/csv/"),
        ("get", "/admin/clientes/export/csv/"),
    ],
)
def test_vendedor_is_refused_writes_and_export_with_403(client, data, method, path):
    login(client, "vendedor.a@test.co")
    token = csrf_of(client)
    url = path.format(a=data["a"])
    response = getattr(client, method)(
        url, data={"id": data["a"], "csrf_token": token} if method == "post" else None
    )
    assert response.status_code == 403
    assert db.session.get(Cliente, data["a"]) is not None


def test_vendedor_list_has_no_create_edit_delete_or_export(client, data):
    login(client, "vendedor.a@test.co")
    html = client.get("/admin/clientes/").get_data(as_text=True)
    assert "/admin/clientes/new/" not in html
    assert "/admin/clientes/edit/" not in html
    assert "/admin/clientes/delete/" not in html
    assert "exportar" not in html
    assert "Enviar SMS" in html and "Activar" not in html


@pytest.mark.parametrize("action", ["activar", "eliminar", "inscribir"])
def test_vendedor_may_not_run_write_actions(client, data, action):
    login(client, "vendedor.a@test.co")
    token = csrf_of(client)
    response = client.post(
        "/admin/clientes/action/", data={"action": action, "rowid": data["a"], "csrf_token": token}
    )
    assert response.status_code == 403


def test_a_large_list_says_more_than_the_cap_instead_of_counting_everything(client, app, data):
    from panel.models import Usuario

    view = next(v for v in app.extensions["panel_admin"]._views if getattr(v, "endpoint", "") == "clientes")
    a = db.session.get(Usuario, data["t"].admin_a.id)
    for _ in range(3):
        factories.cliente(a)
    view.count_cap = 2
    try:
        login(client, "admin.a@test.co")
        html = client.get("/admin/clientes/").get_data(as_text=True)
    finally:
        view.count_cap = 10_000
    total = re.search(r'data-testid="total-clientes">\(([^)]*)\)', html).group(1)
    if db.engine.dialect.name == "sqlite":
        assert total == "más de 2"
    else:  # PostgreSQL: the planner's estimate, never less than what was counted
        assert re.fullmatch(r"unos [\d.]+", total) and int(total[5:].replace(".", "")) >= 3, total


def test_superadmin_creating_an_empresa_picks_its_owner(client, data):
    login(client, "super@test.co")
    page = client.get("/admin/empresas/new/")
    assert "Propietario (administrador)" in page.get_data(as_text=True)
    token = csrf_of(client)
    response = client.post(
        "/admin/empresas/new/",
        data={"nombre": "De B", "propietario": data["t"].admin_b.id, "csrf_token": token},
    )
    assert response.status_code == 302
    assert db.session.query(Empresa).filter_by(nombre="De B").one().id_propietario == data["t"].admin_b.id


def test_superadmin_selling_for_a_client_chooses_among_that_clients_tenant_only(client, data):
    """A superadmin's new venta is written under the chosen client's tenant (tenancy.using):
    another tenant's vendedor is not a valid choice, the tenant's own is."""
    from panel.models import Venta

    login(client, "super@test.co")
    assert "Vendedor" in client.get("/admin/ventas/new/").get_data(as_text=True)
    token = csrf_of(client)
    fields = {"cliente": data["a"], "total": "1000", "descripcion": "x", "csrf_token": token}
    refused = client.post("/admin/ventas/new/", data={**fields, "vendedor": data["t"].vendedor_b.id})
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    assert db.session.query(Venta).count() == 0
    accepted = client.post("/admin/ventas/new/", data={**fields, "vendedor": data["t"].vendedor_a.id})
    assert accepted.status_code == 302
    venta = db.session.query(Venta).one()
    assert venta.id_vendedor == data["t"].vendedor_a.id and venta.id_propietario == data["t"].admin_a.id


def test_superadmin_editing_a_row_works_within_its_tenant(client, data):
    login(client, "super@test.co")
    page = client.get(f"/admin/clientes/edit/?id={data['a']}").get_data(as_text=True)
    assert "Empresa A" in page and "Empresa B" not in page


def test_admin_manages_only_the_accounts_it_created(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/usuarios/").get_data(as_text=True)
    assert "vendedor.a@test.co" in html and "vendedor.b@test.co" not in html and "super@test.co" not in html
    assert client.get(f"/admin/usuarios/edit/?id={data['t'].vendedor_a.id}").status_code == 200
    assert client.get(f"/admin/usuarios/edit/?id={data['t'].admin_a.id}").status_code == 403
    assert client.get(f"/admin/usuarios/edit/?id={data['t'].vendedor_b.id}").status_code == 404


def test_admin_cannot_create_an_admin(client, data):
    login(client, "admin.a@test.co")
    token = csrf_of(client)
    fields = {"email": "otro@test.co", "rol": "admin", "password": "clave-larga-1", "csrf_token": token}
    response = client.post("/admin/usuarios/new/", data=fields)
    assert response.status_code == 200 and "No es una opción válida." in response.get_data(as_text=True)


def test_a_forged_client_in_a_vehiculo_form_is_refused(client, data):
    from panel.models import Vehiculo

    login(client, "admin.a@test.co")
    token = csrf_of(client)
    response = client.post(
        "/admin/vehiculos/new/", data={"cliente": data["b"], "placa": "AAA111", "csrf_token": token}
    )
    assert response.status_code == 200
    assert db.session.query(Vehiculo).count() == 0


def test_bulk_delete_of_empresas_deletes_own_rows_and_ignores_forged_ids(client, data):
    """Flask-Admin's default bulk delete, on PostgreSQL too (it binds the rowids as strings)."""
    from panel.models import Usuario

    spare = factories.empresa(db.session.get(Usuario, data["t"].admin_a.id), "Sobrante").id
    login(client, "admin.a@test.co")
    token = csrf_of(client)
    response = client.post(
        "/admin/empresas/action/",
        data={"action": "delete", "rowid": [spare, data["emp_b"], "x1"], "csrf_token": token},
    )
    assert response.status_code == 302
    assert db.session.get(Empresa, spare) is None
    assert db.session.get(Empresa, data["emp_b"]) is not None


@pytest.mark.parametrize("url", ["/admin/clientes/\r\nSet-Cookie: x=1", "/admin/\n", "\x00"])
def test_a_return_url_with_control_characters_is_a_400_not_a_500(client, data, url):
    login(client, "admin.a@test.co")
    token = csrf_of(client)
    response = client.post(
        "/admin/clientes/action/",
        data={"action": "activar", "rowid": data["a"], "url": url, "csrf_token": token},
    )
    assert response.status_code == 400
    assert "Set-Cookie" not in str(response.headers.get("Location"))


@pytest.mark.parametrize("forged", ["2024-02-30", "99999999999999999999", "-1", "²"])
def test_a_malformed_client_in_an_ajax_relation_is_refused_not_a_500(client, data, forged):
    from panel.models import Vehiculo

    login(client, "admin.a@test.co")
    token = csrf_of(client)
    response = client.post(
        "/admin/vehiculos/new/", data={"cliente": forged, "placa": "AAA111", "csrf_token": token}
    )
    assert response.status_code == 200
    assert db.session.query(Vehiculo).count() == 0


@pytest.mark.parametrize(
    "view,fields,message",
    [
        ("vehiculos", {"placa": "ABC123", "anio": "99999999999"}, "El año debe estar entre 1900 y 2100."),
        ("movimientos", {"tipo": "ingreso", "monto": "10000000000000"}, "El monto debe estar entre 0,01 y"),
        ("movimientos", {"tipo": "ingreso", "monto": "-5"}, "El monto debe estar entre 0,01 y"),
        ("ventas", {"total": "-1"}, "El total debe estar entre 0 y"),
    ],
)
def test_out_of_range_numbers_are_explained_next_to_the_field(client, data, view, fields, message):
    """PostgreSQL would refuse them (integer / numeric(12,2) overflow): the form says so first."""
    login(client, "admin.a@test.co")
    token = csrf_of(client)
    response = client.post(f"/admin/{view}/new/", data={"cliente": data["a"], **fields, "csrf_token": token})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_the_client_lookup_of_child_forms_is_tenant_scoped_and_refuses_malformed_ids(client, data):
    """form_ajax_refs take SafeAjaxLoader instances: scoped by the hook, bad ids are no row."""
    login(client, "admin.a@test.co")
    found = client.get("/admin/vehiculos/ajax/lookup/?name=cliente&query=")
    assert found.status_code == 200 and [row[0] for row in found.json] == [data["a"]]
    token = csrf_of(client)
    for bad in ("2026-01-01", "99999999999999999999", str(data["b"])):
        page = client.post(
            "/admin/vehiculos/new/", data={"cliente": bad, "placa": "ZZZ999", "csrf_token": token}
        )
        assert page.status_code == 200, bad  # the form again, with its error: not a 500, not saved
    from panel.models import Vehiculo

    assert db.session.query(Vehiculo).filter_by(placa="ZZZ999").count() == 0
