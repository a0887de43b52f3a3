"""In a real browser: a campaign scheduled for later (Bogotá time), made due, paused half-way
while the fake Twilio answers slowly, resumed, and finished with one message per recipient
(SPEC §9, §15; docs/decisions.md, "Campaign lifecycle")."""

import re
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from panel import clock, formatting
from panel.extensions import db
from panel.forms.enviar_sms_form import parse_programar_para
from panel.models import CampanaSMS, SMSLog
from panel.models.envio import TEXTO_BAJA  # what ends every commercial SMS
from tests import factories

from .conftest import SMS_SERVER_CONCURRENCY, screenshot
from .steps import assert_accessible, login_as, owner, row_of, run_action

NOMBRES = ["Lucía", "Mateo", "Valentina", "Santiago", "Isabella", "Sebastián", "Mariana", "Nicolás"]
TELEFONOS = [f"30022200{i:02d}" for i in range(1, len(NOMBRES) + 1)]
E164 = {"+57" + t for t in TELEFONOS}
MENSAJE = "Hola {nombre}, la feria de mañana empieza a las 9"
LATENCIA = 3.0  # seconds per call at the fake while the campaign sends: 8 rows, 2 at a time


def creados(fake) -> list[str]:
    """The numbers of this story that the fake Twilio created a message for (one entry each)."""
    with fake.lock:
        return [m["to"] for m in fake.created if m["to"] in E164]


def filas(campana_id: int) -> dict[str, int]:
    """The campaign's rows by estado, read from the database the served app writes."""
    db.session.expire_all()
    stmt = sa.select(SMSLog.estado, sa.func.count()).where(SMSLog.id_campana == campana_id)
    result = dict(db.session.execute(stmt.group_by(SMSLog.estado)).all())
    db.session.rollback()  # no read transaction left open against the served app's writes
    return result


def esperar(condicion, segundos: float, que: str):
    """Poll ``condicion`` until it is truthy, at most ``segundos``; its last value."""
    deadline = time.monotonic() + segundos
    while True:
        value = condicion()
        if value or time.monotonic() > deadline:
            assert value, f"sin {que} tras {segundos} s"
            return value
        time.sleep(0.2)


