"""In a real browser: a double-clicked "Confirmar y enviar" creates one campaign (the one-time
key of the confirmation form; the button is not disabled by script, so the server decides)."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from panel.extensions import db
from panel.models import CampanaSMS
from panel.models.envio import TEXTO_BAJA  # what ends every commercial SMS
from tests import factories

from .steps import login_as, owner


def test_a_double_clicked_confirmation_creates_one_campaign(page, tenants, sms_server, fake_twilio):
    admin = owner(tenants.admin_a)
    ids = [
        factories.cliente(admin, nombre_cliente=n, telefono=t).id_cliente
        for n, t in (("Carlos", "3001110001"), ("Pedro", "3001110002"))
    ]
    login_as(page, "admin.a@test.co", server=sms_server.url)
    page.goto(f"{sms_server.url}/admin/enviar-sms/?ids={','.join(map(str, ids))}")
    expect(page.get_by_test_id("total-destinatarios")).to_contain_text("Clientes seleccionados: 2.")
    page.get_by_label("Mensaje", exact=True).fill("Hola {nombre}")
    page.get_by_test_id("revisar").click()
    expect(page.get_by_test_id("enviables")).to_have_text("2")

    page.get_by_test_id("confirmar").dblclick()
    expect(page).to_have_url(re.compile(r"/admin/campanas-sms/\d+/$"))
    expect(page.get_by_test_id("estado-campana")).to_have_attribute(
        "data-estado", "completado", timeout=20_000
    )

    db.session.expire_all()
    campanas = db.session.scalars(sa.select(CampanaSMS)).all()
    assert len(campanas) == 1
    assert page.url.endswith(f"/admin/campanas-sms/{campanas[0].id}/")
    # The fake is the session's: other stories send to these numbers too, with other bodies.
    ours = [
        m["to"]
        for m in fake_twilio.created
        if m["body"] in ("Hola Carlos" + TEXTO_BAJA, "Hola Pedro" + TEXTO_BAJA)
    ]
    assert sorted(ours) == ["+573001110001", "+573001110002"]
