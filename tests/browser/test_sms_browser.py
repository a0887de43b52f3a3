"""In a real browser: the "Enviar SMS" action end to end, against the fake Twilio over real HTTP,
sent by the embedded sender thread of a served app."""

import pytest
from playwright.sync_api import expect

from panel.models.envio import TEXTO_BAJA  # what ends every commercial SMS
from tests import factories

from .conftest import INVALID_PHONE, screenshot
from .steps import assert_accessible, assert_fits_phone_and_desktop, login_as, owner, row_of, run_action

MENSAJE = "Hola {nombre}, 20% de descuento en la tienda: " + "ven ya " * 4 + "y aprovecha"


def test_admin_sends_an_sms_campaign_and_watches_it_finish(page, tenants, sms_server, fake_twilio):
    admin = owner(tenants.admin_a)
    factories.plantilla(admin, "Hola {nombre}, 20% de descuento", nombre="Promo")
    elegidos = [
        factories.cliente(admin, nombre_cliente="Carlos", telefono="3001110001"),
        factories.cliente(admin, nombre_cliente="Pedro", telefono="3001110002"),
        factories.cliente(admin, nombre_cliente="Número", telefono=INVALID_PHONE.removeprefix("+57")),
    ]
    factories.cliente(admin, nombre_cliente="NoElegido", telefono="3001110004")
    login_as(page, "admin.a@test.co", server=sms_server.url)

    page.goto(f"{sms_server.url}/admin/clientes/")
    for c in elegidos:
        row_of(page, c.cedula_cliente).locator("input.action-checkbox").check()
    run_action(page, "Enviar SMS")
    expect(page.get_by_test_id("total-destinatarios")).to_contain_text("Clientes seleccionados: 3.")

    preview = page.get_by_test_id("vista-previa-en-vivo")
    expect(preview.locator("li")).to_have_count(3)  # the page's script is wired: one preview per recipient
    page.get_by_label("Nombre de la campaña").fill("Promo del navegador")
    page.get_by_label("Plantilla").select_option(label="Promo")
    mensaje = page.get_by_label("Mensaje", exact=True)
    expect(mensaje).to_have_value("Hola {nombre}, 20% de descuento")
    expect(preview.locator("li").first).to_contain_text("Hola Carlos, 20% de descuento")
    contador = page.get_by_test_id("contador-sms")
    expect(contador).to_contain_text("1 segmento · GSM-7")

    # 100 GSM-7 characters: one segment. One "á" makes it UCS-2 (70/67 per segment): two.
    mensaje.fill(MENSAJE)
    expect(contador).to_contain_text("1 segmento · GSM-7")
    mensaje.press_sequentially(" ya está")
    expect(contador).to_contain_text("2 segmentos · UCS-2 (por: á)")
    expect(preview.locator("li").first).to_contain_text("Hola Carlos, 20% de descuento en la tienda")
    expect(preview.locator("li").first).to_contain_text("2 seg. · UCS-2")

    page.get_by_test_id("revisar").click()
    resumen = page.get_by_test_id("resumen-envio")
    expect(page.get_by_test_id("enviables")).to_have_text("3")
    expect(page.get_by_test_id("omitidos")).to_have_text("0")
    expect(page.get_by_test_id("ucs2")).to_have_text("3")
    expect(page.get_by_test_id("segmentos")).to_have_text(str(3 * 2))
    expect(resumen.get_by_test_id("vista-previa").first).to_contain_text("Hola Carlos")
    assert_accessible(page)
    assert_fits_phone_and_desktop(page)
    screenshot(page, "enviar-sms")

    page.get_by_role("button", name="Confirmar y enviar 3 SMS").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Campaña «Promo del navegador» creada: 3 destinatarios."
    )
    barra = page.get_by_role("progressbar")
    expect(barra).to_have_attribute("aria-valuenow", "3", timeout=20_000)
    expect(page.get_by_test_id("agregados")).to_contain_text("Pendientes: 0")
    track = page.locator(".progress").bounding_box()
    assert barra.bounding_box()["width"] == pytest.approx(track["width"], abs=1)  # drawn full, not just said
    estado = page.get_by_test_id("estado-campana")
    expect(estado).to_have_attribute("data-estado", "completado", timeout=20_000)
    expect(estado).to_have_text("Completada")  # the label of panel/formatting.py
    log = page.get_by_test_id("log-sms")
    expect(log.locator("tr[data-estado=enviado]")).to_have_count(2)
    fallido = log.locator("tr[data-estado=fallido]")
    expect(fallido).to_have_count(1)
    expect(fallido).to_contain_text("21211")
    expect(fallido).to_contain_text(INVALID_PHONE)
    assert_accessible(page)
    assert_fits_phone_and_desktop(page)
    screenshot(page, "campana-progreso")

    texto = MENSAJE + " ya está"
    baja = TEXTO_BAJA
    assert fake_twilio.count_by("+573001110001", texto.replace("{nombre}", "Carlos") + baja) == 1
    assert fake_twilio.count_by("+573001110002", texto.replace("{nombre}", "Pedro") + baja) == 1
    assert fake_twilio.count_by("+573001110004", texto.replace("{nombre}", "NoElegido") + baja) == 0
