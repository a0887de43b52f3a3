"""Bulk actions of the Clientes list: selected rows, all matching rows, forged ids, history."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Cliente, Historial, Usuario

from . import factories
from .helpers import csrf_of, login


@pytest.fixture
def data(app, tenants):
    a, b = db.session.get(Usuario, tenants.admin_a.id), db.session.get(Usuario, tenants.admin_b.id)
    ids = [factories.cliente(a, nombre_cliente=f"A{i}", estado=1).id_cliente for i in range(5)]
    rojas = [factories.cliente(a, apellido_cliente="Rojas", estado=1).id_cliente for _ in range(3)]
    other = factories.cliente(b, estado=1).id_cliente
    cam_a, cam_b = factories.campana(a, "Verano"), factories.campana(b, "Invierno")
    return dict(ids=ids, rojas=rojas, other=other, cam_a=cam_a.id, cam_b=cam_b.id)


def _estado(id_cliente):
    return db.session.scalar(sa.select(Cliente.estado).where(Cliente.id_cliente == id_cliente))


def _post(client, **fields):
    token = csrf_of(client)
    return client.post(
        "/admin/clientes/action/", data={"csrf_token": token, "url": "/admin/clientes/", **fields}
    )


@pytest.mark.parametrize("action,estado", [("desactivar", 0), ("deshabilitar", 3), ("activar", 1)])
def test_state_actions_change_only_the_selected_rows_of_the_tenant(client, data, tenants, action, estado):
    if estado == 1:
        db.session.execute(sa.update(Cliente).values(estado=0))
        db.session.commit()
    login(client, "admin.a@test.co")
    chosen = data["ids"][:2]
    response = _post(client, action=action, rowid=[*chosen, data["other"], "abc", "-1", "99999999"])
    assert response.status_code == 302
    assert [_estado(i) for i in chosen] == [estado, estado]
    assert _estado(data["ids"][2]) != estado
    assert _estado(data["other"]) == (1 if estado != 1 else 0)  # forged id of tenant B: untouched
    entry = db.session.scalars(sa.select(Historial).where(Historial.accion == "accion")).one()
    assert (
        entry.filas == 2
        and entry.id_propietario == tenants.admin_a.id
        and entry.id_usuario == tenants.admin_a.id
    )


def test_all_matching_asks_for_confirmation_with_the_count_then_updates_them_all(client, data):
    login(client, "admin.a@test.co")
    page = _post(client, action="desactivar", todos="1", filtros="search=rojas")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<strong>3</strong>" in html
    assert all(_estado(i) == 1 for i in data["rojas"])  # nothing changed before confirming
    response = _post(client, action="desactivar", todos="1", filtros="search=rojas", confirmado="1")
    assert response.status_code == 302
    assert all(_estado(i) == 0 for i in data["rojas"])
    assert all(_estado(i) == 1 for i in data["ids"]) and _estado(data["other"]) == 1
    entry = db.session.scalars(sa.select(Historial).where(Historial.accion == "accion")).one()
    assert entry.filas == 3 and entry.detalle["filtros"] == "search=rojas"


def test_all_matching_with_no_filter_stays_in_the_tenant(client, data):
    login(client, "admin.a@test.co")
    _post(client, action="deshabilitar", todos="1", filtros="", confirmado="1")
    assert all(_estado(i) == 3 for i in data["ids"] + data["rojas"])
    assert _estado(data["other"]) == 1


def test_list_page_offers_select_across_with_the_total(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/?page_size=20&search=a").get_data(as_text=True)
    assert 'name="todos"' in html and 'name="filtros" value="search=a"' in html


def test_inscribir_asks_for_the_campaign_and_refuses_another_tenants(client, data):
    login(client, "admin.a@test.co")
    chosen = data["ids"][:2]
    page = _post(client, action="inscribir", rowid=chosen).get_data(as_text=True)
    assert "Verano" in page and "Invierno" not in page and "<strong>2</strong>" in page
    _post(client, action="inscribir", rowid=chosen, id_campana=str(data["cam_b"]))
    assert db.session.scalar(sa.select(sa.func.count()).where(Cliente.id_campana.is_not(None))) == 0
    assert _post(client, action="inscribir", rowid=chosen, id_campana=str(data["cam_a"])).status_code == 302
    inscribed = db.session.scalars(
        sa.select(Cliente.id_cliente).where(Cliente.id_campana == data["cam_a"])
    ).all()
    assert sorted(inscribed) == sorted(chosen)
    _post(client, action="retirar", rowid=chosen)
    assert db.session.scalar(sa.select(sa.func.count()).where(Cliente.id_campana.is_not(None))) == 0


def test_a_superadmin_inscribes_only_the_campaigns_own_tenants_clients(client, data):
    login(client, "super@test.co")
    mixed = [*data["ids"][:2], data["other"]]
    assert _post(client, action="inscribir", rowid=mixed, id_campana=str(data["cam_a"])).status_code == 302
    inscribed = db.session.scalars(sa.select(Cliente.id_cliente).where(Cliente.id_campana == data["cam_a"]))
    assert sorted(inscribed) == sorted(data["ids"][:2])
    assert db.session.get(Cliente, data["other"]).id_campana is None


def test_bulk_delete_deletes_the_free_ones_and_lists_the_blocked(client, data, tenants):
    blocked = db.session.get(Cliente, data["ids"][0])
    factories.vehiculo(blocked)
    login(client, "admin.a@test.co")
    response = _post(client, action="eliminar", rowid=[*data["ids"][:3], data["other"]])
    assert response.status_code == 302
    assert db.session.get(Cliente, data["ids"][0]) is not None
    assert db.session.get(Cliente, data["ids"][1]) is None and db.session.get(Cliente, data["ids"][2]) is None
    assert db.session.get(Cliente, data["other"]) is not None
    html = client.get("/admin/clientes/").get_data(as_text=True)
    assert "2 clientes eliminados." in html
    assert f"No se eliminaron 1 cliente: {blocked} (tiene 1 vehículo)." in html


def test_bulk_delete_names_for_each_blocked_client_what_really_blocks_it(client, data, tenants):
    with_car, with_sale = (db.session.get(Cliente, i) for i in data["ids"][:2])
    factories.vehiculo(with_car)
    factories.vehiculo(with_car)
    factories.venta(with_sale, db.session.get(Usuario, tenants.vendedor_a.id))
    login(client, "admin.a@test.co")
    _post(client, action="eliminar", rowid=data["ids"][:3])
    html = client.get("/admin/clientes/").get_data(as_text=True)
    assert "1 cliente eliminado." in html
    assert (
        f"No se eliminaron 2 clientes: {with_car} (tiene 2 vehículos) y {with_sale} (tiene 1 venta)." in html
    )


def test_enviar_sms_redirects_with_the_selected_ids(client, data):
    login(client, "vendedor.a@test.co")
    response = _post(client, action="enviar_sms", rowid=[data["ids"][1], data["ids"][0], data["other"], "x"])
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/enviar-sms/?ids={data['ids'][0]},{data['ids'][1]}"


def test_enviar_sms_for_all_matching_carries_the_filters(client, data):
    login(client, "admin.a@test.co")
    response = _post(client, action="enviar_sms", todos="1", filtros="search=rojas&flt0_estado=1")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/enviar-sms/"
    assert parse_qs(location.query) == {"todos": ["1"], "filtros": ["search=rojas&flt0_estado=1"]}


def test_an_action_without_csrf_is_refused(client, data):
    login(client, "admin.a@test.co")
    response = client.post("/admin/clientes/action/", data={"action": "desactivar", "rowid": data["ids"][0]})
    assert response.status_code == 400 and _estado(data["ids"][0]) == 1


def test_an_unknown_action_is_403(client, data):
    login(client, "admin.a@test.co")
    assert _post(client, action="borrar_todo", rowid=data["ids"][0]).status_code == 403


def test_the_list_dropdown_names_the_actions_in_spanish(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/").get_data(as_text=True)
    for name in (
        "Activar",
        "Desactivar",
        "Deshabilitar",
        "Inscribir en campaña",
        "Retirar de campaña",
        "Eliminar",
        "Enviar SMS",
    ):
        assert re.search(rf">\s*{name}\s*<", html), name
