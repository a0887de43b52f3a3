"""In a real browser: logging in, and the login page's accessibility."""

from tests.helpers import PASSWORD

from .conftest import axe_violations


def login_as(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()


def test_admin_logs_in_and_reaches_the_panel(page, tenants):
    login_as(page, "admin.a@test.co")
    page.wait_for_url("**/admin/")
    assert page.get_by_test_id("usuario-actual").inner_text().startswith("admin.a@test.co")


def test_a_wrong_password_shows_the_spanish_error(page, tenants):
    login_as(page, "admin.a@test.co", "equivocada")
    assert page.get_by_test_id("login-error").inner_text() == "Correo o contraseña incorrectos."


def test_login_page_has_no_serious_accessibility_violations(page, tenants):
    page.goto("/login")
    assert axe_violations(page) == []


def test_login_page_is_usable_on_a_phone(page, tenants):
    page.set_viewport_size({"width": 390, "height": 844})
    login_as(page, "admin.a@test.co")
    page.wait_for_url("**/admin/")
