"""The three export formats, read back as a user's program would: "CSV (Excel)" (`;`, BOM,
decimal commas), plain CSV (`,`) and XLSX (date cells in Bogotá time, widths, a frozen header,
a filter over the data); labels, never codes; formula-safe in each; offered on every list."""

import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from panel import export, export_xlsx, formatting
from panel.extensions import db
from panel.models import Historial, Usuario

from . import factories
from .helpers import login
from .support.exports import by_header, download, read_csv, read_xlsx
from .support.pages import exporting_lists

STORED = datetime(2026, 12, 1, 6, 50, 25, 481538)  # naive UTC, as the database returns it
IN_BOGOTA = datetime(2026, 12, 1, 1, 50, 25)
FORMULA = '=HYPERLINK("http://x","y")'
LONG_NAME = "María de los Ángeles"
TOGGLE = r'<a class="nav-link dropdown-toggle"[^>]*href="#"[^>]*>Exportar</a>'  # no javascript: link


@pytest.fixture
def data(app, tenants):
    a = db.session.get(Usuario, tenants.admin_a.id)
    b = db.session.get(Usuario, tenants.admin_b.id)
    uno = factories.cliente(
        a,
        nombre_cliente=FORMULA[:20],
        apellido_cliente="@SUM(A1)",
        telefono="+573001234567",
        genero=0,
        estado=1,
        fecha_nacimiento=date(1990, 5, 17),
        creado=STORED,
    )
    dos = factories.cliente(a, nombre_cliente=LONG_NAME, genero=1, estado=0, creado=STORED)
    factories.cliente(b, nombre_cliente="DeOtro")
    factories.movimiento(uno, monto="1782000.50")
    factories.movimiento(dos, tipo="egreso", monto="749.00")
    factories.venta(uno, a, total="1782000.00")
    return tenants


# --- CSV (Excel) -----------------------------------------------------------------------------


def test_the_excel_csv_has_semicolons_a_bom_labels_and_bogota_times(client, data):
    login(client, "admin.a@test.co")
    response = download(client, "/admin/clientes/exportar/csv-excel/")
    assert response.mimetype == "text/csv"
    assert re.search(r'filename="clientes-excel-\d{8}-\d{6}\.csv"', response.headers["Content-Disposition"])
    rows = read_csv(response, ";")
    assert rows[0][:7] == ["ID", "Cédula", "Nombres", "Apellidos", "Teléfono", "Correo electrónico", "Estado"]
    assert all(len(row) == len(rows[0]) for row in rows)  # `;` splits every row into its columns
    clientes = {r["Nombres"]: r for r in by_header(rows)}
    assert set(clientes) == {"'" + FORMULA[:20], LONG_NAME}  # the other tenant's client is not there
    uno = clientes["'" + FORMULA[:20]]
    assert uno["Apellidos"] == "'@SUM(A1)" and uno["Teléfono"] == "300 123 4567"  # national, text Excel keeps
    assert (uno["Estado"], uno["Género"], uno["Acepta SMS"]) == ("Activo", "Femenino", "Sí")
    assert clientes[LONG_NAME]["Estado"] == "Inactivo" and clientes[LONG_NAME]["Género"] == "Masculino"
    assert uno["Creado"] == "01/12/2026 01:50"  # stored at 06:50 UTC; dd/mm/aaaa hh:mm in Bogotá
    assert uno["Fecha de nacimiento"] == "17/05/1990"


def test_the_excel_csv_writes_money_with_a_decimal_comma(client, data):
    login(client, "admin.a@test.co")
    rows = by_header(read_csv(download(client, "/admin/movimientos/exportar/csv-excel/"), ";"))
    assert sorted(r["Monto"] for r in rows) == ["1782000,50", "749,00"]
    assert {r["Tipo"] for r in rows} == {"Ingreso", "Egreso"}  # labels, not codes
    ventas = by_header(read_csv(download(client, "/admin/ventas/exportar/csv-excel/"), ";"))
    assert [r["Total"] for r in ventas] == ["1782000,00"]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", ventas[0]["Fecha"])


# --- plain CSV --------------------------------------------------------------------------------


def test_the_plain_csv_keeps_commas_and_decimal_points(client, data):
    login(client, "admin.a@test.co")
    response = download(client, "/admin/movimientos/exportar/csv/")
    assert re.search(r'filename="movimientos-\d{8}-\d{6}\.csv"', response.headers["Content-Disposition"])
    rows = by_header(read_csv(response, ","))
    assert sorted(r["Monto"] for r in rows) == ["1782000.50", "749.00"]
    clientes = by_header(read_csv(download(client, "/admin/clientes/exportar/csv/"), ","))
    uno = next(r for r in clientes if r["Teléfono"] == "+573001234567")
    assert (
        (uno["Creado"], uno["Género"], uno["Nombres"])
        == (
            "2026-12-01 01:50:25-05:00",  # ISO 8601 for programs
            "Femenino",
            "'" + FORMULA[:20],
        )
    )


