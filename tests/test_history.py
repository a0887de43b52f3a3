"""Historial: creates, updates (before → after), deletes, through the panel; the read-only view."""

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Cliente, Historial, Usuario

from . import factories
from .helpers import csrf_from, csrf_of, login


def _entries(accion):
    return db.session.scalars(
        sa.select(Historial).where(Historial.accion == accion).order_by(Historial.id)
    ).all()


@pytest.fixture
def cliente(app, tenants):
    return factories.cliente(db.session.get(Usuario, tenants.admin_a.id), nombre_cliente="Ana").id_cliente


def test_factories_outside_a_request_record_nothing(cliente):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Historial)) == 0


def test_create_update_and_delete_through_the_panel_are_recorded(client, tenants, app):
    login(client, "admin.a@test.co")
    token = csrf_from(client.get("/admin/empresas/new/").data)
    client.post("/admin/empresas/new/", data={"nombre": "Acme", "nit": "900.123.456-8", "csrf_token": token})
    (crear,) = _entries("crear")
    assert crear.modelo == "Empresa" and crear.detalle["valores"]["nombre"] == "Acme"
    assert crear.id_usuario == tenants.admin_a.id and crear.id_propietario == tenants.admin_a.id
    client.post(
        f"/admin/empresas/edit/?id={crear.objeto_id}",
        data={"nombre": "Acme SAS", "nit": "900.123.456-8", "csrf_token": token},
    )
    (editar,) = _entries("editar")
    assert editar.detalle["cambios"] == {"nombre": ["Acme", "Acme SAS"]}
    client.post("/admin/empresas/delete/", data={"id": crear.objeto_id, "csrf_token": token})
    (eliminar,) = _entries("eliminar")
    assert eliminar.objeto_id == crear.objeto_id and eliminar.detalle["valores"]["nombre"] == "Acme SAS"


def test_an_unchanged_save_records_no_update(client, cliente):
    login(client, "admin.a@test.co")
    ana = db.session.get(Cliente, cliente)
    token = csrf_from(client.get(f"/admin/clientes/edit/?id={cliente}").data)
    fields = {
        k: getattr(ana, k)
        for k in ("cedula_cliente", "nombre_cliente", "apellido_cliente", "telefono", "email")
    }
    fields.update(
        id_pais="1", id_ciudad="1", estado="1", acepta_sms="y", csrf_token=token
    )  # as the browser posts it
    assert client.post(f"/admin/clientes/edit/?id={cliente}", data=fields).status_code == 302
    assert _entries("editar") == []


def test_passwords_never_reach_the_history(client, tenants):
    login(client, "admin.a@test.co")
    token = csrf_from(client.get("/admin/usuarios/new/").data)
    response = client.post(
        "/admin/usuarios/new/",
        data={
            "email": "Nuevo@Test.co",
            "nombre": "Nuevo",
            "rol": "vendedor",
            "activo": "y",
            "password": "una-clave-larga",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(Usuario).where(Usuario.email == "nuevo@test.co"))
    assert user.creado_por == tenants.admin_a.id and user.check_password("una-clave-larga")
    (crear,) = _entries("crear")
    assert crear.detalle["valores"]["password_hash"] == "***" and "una-clave" not in str(crear.detalle)


def test_historial_view_is_tenant_scoped_and_read_only(client, tenants, cliente):
    db.session.add_all(
        [
            Historial(accion="exportar", modelo="Cliente", resumen="de A", id_propietario=tenants.admin_a.id),
            Historial(accion="exportar", modelo="Cliente", resumen="de B", id_propietario=tenants.admin_b.id),
        ]
    )
    db.session.commit()
    login(client, "admin.a@test.co")
    html = client.get("/admin/historial/").get_data(as_text=True)
    assert "de A" in html and "de B" not in html
    assert "/admin/historial/new/" not in html and "/admin/historial/edit/" not in html
    assert client.get("/admin/historial/new/").status_code == 403
    other = db.session.scalar(sa.select(Historial.id).where(Historial.resumen == "de B"))
    assert client.get(f"/admin/historial/details/?id={other}").status_code == 404
    token = csrf_of(client)
    assert client.post("/admin/historial/delete/", data={"id": other, "csrf_token": token}).status_code == 403
    assert client.get("/admin/historial/?flt0_0=exportar").status_code == 200


def test_superadmin_sees_every_entry(client, tenants):
    db.session.add(
        Historial(accion="exportar", modelo="Cliente", resumen="de B", id_propietario=tenants.admin_b.id)
    )
    db.session.commit()
    login(client, "super@test.co")
    assert "de B" in client.get("/admin/historial/").get_data(as_text=True)
