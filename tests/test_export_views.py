"""Every view's export goes through the one exporter: formula-safe, tenant-scoped, role-checked,
recorded in Historial with the filters used."""

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from panel.extensions import db
from panel.models import CampanaSMS, Historial, Usuario

from . import factories
from .helpers import login

FORMULAS = ('=HYPERLINK("http://x","y")', "@SUM(1+1)")
OTHER_TENANT = "DeOtroInquilino"


def rows_for(owner: Usuario, text: str, vendedor: Usuario) -> None:
    """One row per exported view, its text field holding ``text``."""
    factories.empresa(owner, nombre=text)
    factories.campana(owner, nombre=text)
    client = factories.cliente(owner, nombre_cliente=text[:20])  # a related name with a formula too
    vehiculo = factories.vehiculo(client)
    vehiculo.marca = text
    movimiento = factories.movimiento(client)
    movimiento.descripcion = text
    venta = factories.venta(client, vendedor)
    venta.descripcion = text
    factories.plantilla(owner, nombre=text)
    db.session.add(CampanaSMS(nombre=text, mensaje="Hola", id_usuario=owner.id, id_propietario=owner.id))
    db.session.commit()


@pytest.fixture
def data(app, tenants):
    a, b = db.session.get(Usuario, tenants.admin_a.id), db.session.get(Usuario, tenants.admin_b.id)
    for text in FORMULAS:
        rows_for(a, text, a)
    rows_for(b, OTHER_TENANT, b)
    return tenants


VIEWS = ["empresas", "campanas", "vehiculos", "movimientos", "ventas", "plantillas-sms", "campanas-sms"]


def cells(response, formato: str) -> list[list]:
    """Every cell of a CSV or XLSX download."""
    if formato == "csv":
        return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.parametrize("formato", ["csv", "xlsx"])
@pytest.mark.parametrize("view", VIEWS)
def test_each_views_export_neutralises_formulas_and_keeps_to_the_tenant(client, data, view, formato):
    login(client, "admin.a@test.co")
    response = client.get(f"/admin/{view}/exportar/{formato}/")
    assert response.status_code == 200 and response.is_streamed
    found = [str(c) for row in cells(response, formato)[1:] for c in row if c is not None]
    for formula in FORMULAS:
        assert "'" + formula in found, (view, found)
    assert not [c for c in found if c.startswith(("=", "@"))], found
    assert not [c for c in found if OTHER_TENANT in c], found


@pytest.mark.parametrize("view", VIEWS)
def test_flask_admins_own_export_url_streams_through_ours(client, data, view):
    login(client, "admin.a@test.co")
    response = client.get(f"/admin/{view}/export/csv/")
    assert response.status_code == 200 and response.is_streamed
    assert "'" + FORMULAS[0] in {c for row in cells(response, "csv") for c in row}


@pytest.mark.parametrize("view", VIEWS)
def test_each_export_leaves_a_historial_entry_with_its_rows(client, data, view):
    login(client, "admin.a@test.co")
    client.get(f"/admin/{view}/exportar/xlsx/").get_data()
    entry = db.session.scalars(sa.select(Historial).where(Historial.accion == "exportar")).one()
    assert entry.filas == 2 and entry.detalle["formato"] == "xlsx"
    assert entry.id_propietario == data.admin_a.id


def test_the_historial_entry_names_the_filters_and_search_used(client, data):
    login(client, "admin.a@test.co")
    client.get("/admin/empresas/exportar/csv/?search=HYPERLINK").get_data()
    entry = db.session.scalars(sa.select(Historial).where(Historial.accion == "exportar")).one()
    assert entry.detalle["filtros"]["busqueda"] == "HYPERLINK" and entry.filas == 1


@pytest.mark.parametrize("url", ["exportar/csv/", "exportar/xlsx/", "export/csv/"])
@pytest.mark.parametrize("view", VIEWS)
def test_a_vendedor_cannot_export(client, data, view, url):
    login(client, "vendedor.a@test.co")
    assert client.get(f"/admin/{view}/{url}").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Historial)) == 0


def test_related_rows_come_out_by_their_names(client, data):
    login(client, "admin.a@test.co")
    table = cells(client.get("/admin/ventas/exportar/csv/"), "csv")
    assert table[0][:3] == ["Fecha", "Cliente", "Vendedor"]
    assert {row[2] for row in table[1:]} == {"admin.a@test.co"}