# --- XLSX -------------------------------------------------------------------------------------


def test_the_xlsx_has_date_cells_in_bogota_time_and_bogota_in_the_header(client, data):
    login(client, "admin.a@test.co")
    sheet = read_xlsx(download(client, "/admin/clientes/exportar/xlsx/"))
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert "Creado (hora de Bogotá)" in header and "Acepta SMS desde (hora de Bogotá)" in header
    assert "Fecha de nacimiento" in header  # a calendar date has no time zone
    uno = next(r for r in by_header(rows) if r["Teléfono"] == "300 123 4567")
    assert uno["Creado (hora de Bogotá)"] == IN_BOGOTA  # a real datetime cell, 06:50 UTC read as 01:50
    assert uno["Fecha de nacimiento"] == datetime(1990, 5, 17)
    assert (uno["Estado"], uno["Género"], uno["Acepta SMS"]) == ("Activo", "Femenino", "Sí")
    assert isinstance(uno["ID"], int)
    creado = header.index("Creado (hora de Bogotá)")
    cell = next(row[creado] for row in sheet.iter_rows(min_row=2) if row[creado].value == IN_BOGOTA)
    assert cell.is_date and cell.number_format == "dd/mm/yyyy hh:mm:ss"


def test_the_xlsx_has_widths_a_frozen_header_and_a_filter_over_the_data(client, data):
    login(client, "admin.a@test.co")
    sheet = read_xlsx(download(client, "/admin/clientes/exportar/xlsx/"))
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}3"  # header + 2
    header = [c.value for c in sheet[1]]
    widths = {h: sheet.column_dimensions[chr(ord("A") + i)].width for i, h in enumerate(header)}
    assert all(w and export_xlsx.MIN_WIDTH <= w <= export_xlsx.MAX_WIDTH + 2 for w in widths.values()), widths
    assert widths["Nombres"] >= len(LONG_NAME) and widths["Creado (hora de Bogotá)"] >= 20
    assert all(c.font.b for c in sheet[1])  # the header row is bold


def test_the_xlsx_writes_money_as_numbers_and_never_a_formula(client, data):
    login(client, "admin.a@test.co")
    sheet = read_xlsx(download(client, "/admin/movimientos/exportar/xlsx/"))
    rows = by_header([[c.value for c in row] for row in sheet.iter_rows()])
    assert sorted(r["Monto"] for r in rows) == [749, Decimal("1782000.50")]
    assert all(isinstance(r["Fecha (hora de Bogotá)"], datetime) for r in rows)
    clientes = read_xlsx(download(client, "/admin/clientes/exportar/xlsx/"))
    cells = [c for row in clientes.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    assert "'" + FORMULA[:20] in {c.value for c in cells} and "'@SUM(A1)" in {c.value for c in cells}


def test_an_empty_xlsx_has_its_header_frozen_and_filtered(client, data):
    login(client, "admin.a@test.co")
    sheet = read_xlsx(download(client, "/admin/clientes/exportar/xlsx/?search=nadie-se-llama-asi"))
    assert [[c.value for c in row] for row in sheet.iter_rows()][0][0] == "ID"
    assert sheet.max_row == 1 and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}1"


def test_the_xlsx_filter_covers_every_batch_and_widths_come_from_the_first():
    columnas = [export.Columna("Nombre", None), export.Columna("Valor", None, "numero")]
    batches = [[("a" * 30, 1)], [("b", Decimal("2.5")), ("=1+1", None)], [("c", 3)]]
    sheet = load_workbook(io.BytesIO(b"".join(export_xlsx.xlsx_chunks(iter(batches), columnas)))).active
    assert sheet.auto_filter.ref == "A1:B5" and sheet.freeze_panes == "A2"
    assert (
        sheet.column_dimensions["A"].width == 32
        and sheet.column_dimensions["B"].width == export_xlsx.MIN_WIDTH + 2
    )
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [["a" * 30, 1], ["b", 2.5], ["'=1+1", None], ["c", 3]]


# --- one importer-friendly header across the three formats -----------------------------------


