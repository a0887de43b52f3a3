"""In a real browser: the preview names the default municipio of the rows without one, and the
admin picks another for the file by typing it (select2 ajax, as in the client's form), and
unticks "Crear las empresas que no existan" (SPEC §17)."""

from playwright.sync_api import expect

from tests.import_support import clientes, csv_bytes

from .steps import assert_accessible, login_as


def test_admin_picks_the_files_default_municipio_and_sees_the_new_empresas(page, tenants, tmp_path):
    path = tmp_path / "agencia.csv"
    rows = [
        ["1.020.000.001", "Lucía", "300 123 4567", "Medellín", "Acme S.A.S."],
        ["1.020.000.002", "Andrés", "301 765 4321", "", "Acme S.A.S."],
        ["1.020.000.003", "Sara", "302 765 4321", "", ""],
    ]
    path.write_bytes(csv_bytes(rows, header=["Cédula", "Nombres", "Celular", "Municipio", "Empresa"]))
    login_as(page, tenants.admin_a.email)
    page.goto("/admin/clientes/importar/")
    page.get_by_label("Archivo (CSV o Excel .xlsx)").set_input_files(str(path))
    page.get_by_role("button", name="Ver vista previa").click()

    expect(page.get_by_test_id("por-defecto")).to_contain_text("Ciudad: Bogotá D.C. (por defecto) en 2 filas")
    expect(page.get_by_test_id("empresas-nuevas")).to_contain_text("Acme S.A.S.")
    assert_accessible(page)
    page.locator("#s2id_id_ciudad").click()
    page.locator(".select2-drop-active input.select2-input").fill("chía")
    page.locator(".select2-drop-active .select2-result-label", has_text="Chía").first.click()
    page.get_by_label("Crear las empresas que no existan").uncheck()
    page.get_by_test_id("actualizar-vista").click()

    expect(page.get_by_test_id("por-defecto")).to_contain_text("Ciudad: Chía (por defecto) en 1 fila")
    expect(page.get_by_test_id("errores")).to_contain_text("No existe la empresa «Acme S.A.S.»")
    expect(page.get_by_test_id("empresas-nuevas")).to_have_count(0)
    page.get_by_test_id("importar-confirmar").click()
    expect(page.get_by_test_id("estado-importacion")).to_have_attribute(
        "data-estado", "completado", timeout=60_000
    )
    found = clientes(tenants.admin_a.id)
    assert sorted(found) == ["1020000003"]
    assert found["1020000003"].ciudad.nombre == "Chía"
