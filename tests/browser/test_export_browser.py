"""In a real browser: an admin downloads a list in each of the three formats from its menu."""

import csv
import io

from openpyxl import load_workbook

from tests import factories

from .steps import login_as, owner

# The CSP refuses a javascript: link on click (Flask-Admin's own export toggle had one).
WATCH = "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push("
WATCH += "e.violatedDirective + ' ' + e.blockedURI));"


def test_admin_downloads_movimientos_as_excel_csv_and_xlsx(page, tenants):
    admin = owner(tenants.admin_a)
    cliente = factories.cliente(admin, nombre_cliente="Ñandú", apellido_cliente="Pérez")
    factories.movimiento(cliente, monto="1782000.50")
    login_as(page, "admin.a@test.co")
    page.add_init_script(WATCH)

    page.goto("/admin/movimientos/")
    page.get_by_role("button", name="Exportar").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV (Excel)").click()
    assert info.value.suggested_filename.endswith(".csv")
    text = open(info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(r["Cliente"], r["Monto"], r["Tipo"]) for r in rows] == [("Ñandú Pérez", "1782000,50", "Ingreso")]

    page.get_by_role("button", name="Exportar").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="XLSX").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    with open(info.value.path(), "rb") as file:  # the download has no .xlsx name, which openpyxl wants
        sheet = load_workbook(io.BytesIO(file.read())).active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.endswith("2")
    assert [c.value for c in sheet[1]][0] == "Fecha (hora de Bogotá)"
    assert page.evaluate("window.__csp") == []
