"""Export of the Clientes list: CSV and XLSX, streamed, tenant-scoped, filters honoured, safe cells."""

import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from panel.export import celda
from panel.extensions import db
from panel.models import Historial, Usuario

from . import factories
from .helpers import login


@pytest.fixture
def data(app, tenants):
    a, b = db.session.get(Usuario, tenants.admin_a.id), db.session.get(Usuario, tenants.admin_b.id)
    factories.cliente(
        a, nombre_cliente="=HYPERLINK(1)", apellido_cliente="@SUM(A1)", telefono="+573001234567"
    )
    factories.cliente(a, nombre_cliente="Ñandú", apellido_cliente="-2+3", estado=0)
    factories.cliente(b, nombre_cliente="DeOtro")
    return tenants


def _csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_is_streamed_scoped_and_safe(client, data):
    login(client, "admin.a@test.co")
    response = client.get("/admin/clientes/exportar/csv/")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]  # charset once
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:7] == ["ID", "Cédula", "Nombres", "Apellidos", "Teléfono", "Correo electrónico", "Estado"]
    names = {r[2] for r in body}
    assert names == {"'=HYPERLINK(1)", "Ñandú"}
    first = next(r for r in body if r[2].startswith("'="))
    assert first[3] == "'@SUM(A1)" and first[4] == "+573001234567"  # the E.164 phone is left as it is
    assert next(r for r in body if r[2] == "Ñandú")[3] == "'-2+3"
    # Bogotá time with its offset (formatting.export_time): aaaa-mm-dd HH:MM:SS-05:00
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d-05:00", r[-1]) for r in body), body


def test_export_honours_search_and_filters_and_is_recorded(client, data):
    login(client, "admin.a@test.co")
    rows = _csv(client.get("/admin/clientes/exportar/csv/?flt0_estado=0"))
    assert [r[2] for r in rows[1:]] == ["Ñandú"]
    rows = _csv(client.get("/admin/clientes/export/csv/?search=hyperlink"))
    assert len(rows) == 2
    entries = db.session.scalars(
        sa.select(Historial).where(Historial.accion == "exportar").order_by(Historial.id)
    ).all()
    assert [(e.filas, e.detalle["filtros"]) for e in entries] == [
        (1, "flt0_estado=0"),
        (1, "search=hyperlink"),
    ]
    assert entries[0].id_propietario == data.admin_a.id and entries[0].id_usuario == data.admin_a.id


def test_xlsx_export_has_no_formulas(client, data):
    login(client, "admin.a@test.co")
    response = client.get("/admin/clientes/exportar/xlsx/")
    assert response.status_code == 200 and response.is_streamed
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][2] == "Nombres"
    assert {v[2] for v in values[1:]} == {"'=HYPERLINK(1)", "Ñandú"}
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert isinstance(values[1][0], int)  # the id stays a number


def test_superadmin_exports_every_tenant(client, data):
    login(client, "super@test.co")
    assert len(_csv(client.get("/admin/clientes/exportar/csv/"))) == 4


@pytest.mark.parametrize("email", ["vendedor.a@test.co"])
def test_vendedor_cannot_export(client, data, email):
    login(client, email)
    assert client.get("/admin/clientes/exportar/csv/").status_code == 403
    assert client.get("/admin/clientes/exportar/xlsx/").status_code == 403


def test_unknown_format_is_404(client, data):
    login(client, "admin.a@test.co")
    assert client.get("/admin/clientes/exportar/pdf/").status_code == 404


@pytest.mark.parametrize(
    "value,tipo,expected",
    [
        ("=1+1", "texto", "'=1+1"),
        ("+57300", "texto", "'+57300"),
        ("-5", "texto", "'-5"),
        ("@x", "texto", "'@x"),
        ("\tx", "texto", "'\tx"),
        ("\rx", "texto", "'\rx"),
        ("\nx", "texto", "'\nx"),
        ("+573001234567", "telefono", "+573001234567"),
        ("+57 300=cmd", "telefono", "'+57 300=cmd"),
        (-5, "numero", -5),
        ("normal", "texto", "normal"),
        (None, "texto", ""),
    ],
)
def test_cells_that_could_be_formulas_are_neutralised(value, tipo, expected):
    assert celda(value, tipo) == expected
