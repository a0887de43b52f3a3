"""In a real browser: no serious or critical axe-core violations, usable at 1280 px and 390 px,
and the screenshots of the README."""

import pytest
from playwright.sync_api import expect

from panel.extensions import db
from panel.models import CampanaSMS
from tests import factories

from .conftest import screenshot
from .steps import (
    DESKTOP,
    PHONE,
    add_ciudad_filter,
    add_filter,
    assert_accessible,
    assert_fits,
    login_as,
    owner,
    rows,
    run_action,
)

MEDELLIN = 2
WIDTHS = {"escritorio": DESKTOP, "movil": PHONE}


@pytest.fixture
def clientes(tenants):
    admin = owner(tenants.admin_a)
    empresa = factories.empresa(admin, "Transportes Andinos")
    nombres = ["María José", "Andrés", "Camila", "Óscar", "Valentina", "Julián", "Sofía", "Mateo"]
    for i, nombre in enumerate(nombres):
        factories.cliente(
            admin,
            nombre_cliente=nombre,
            apellido_cliente="Restrepo" if i % 2 else "Gómez",
            id_ciudad=MEDELLIN if i < 5 else 1 + i,
            estado=0 if i == 3 else 1,
            id_empresa=empresa.id if i % 3 == 0 else None,
        )
    for nombre, enviados, fallidos in (
        ("Bienvenida", 118, 4),
        ("Promo marzo", 342, 19),
        ("Recordatorio", 77, 0),
    ):
        db.session.add(
            CampanaSMS(
                nombre=nombre,
                mensaje="Hola {nombre}",
                total_clientes=enviados + fallidos,
                enviados_exitosos=enviados,
                enviados_fallidos=fallidos,
                estado="completado",
                id_usuario=admin.id,
                id_propietario=admin.id,
            )
        )
    db.session.commit()
    return admin


@pytest.mark.parametrize("width", WIDTHS)
def test_list_and_dashboard_have_no_serious_violations(page, clientes, width):
    page.set_viewport_size(WIDTHS[width])
    login_as(page, "admin.a@test.co")
    expect(page.locator("#chart-estado")).to_be_visible()
    assert_accessible(page)
    assert_fits(page)
    if width == "escritorio":
        screenshot(page, "dashboard")

    page.goto("/admin/clientes/")
    add_filter(page, "Estado", "Activo")
    add_ciudad_filter(page, "medel", "Medellín")
    page.get_by_role("button", name="Aplicar").click()
    expect(rows(page)).to_have_count(4)
    assert_accessible(page)
    assert_fits(page)
    if width == "escritorio":
        screenshot(page, "clientes-filtros")


@pytest.mark.parametrize("width", WIDTHS)
def test_form_and_action_page_have_no_serious_violations(page, clientes, width):
    page.set_viewport_size(WIDTHS[width])
    login_as(page, "admin.a@test.co")
    page.goto("/admin/clientes/new/")
    page.get_by_label("Cédula").fill("1012345678")
    page.get_by_label("Nombres").fill("Ana")
    page.get_by_label("Teléfono").fill("123")
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(page.locator("#telefono + .invalid-feedback")).to_be_visible()
    assert_accessible(page)
    assert_fits(page)

    page.goto("/admin/clientes/?page_size=20")
    page.locator("input.action-rowtoggle").check()
    run_action(page, "Inscribir en campaña")
    expect(page.get_by_test_id("total-accion")).to_contain_text("8")
    assert_accessible(page)
    assert_fits(page)
