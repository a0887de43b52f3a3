"""In a real browser: dates are typed and picked as dd/mm/aaaa, with a Spanish calendar, on every
form and filter of the panel; never the browser's native date input (mm/dd/yyyy in English)."""

import re
from datetime import date

import sqlalchemy as sa
from playwright.sync_api import expect

from panel.extensions import db
from panel.models import Cliente
from tests import factories

from .steps import assert_accessible, login_as, owner, row_of

NATIVE = "input[type=date], input[type=datetime-local], input[type=month], input[type=week]"


def picker(page):
    """The date picker that is open (Flask-Admin's daterangepicker)."""
    return page.locator(".daterangepicker:visible")


def saved(cedula: str) -> Cliente:
    db.session.expire_all()
    cliente = db.session.scalars(sa.select(Cliente).where(Cliente.cedula_cliente == cedula)).one()
    db.session.rollback()  # no read transaction left open against the served app's writes
    return cliente


def test_a_birth_date_is_picked_in_spanish_and_reads_dd_mm_aaaa_everywhere(page, tenants):
    login_as(page, "admin.a@test.co")
    page.goto("/admin/clientes/new/")
    page.get_by_label("Cédula").fill("1098765433")
    page.get_by_label("Nombres").fill("Renata")
    page.get_by_label("Teléfono").fill("3001234568")
    fecha = page.get_by_label("Fecha de nacimiento")
    expect(fecha).to_have_attribute("type", "text")
    expect(fecha).to_have_attribute("placeholder", "dd/mm/aaaa")

    fecha.click()
    calendario = picker(page)
    expect(calendario).to_be_visible()
    calendario = calendario.locator(".calendar:visible")  # one month: a single date
    meses = calendario.locator("select.monthselect option").all_inner_texts()
    assert meses[:3] == ["enero", "febrero", "marzo"], meses
    expect(calendario.locator("th", has_text="lu").first).to_be_visible()
    calendario.locator("select.yearselect").select_option("1990")
    calendario.locator("select.monthselect").select_option(label="mayo")
    calendario.locator("td.available:not(.off)", has_text=re.compile(r"^17$")).click()
    expect(fecha).to_have_value("17/05/1990")
    assert_accessible(page)
    page.get_by_role("button", name="Guardar", exact=True).click()

    expect(page.locator(".alert-success")).to_be_visible()
    assert saved("1098765433").fecha_nacimiento == date(1990, 5, 17)
    row_of(page, "1098765433").get_by_title("Ver registro").click()
    expect(page.locator("table").first).to_contain_text("17/05/1990")
    expect(page.locator("body")).not_to_contain_text("1990-05-17")

    # The edit page shows the stored date as dd/mm/aaaa; a date typed key by key is kept as typed.
    page.goto(f"/admin/clientes/edit/?id={saved('1098765433').id_cliente}")
    fecha = page.get_by_label("Fecha de nacimiento")
    expect(fecha).to_have_value("17/05/1990")
    fecha.fill("")
    fecha.press_sequentially("02/03/1985")
    fecha.press("Tab")
    expect(fecha).to_have_value("02/03/1985")
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert saved("1098765433").fecha_nacimiento == date(1985, 3, 2)


def test_a_date_that_does_not_exist_is_refused_in_spanish_and_kept_as_typed(page, tenants):
    cliente = factories.cliente(owner(tenants.admin_a), cedula_cliente="1098765434", fecha_nacimiento=None)
    login_as(page, "admin.a@test.co")
    page.goto(f"/admin/clientes/edit/?id={cliente.id_cliente}")
    fecha = page.get_by_label("Fecha de nacimiento")
    fecha.press_sequentially("31/02/1990")
    fecha.press("Tab")
    expect(fecha).to_have_value("31/02/1990")  # closing the calendar wrote nothing over it
    page.get_by_role("button", name="Guardar", exact=True).click()

    fecha = page.get_by_label("Fecha de nacimiento")
    expect(fecha).to_have_class(re.compile("is-invalid"))
    error = page.locator("#fecha_nacimiento + .invalid-feedback")
    expect(error).to_have_text("Escriba la fecha como dd/mm/aaaa.")
    expect(fecha).to_have_value("31/02/1990")
    assert saved("1098765434").fecha_nacimiento is None


def test_date_filters_show_and_take_dd_mm_aaaa_and_read_old_iso_links(page, tenants):
    factories.cliente(owner(tenants.admin_a), cedula_cliente="1098765435", nombre_cliente="Antigua")
    login_as(page, "admin.a@test.co")
    page.goto("/admin/clientes/?flt0_creado_desde=2000-01-01")  # a link written before
    filtro = page.locator("table.filters input.filter-val")
    expect(filtro).to_have_value("01/01/2000")
    expect(row_of(page, "1098765435")).to_have_count(1)

    filtro.fill("")
    filtro.press_sequentially("01/01/2999")
    filtro.press("Tab")
    page.get_by_role("button", name="Aplicar").click()
    expect(page).to_have_url(re.compile(r"flt0_creado_desde=01%2F01%2F2999"))
    expect(row_of(page, "1098765435")).to_have_count(0)
    expect(page.locator("table.filters input.filter-val")).to_have_value("01/01/2999")


def test_no_panel_form_has_a_native_date_input(page, tenants):
    factories.cliente(owner(tenants.admin_a), cedula_cliente="1098765436", telefono="3001234569")
    login_as(page, "admin.a@test.co")
    cliente = saved("1098765436")
    enviar = f"/admin/enviar-sms/?ids={cliente.id_cliente}"
    for path in ("/admin/clientes/new/", "/admin/campanas/new/", enviar):
        page.goto(path)
        expect(page.locator("[data-role$=picker]").first).to_be_attached()
        assert page.locator(NATIVE).count() == 0, path
        assert page.locator("[data-date-format^=YYYY]").count() == 0, f"{path}: a picker in ISO"

    # A date-time filter (Historial's Fecha): dd/mm/aaaa hh:mm, Bogotá time.
    page.goto("/admin/historial/")
    page.get_by_text("Añadir filtro").click()
    page.locator(".field-filters .filter", has_text="Fecha").click()
    filtro = page.locator("table.filters tr").last.locator("input.filter-val")
    expect(filtro).to_have_attribute("data-date-format", "DD/MM/YYYY HH:mm")
    expect(filtro).to_have_attribute("placeholder", "dd/mm/aaaa hh:mm")

    page.goto(f"/admin/enviar-sms/?ids={cliente.id_cliente}")
    programar = page.get_by_test_id("programar-para")
    expect(programar).to_have_attribute("placeholder", "dd/mm/aaaa hh:mm")
    programar.click()
    expect(picker(page).locator("select.monthselect option").first).to_have_text("enero")