def test_admin_schedules_pauses_and_resumes_a_campaign(page, tenants, sms_server, fake_twilio):
    admin = owner(tenants.admin_a)
    pares = zip(NOMBRES, TELEFONOS, strict=True)
    clientes = [factories.cliente(admin, nombre_cliente=n, telefono=t) for n, t in pares]
    factories.cliente(admin, nombre_cliente="NoElegida", telefono="3002229999")
    login_as(page, "admin.a@test.co", server=sms_server.url)

    # Enviar SMS to the eight chosen clients, programmed two minutes ahead in Bogotá time.
    page.goto(f"{sms_server.url}/admin/clientes/")
    for c in clientes:
        row_of(page, c.cedula_cliente).locator("input.action-checkbox").check()
    run_action(page, "Enviar SMS")
    total = page.get_by_test_id("total-destinatarios")
    expect(total).to_contain_text(f"Clientes seleccionados: {len(clientes)}.")
    page.get_by_label("Nombre de la campaña").fill("Feria programada")
    page.get_by_label("Mensaje", exact=True).fill(MENSAJE)
    cuando = (datetime.now(formatting.BOGOTA) + timedelta(minutes=2)).strftime("%d/%m/%Y %H:%M")
    programar = page.get_by_test_id("programar-para")  # typed as people do: the picker stays out
    programar.press_sequentially(cuando)
    programar.press("Tab")
    expect(programar).to_have_value(cuando)
    hora = formatting.date_time(parse_programar_para(cuando, iso_only=False))  # dd/mm/aaaa HH:MM
    page.get_by_test_id("revisar").click()
    expect(page.get_by_test_id("enviables")).to_have_text(str(len(clientes)))
    expect(page.get_by_test_id("aviso-programada")).to_have_text(f"Se enviará el {hora}.")
    page.get_by_test_id("confirmar").click()

    expect(page).to_have_url(re.compile(r"/admin/campanas-sms/\d+/$"))
    campana_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(page.get_by_test_id("campana-titulo")).to_have_text("Feria programada")
    estado = page.get_by_test_id("estado-campana")
    expect(estado).to_have_text("Programada")
    expect(estado).to_have_attribute("data-estado", "programada")
    expect(page.get_by_test_id("programada")).to_contain_text(f"Programada para: {hora}")
    expect(page.get_by_test_id("pausar")).to_be_visible()
    assert creados(fake_twilio) == []  # scheduled: nothing reached Twilio
    assert filas(campana_id) == {"pendiente": len(clientes)}
    assert_accessible(page)
    screenshot(page, "campana-programada")

    # Make it due without waiting: its time moves to the past; the served app's poll starts it.
    fake_twilio.set(latency=LATENCIA)
    try:
        db.session.execute(
            sa.update(CampanaSMS)
            .where(CampanaSMS.id == campana_id)
            # the pollers wait for siguiente_envio (the time asked, or the window's next opening)
            .values(siguiente_envio=clock.utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        # The page's script follows it live; pause once the first messages reached the fake.
        expect(estado).to_have_attribute("data-estado", "procesando", timeout=20_000)
        expect(page.locator('[data-campo="enviados"]')).not_to_have_text("0", timeout=20_000)
        page.get_by_test_id("pausar").click()
        expect(page.locator(".alert-success")).to_contain_text("Campaña pausada.")
        expect(estado).to_have_text("Pausada")
        al_responder = len(creados(fake_twilio))

        # The calls in flight at the answer finish; no other one starts.
        esperar(lambda: "enviando" not in filas(campana_id), 4 * LATENCIA, "filas en envío")
        tras_pausa = len(creados(fake_twilio))
        assert tras_pausa - al_responder <= SMS_SERVER_CONCURRENCY
        time.sleep(2 * LATENCIA)  # long enough for another round of calls, were one started
        assert len(creados(fake_twilio)) == tras_pausa
        assert 0 < tras_pausa < len(clientes)  # paused half-way
        assert filas(campana_id) == {"enviado": tras_pausa, "pendiente": len(clientes) - tras_pausa}

        page.reload()
        expect(estado).to_have_text("Pausada")
        expect(page.locator('[data-campo="enviados"]')).to_have_text(str(tras_pausa))
        expect(page.locator('[data-campo="pendientes"]')).to_have_text(str(len(clientes) - tras_pausa))
        expect(page.get_by_test_id("reanudar")).to_be_visible()
        expect(page.get_by_test_id("pausar")).to_have_count(0)
        assert_accessible(page)
        screenshot(page, "campana-pausada")

        fake_twilio.set(latency=0.2)
        page.get_by_test_id("reanudar").click()
        expect(page.locator(".alert-success")).to_contain_text("Campaña reanudada.")
        expect(estado).to_have_text("Completada", timeout=30_000)
    finally:
        fake_twilio.set(latency=0.05)  # the session's fake, as its fixture made it

    # One message per recipient at the fake, none to the client left out.
    for c in clientes:
        texto = MENSAJE.replace("{nombre}", c.nombre_cliente) + TEXTO_BAJA
        assert fake_twilio.count_by("+57" + c.telefono, texto) == 1, c.nombre_cliente
    assert sorted(creados(fake_twilio)) == sorted(E164)
    assert fake_twilio.count_by("+573002229999", MENSAJE.replace("{nombre}", "NoElegida") + TEXTO_BAJA) == 0

    # The page's totals equal its rows.
    log = page.get_by_test_id("log-sms")
    expect(log.locator("tbody tr")).to_have_count(len(clientes))
    expect(page.locator('[data-campo="total"]')).to_have_text(str(len(clientes)))
    expect(log.locator("tr[data-estado=enviado]")).to_have_count(len(clientes))
    expect(page.locator('[data-campo="enviados"]')).to_have_text(str(len(clientes)))
    for campo in ("pendientes", "fallidos", "cancelados"):
        expect(page.locator(f'[data-campo="{campo}"]')).to_have_text("0")
    assert filas(campana_id) == {"enviado": len(clientes)}
    assert_accessible(page)
    screenshot(page, "campana-completada")
