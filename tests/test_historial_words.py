"""Historial's Detalle in words, never raw codes (filters by their labels, formats by name, import
counts labelled), and Historial exportable like every list, its Detalle in the same words."""

import csv
import io
import re
from datetime import datetime

import pytest

from panel.extensions import db
from panel.models import Historial, Usuario

from . import factories
from .helpers import login

RAW = re.compile(r"Estado: 1\b|Empresa: \d|CSV-EXCEL|csv-excel|Con_errores|con_errores|flt\d_")


@pytest.fixture
def entries(app, tenants):
    a = db.session.get(Usuario, tenants.admin_a.id)
    empresa = factories.empresa(a, "Acme S.A.S.")
    detalles = [
        (
            "accion",
            "Cliente",
            {
                "accion": "desactivar",
                "seleccion": "todos",
                "filtros": f"flt0_estado=1&flt1_empresa={empresa.id}&search=garcia",
            },
        ),
        (
            "exportar",
            "Cliente",
            {
                "formato": "csv-excel",
                "filtros": {
                    "busqueda": "",
                    "filtros": [{"filtro": "Estado es", "valor": "Activo"}],
                    "orden": "",
                },
            },
        ),
        (
            "accion",
            "Cliente",
            {
                "archivo": "clientes.xlsx",
                "importacion": 4,
                "estado": "terminada",
                "total": 120,
                "nuevos": 90,
                "actualizados": 10,
                "con_errores": 20,
            },
        ),
        (
            "sms",
            "CampanaSMS",
            {
                "filtros": {"seleccion": "todos", "filtros": "flt0_estado=1"},
                "omitidos": 3,
                "tipo": "comercial",
            },
        ),
    ]
    rows = []
    for accion, modelo, detalle in detalles:
        entry = Historial(
            accion=accion,
            modelo=modelo,
            filas=1,
            resumen=f"prueba {accion}",
            detalle=detalle,
            id_propietario=a.id,
            id_usuario=a.id,
            creado=datetime(2026, 12, 1, 6, 50),
        )
        db.session.add(entry)
        rows.append(entry)
    db.session.commit()
    return [e.id for e in rows]


def test_the_detail_reads_in_labels_not_codes(client, entries):
    login(client, "admin.a@test.co")
    pages = []
    for pk in entries:
        response = client.get(f"/admin/historial/details/?id={pk}")
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))
    accion, exportacion, importacion, campana = pages
    assert "Estado: Activo; Empresa: Acme S.A.S.; Búsqueda: garcia" in accion
    assert "<strong>Acción</strong>: Desactivar" in accion
    assert "<strong>Formato</strong>: CSV (Excel)" in exportacion
    assert "<strong>Con errores</strong>: 20" in importacion and "<strong>Nuevos</strong>: 90" in importacion
    assert "todos los resultados de la búsqueda y los filtros; Estado: Activo" in campana
    assert "<strong>Tipo</strong>: Comercial" in campana
    for page in pages:
        assert RAW.search(page.split("historial-detalle", 1)[1]) is None


def test_the_list_of_historial_reads_in_labels_too(client, entries):
    login(client, "admin.a@test.co")
    page = client.get("/admin/historial/").get_data(as_text=True)
    assert "Estado: Activo; Empresa: Acme S.A.S." in page and "CSV (Excel)" in page
    assert RAW.search(page.split("historial-detalle", 1)[1]) is None


@pytest.mark.parametrize("formato,separador", [("csv-excel", ";"), ("csv", ","), ("xlsx", None)])
def test_historial_exports_like_every_list_with_its_detail_in_words(client, entries, formato, separador):
    login(client, "admin.a@test.co")
    page = client.get("/admin/historial/").get_data(as_text=True)
    assert f"/admin/historial/exportar/{formato}/" in page  # the list offers it
    response = client.get(f"/admin/historial/exportar/{formato}/")
    assert response.status_code == 200
    if separador is None:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.get_data())).active
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
    else:
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=separador))
    header, body = rows[0], rows[1:]
    assert header[-1] == "Detalle" and "Acción" in header and "Modelo" in header
    detalle = {row[header.index("Resumen")]: row[-1] for row in body}
    assert detalle["prueba accion"] in (
        "Acción: Desactivar; Selección: todos los resultados de la búsqueda y los filtros; "
        "Filtros: Estado: Activo; Empresa: Acme S.A.S.; Búsqueda: garcia",
        "Archivo: clientes.xlsx; Importación: 4; Estado: Terminada; Filas del archivo: 120; Nuevos: 90; "
        "Actualizados: 10; Con errores: 20",
    )
    assert "Formato: CSV (Excel)" in detalle["prueba exportar"]
    assert {row[header.index("Acción")] for row in body} >= {"Acción masiva", "Exportar", "Campaña SMS"}
    assert all(RAW.search(str(row[-1])) is None for row in body)


def test_a_vendedor_may_not_export_historial(client, entries, tenants):
    login(client, tenants.vendedor_a.email)
    assert client.get("/admin/historial/exportar/csv/").status_code == 403


def test_an_export_records_its_filters_values_by_name(client, tenants):
    a = db.session.get(Usuario, tenants.admin_a.id)
    factories.cliente(a, nombre_cliente="Activa")
    login(client, "admin.a@test.co")
    response = client.get("/admin/clientes/exportar/csv/?flt0_estado=1")
    assert response.status_code == 200 and b"Activa" in response.get_data()
    entry = db.session.scalars(db.select(Historial).where(Historial.accion == "exportar")).one()
    assert entry.detalle["filtros"] == "flt0_estado=1"  # the list's own query string, kept as it was
    page = client.get(f"/admin/historial/details/?id={entry.id}").get_data(as_text=True)
    assert "<strong>Filtros</strong>: Estado: Activo" in page
