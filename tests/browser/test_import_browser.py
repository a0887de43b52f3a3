"""In a real browser: an admin imports clients from a file: upload → fix the mapping → preview →
import → result, with the progress shown on the page."""

import re

from playwright.sync_api import expect

from tests.import_support import clientes, csv_bytes

from .steps import assert_accessible, login_as


def test_admin_uploads_fixes_the_mapping_previews_imports_and_sees_the_result(page, tenants, tmp_path):
    path = tmp_path / "clientes crm.csv"
    rows = [
        ["1.020.000.001", "Lucía", "Gómez", "300 123 4567", "Medellín"],
        ["1.020.000.002", "Andrés", "Muñoz", "301 765 4321", "Cali"],
        ["abc", "Sin", "Cédula", "3001112233", "Cali"],
    ]
    path.write_bytes(
        csv_bytes(rows, header=["Nro", "Nombre", "Apellido", "Cel", "Ciudad"], delimiter=";", bom=True)
    )
    login_as(page, tenants.admin_a.email)

    page.goto("/admin/clientes/")
    page.get_by_role("link", name="Importar").click()
    expect(page.get_by_test_id("importar")).to_be_visible()
    page.get_by_label("Archivo (CSV o Excel .xlsx)").set_input_files(str(path))
    page.get_by_role("button", name="Ver vista previa").click()

    expect(page.get_by_test_id("vista-previa")).to_contain_text("clientes crm.csv")
    expect(page.get_by_test_id("problemas")).to_contain_text("Falta la columna «Cédula»")
    page.get_by_label("Nro").select_option(label="Cédula")  # "Nro" and "Cel" are not names it knows
    page.get_by_label("Cel").select_option(label="Teléfono")
    page.get_by_test_id("actualizar-vista").click()

    expect(page.get_by_test_id("resumen")).to_contain_text("Nuevos: 2")
    expect(page.get_by_test_id("resumen")).to_contain_text("Con errores: 1")
    expect(page.get_by_test_id("muestra")).to_contain_text("1020000001")
    expect(page.get_by_test_id("muestra")).to_contain_text("Medellín")
    expect(page.get_by_test_id("errores")).to_contain_text("La cédula solo puede tener dígitos.")
    assert_accessible(page)
    page.get_by_test_id("importar-confirmar").click()

    expect(page.get_by_test_id("importacion")).to_be_visible()
    expect(page.get_by_test_id("estado-importacion")).to_have_attribute(
        "data-estado", "completado", timeout=60_000
    )
    expect(page.get_by_test_id("resultado")).to_contain_text("Nuevos: 2")
    expect(page.get_by_test_id("resultado")).to_contain_text("Con errores: 1")
    expect(page.get_by_role("progressbar")).to_have_class(re.compile(r"\bbar-100\b"))
    # Checked before the download: a page whose link just started a download may never report
    # "load" again to the accessibility check's wait (seen once under a loaded machine).
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_test_id("descargar-rechazos").click()
    rejected = download.value.path().read_text(encoding="utf-8-sig")
    assert "abc;Sin;Cédula;3001112233;Cali;4;Nro: La cédula solo puede tener dígitos." in rejected

    found = clientes(tenants.admin_a.id)
    assert sorted(found) == ["1020000001", "1020000002"]
    assert (found["1020000001"].telefono_e164, found["1020000002"].ciudad.nombre) == ("+573001234567", "Cali")
