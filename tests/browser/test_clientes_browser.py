"""In a real browser: an admin's day with the Clientes list (search, filters, forms, actions)."""

import csv
import io
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from panel.extensions import db
from panel.models import Cliente
from tests import factories

from .steps import add_ciudad_filter, add_filter, assert_accessible, login_as, owner, row_of, rows, run_action

MEDELLIN, CALI = 2, 3


def test_admin_searches_by_cedula_filters_and_opens_details(page, tenants):
    admin = owner(tenants.admin_a)
    buscado = factories.cliente(
        admin, cedula_cliente="7123456789", nombre_cliente="Lucía", id_ciudad=MEDELLIN
    )
    factories.vehiculo(buscado, placa="QWE123")
    factories.cliente(admin, nombre_cliente="Inactiva", estado=0, id_ciudad=MEDELLIN)
    factories.cliente(admin, nombre_cliente="Caleña", estado=1, id_ciudad=CALI)
    factories.cliente(admin, nombre_cliente="Activa", estado=1, id_ciudad=MEDELLIN)
    login_as(page, "admin.a@test.co")

    page.goto("/admin/clientes/")
    expect(rows(page)).to_have_count(4)
    page.get_by_placeholder("Cédula, nombres").fill("7123456789")
    page.get_by_role("button", name="Buscar").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Lucía")

    page.goto("/admin/clientes/")
    add_filter(page, "Estado", "Activo")
    add_ciudad_filter(page, "medel", "Medellín")
    page.get_by_role("button", name="Aplicar").click()
    expect(rows(page)).to_have_count(2)
    expect(page.get_by_test_id("total-clientes")).to_have_text("(2)")
    expect(row_of(page, "Caleña")).to_have_count(0)
    expect(row_of(page, "Inactiva")).to_have_count(0)

    row_of(page, "Lucía").get_by_title("Ver registro").click()
    expect(page.get_by_test_id("vehiculos")).to_contain_text("QWE123")
    expect(page.locator("table").first).to_contain_text("7123456789")


def test_admin_fixes_a_bad_phone_and_saves_the_client(page, tenants):
    login_as(page, "admin.a@test.co")
    page.goto("/admin/clientes/new/")
    page.get_by_label("Cédula").fill("1098765432")
    page.get_by_label("Nombres").fill("Andrés")
    page.get_by_label("Apellidos").fill("Gómez")
    page.get_by_label("Teléfono").fill("12345")
    save = page.get_by_role("button", name="Guardar", exact=True)
    save.click()

    telefono = page.get_by_label("Teléfono")
    expect(telefono).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#telefono + .invalid-feedback")).to_have_text("Teléfono no válido para Colombia.")
    expect(page.get_by_label("Nombres")).to_have_value("Andrés")  # nothing typed is lost
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cliente)) == 0
    telefono.fill("3001234567")
    save.click()

    expect(page.locator(".alert-success")).to_be_visible()
    expect(row_of(page, "1098765432")).to_contain_text("Andrés")
    saved = db.session.scalars(sa.select(Cliente)).one()
    assert (saved.nombre_cliente, saved.telefono) == ("Andrés", "3001234567")


def test_admin_selects_all_matching_rows_and_deactivates_them(page, tenants):
    admin = owner(tenants.admin_a)
    for _ in range(23):
        factories.cliente(admin, id_ciudad=CALI)
    otra_ciudad = factories.cliente(admin, nombre_cliente="Paisa", id_ciudad=MEDELLIN)
    login_as(page, "admin.a@test.co")

    page.goto(f"/admin/clientes/?flt0_ciudad={CALI}")
    expect(page.get_by_test_id("total-clientes")).to_have_text("(23)")
    page.locator("input.action-rowtoggle").check()
    page.get_by_test_id("seleccionar-todos").click()
    expect(page.locator("#select-across")).to_contain_text(
        "Están seleccionados los 23 clientes que coinciden"
    )
    run_action(page, "Desactivar")

    expect(page.get_by_test_id("total-accion")).to_contain_text("23")
    page.get_by_role("button", name="Confirmar").click()
    expect(page.locator(".alert-success")).to_contain_text("23 clientes desactivados.")
    estados = dict(
        db.session.execute(
            sa.select(Cliente.id_ciudad, sa.func.max(Cliente.estado)).group_by(Cliente.id_ciudad)
        ).all()
    )
    assert estados == {CALI: 0, MEDELLIN: 1}
    assert db.session.get(Cliente, otra_ciudad.id_cliente).estado == 1


