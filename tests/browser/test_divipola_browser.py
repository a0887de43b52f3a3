"""In a real browser: the client's municipio typed in the form (SPEC §16), found among 1,123."""

import sqlalchemy as sa
from playwright.sync_api import expect

from panel.extensions import db
from panel.models import Cliente

from .steps import assert_accessible, login_as, row_of


def test_admin_creates_a_client_in_itagui_by_typing_its_name(page, tenants):
    login_as(page, "admin.a@test.co")
    page.goto("/admin/clientes/new/")
    page.get_by_label("Cédula").fill("1098765433")
    page.get_by_label("Nombres").fill("Paisa")
    page.locator("#s2id_id_ciudad").click()  # the ciudad's search box (select2 ajax)
    page.locator(".select2-drop-active input.select2-input").fill("itag")
    page.locator(".select2-drop-active .select2-result-label", has_text="Itagüí").click()
    assert_accessible(page)
    page.get_by_role("button", name="Guardar", exact=True).click()

    expect(page.locator(".alert-success")).to_be_visible()
    expect(row_of(page, "1098765433")).to_contain_text("Itagüí")
    saved = db.session.scalars(sa.select(Cliente)).one()
    assert saved.ciudad.codigo_dane == "05360"