@pytest.mark.parametrize("view", ["clientes", "movimientos", "ventas", "empresas"])
def test_the_three_formats_carry_the_same_headers(client, data, view):
    login(client, "admin.a@test.co")
    excel = read_csv(download(client, f"/admin/{view}/exportar/csv-excel/"), ";")[0]
    plain = read_csv(download(client, f"/admin/{view}/exportar/csv/"), ",")[0]
    sheet = read_xlsx(download(client, f"/admin/{view}/exportar/xlsx/"))
    xlsx = [c.value.removesuffix(export_xlsx.BOGOTA_HEADER) for c in sheet[1]]
    assert excel == plain == xlsx


# --- the menus, the URLs and Historial --------------------------------------------------------


def test_every_view_that_exports_offers_the_three_formats_by_name(app, client, data):
    lists = exporting_lists(app)
    assert {"clientes", "empresas", "movimientos", "ventas", "campanas_sms", "paises", "historial"} <= set(
        lists
    ), lists
    assert "usuarios" not in lists  # Historial exports like every list (issue #29)
    login(client, "super@test.co")
    for url in lists.values():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert 'class="nav-link active"' in html and "Cerrar sesión" in html, url  # the list itself
        menu = re.search(
            r'<a class="nav-link dropdown-toggle"[^>]*href="#"[^>]*>Exportar</a>(.*?)</div>', html, re.S
        )
        assert menu, url
        links = re.findall(r'data-formato="([^"]+)"[^>]*href="([^"]+)">([^<]+)</a>', menu.group(1))
        assert [(f, name) for f, _, name in links] == [
            ("csv-excel", "CSV (Excel)"),
            ("csv", "CSV"),
            ("xlsx", "XLSX"),
        ], url
        assert all(href.startswith(f"{url}exportar/{f}/") for f, href, _ in links), links


def test_the_menu_keeps_the_lists_search_and_filters(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/?search=maria&flt0_estado=0").get_data(as_text=True)
    href = re.search(r'data-formato="csv-excel"[^>]*href="([^"]+)"', html).group(1)
    assert "search=maria" in href and "flt0_estado=0" in href
    rows = by_header(read_csv(download(client, href.replace("&amp;", "&")), ";"))
    assert [r["Nombres"] for r in rows] == [LONG_NAME]


def test_a_vendedor_sees_no_export_menu_and_cannot_use_the_new_format(client, data):
    login(client, "vendedor.a@test.co")
    response = client.get("/admin/clientes/")
    assert response.status_code == 200 and "Cerrar sesión" in response.get_data(as_text=True)
    assert "data-formato" not in response.get_data(as_text=True)
    assert client.get("/admin/clientes/exportar/csv-excel/").status_code == 403
    assert client.get("/admin/movimientos/export/csv-excel/").status_code == 403


@pytest.mark.parametrize("url", ["exportar/csv-excel/", "export/csv-excel/", "export/xlsx/", "exportar/csv/"])
def test_old_and_new_urls_all_stream_through_the_one_exporter(client, data, url):
    login(client, "admin.a@test.co")
    response = download(client, f"/admin/clientes/{url}")
    assert "attachment" in response.headers["Content-Disposition"]


def test_unknown_formats_are_404(client, data):
    login(client, "admin.a@test.co")
    assert client.get("/admin/clientes/").status_code == 200
    for formato in ("pdf", "CSV-EXCEL", "csv_excel"):
        assert client.get(f"/admin/clientes/exportar/{formato}/").status_code == 404


def test_the_excel_csv_export_is_recorded_in_historial_with_its_format(client, data):
    login(client, "admin.a@test.co")
    client.get("/admin/clientes/exportar/csv-excel/?flt0_estado=1").get_data()
    entry = db.session.scalars(sa.select(Historial).where(Historial.accion == "exportar")).one()
    assert entry.filas == 1 and entry.detalle["formato"] == "csv-excel"
    assert entry.resumen == "Exportación CSV (Excel) de 1 fila de clientes"
    assert entry.id_propietario == data.admin_a.id


# --- the helpers (panel/formatting.py) --------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        (Decimal("1782000.50"), "1782000,50"),
        (Decimal("-3.5"), "-3,5"),
        (Decimal("1E+3"), "1000"),
        (12, "12"),
        (0.25, "0,25"),
        (None, ""),
    ],
)
def test_decimal_comma(value, expected):
    assert formatting.decimal_comma(value) == expected


def test_spreadsheet_time_is_naive_bogota_in_whole_seconds():
    assert formatting.spreadsheet_time(STORED) == IN_BOGOTA
    assert formatting.spreadsheet_time(None) is None