def test_admin_exports_the_filtered_list_as_csv(page, tenants):
    admin = owner(tenants.admin_a)
    factories.cliente(admin, nombre_cliente="=HYPERLINK(1)", apellido_cliente="+SUMA", id_ciudad=CALI)
    factories.cliente(admin, nombre_cliente="Normal", id_ciudad=CALI)
    factories.cliente(admin, nombre_cliente="Fuera", id_ciudad=MEDELLIN)
    factories.cliente(owner(tenants.admin_b), nombre_cliente="DelOtroTenant", id_ciudad=CALI)
    login_as(page, "admin.a@test.co")

    page.goto(f"/admin/clientes/?flt0_ciudad={CALI}")
    page.get_by_role("button", name="Exportar").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV", exact=True).click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()
    exported = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["Nombres"] for r in exported) == ["'=HYPERLINK(1)", "Normal"]
    assert {r["Ciudad"] for r in exported} == {"Cali"}
    assert next(r for r in exported if r["Nombres"].startswith("'"))["Apellidos"] == "'+SUMA"
    assert "DelOtroTenant" not in text


def test_admin_cannot_delete_a_protected_client_and_reads_why(page, tenants):
    cliente = factories.cliente(owner(tenants.admin_a), nombre_cliente="Con vehículo")
    factories.vehiculo(cliente, placa="ZZZ999")
    login_as(page, "admin.a@test.co")

    page.goto("/admin/clientes/")
    row_of(page, "Con vehículo").get_by_title("Eliminar registro").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cliente «Con vehículo")
    expect(page.get_by_test_id("eliminar-bloqueado")).to_contain_text(
        "No se puede eliminar: tiene 1 vehículo."
    )
    expect(page.get_by_test_id("confirmar-eliminar")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="Volver").click()
    expect(row_of(page, "Con vehículo")).to_have_count(1)
    assert db.session.get(Cliente, cliente.id_cliente) is not None


def test_admin_deletes_a_client_after_reading_the_confirmation(page, tenants):
    cliente = factories.cliente(owner(tenants.admin_a), nombre_cliente="Sin nada", apellido_cliente="Pérez")
    pk = cliente.id_cliente
    login_as(page, "admin.a@test.co")
    page.goto("/admin/clientes/")
    row_of(page, "Sin nada").get_by_title("Eliminar registro").click()
    expect(page.get_by_test_id("eliminar-pregunta")).to_contain_text("Cliente «Sin nada Pérez")
    assert_accessible(page)
    page.get_by_test_id("confirmar-eliminar").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(row_of(page, "Sin nada")).to_have_count(0)
    db.session.expire_all()
    assert db.session.get(Cliente, pk) is None
    page.goto("/admin/historial/")
    expect(rows(page).first).to_contain_text("Sin nada Pérez")  # the newest entry: the delete
    expect(rows(page).first).to_contain_text("Eliminar")
    assert_accessible(page)


def test_a_vendedor_sees_no_create_edit_delete_or_export_controls(page, tenants):
    factories.cliente(owner(tenants.admin_a), nombre_cliente="Visible")
    login_as(page, "vendedor.a@test.co")

    page.goto("/admin/clientes/")
    expect(row_of(page, "Visible")).to_have_count(1)
    expect(page.get_by_role("link", name="Crear")).to_have_count(0)
    expect(page.get_by_text("Exportar")).to_have_count(0)
    expect(page.get_by_title("Editar registro")).to_have_count(0)
    expect(page.get_by_title("Eliminar registro")).to_have_count(0)
    actions = page.locator("a.dropdown-item[onclick*='modelActions']")
    expect(actions).to_have_text(["Enviar SMS"])
    row_of(page, "Visible").get_by_title("Ver registro").click()
    expect(page.get_by_test_id("vehiculos")).to_be_visible()
    expect(page.get_by_role("link", name="Editar")).to_have_count(0)
    expect(page.get_by_role("button", name="Eliminar")).to_have_count(0)
    assert page.goto("/admin/clientes/new/").status == 403
