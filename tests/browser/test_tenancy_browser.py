"""In a real browser: a second tenant's admin never sees the first tenant's data, on any page."""

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests import factories

from .steps import login_as, owner, rows

SECRETS = ("SecretoDeA", "EmpresaDeA", "CampanaDeA", "PlantillaDeA", "SMSDeA", "7777777777", "PLACAA1")


def _tenant_a_data(admin_a):
    empresa = factories.empresa(admin_a, "EmpresaDeA")
    campana = factories.campana(admin_a, "CampanaDeA")
    cliente = factories.cliente(
        admin_a,
        cedula_cliente="7777777777",
        nombre_cliente="SecretoDeA",
        id_empresa=empresa.id,
        id_campana=campana.id,
    )
    factories.vehiculo(cliente, placa="PLACAA1")
    factories.movimiento(cliente)
    factories.plantilla(admin_a, "Hola {nombre}", nombre="PlantillaDeA")
    factories.sent_campaign(admin_a, cliente, "SMSDeA", "Hola SecretoDeA", "+573000000000")
    return cliente


def _panel_links(page) -> list[str]:
    """Every panel page reachable from the navigation menu (dropdowns included)."""
    hrefs = page.locator("nav a[href^='/admin/']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    return sorted({urlsplit(h).path for h in hrefs})


def test_a_second_tenants_admin_never_sees_the_first_tenants_data(page, tenants):
    cliente = _tenant_a_data(owner(tenants.admin_a))
    factories.cliente(owner(tenants.admin_b), nombre_cliente="PropioDeB")
    login_as(page, "admin.b@test.co")

    links = _panel_links(page)
    assert {"/admin/", "/admin/clientes/", "/admin/historial/", "/admin/empresas/"} <= set(links), links
    for path in links + ["/admin/clientes/new/"]:
        response = page.goto(path)
        assert response.status == 200, path
        content = page.content()
        leaked = [s for s in SECRETS if s in content]
        assert not leaked, f"{path} muestra datos del tenant A: {leaked}"

    page.goto("/admin/clientes/")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("PropioDeB")
    page.get_by_placeholder("Cédula, nombres").fill("7777777777")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_test_id("total-clientes")).to_have_text("(0)")
    for path in (
        f"/admin/clientes/details/?id={cliente.id_cliente}",
        f"/admin/clientes/edit/?id={cliente.id_cliente}",
    ):
        assert page.goto(path).status == 404, path

    page.goto("/admin/clientes/")
    page.get_by_role("button", name="Exportar").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV", exact=True).click()
    exported = open(info.value.path(), encoding="utf-8-sig").read()
    assert "PropioDeB" in exported and not [s for s in SECRETS if s in exported]
