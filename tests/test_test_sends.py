"""Enviar prueba, Mi cuenta, "Enviar SMS" from a client, and the estimated cost in the review."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy.exc import IntegrityError

from panel.admin.dashboard import dashboard_data
from panel.extensions import db
from panel.models import SMSLog, Usuario
from panel.models.envio import TEXTO_BAJA
from panel.tenancy import using

from . import factories
from .helpers import PASSWORD, csrf_of, login
from .support.pages import TELEFONO, _ids, post_test, pruebas_enviadas, set_phone, wait_finished
from .support.sms import campaign, configure

# --- Enviar prueba -----------------------------------------------------------------------------


def test_a_test_send_goes_to_the_users_phone_with_the_first_recipients_text(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    set_phone(tenants.vendedor_a.id)
    login(client, tenants.vendedor_a.email)
    response = post_test(client, clientes_a)
    assert response.status_code == 200 and "Prueba enviada a su teléfono" in response.get_data(as_text=True)
    (campana,) = pruebas_enviadas()
    assert wait_finished(client, campana.id)["enviados"] == 1
    assert [(m["to"], m["body"]) for m in fake_twilio.created] == [("+573109998877", "Hola Ana" + TEXTO_BAJA)]
    log = db.session.scalars(sa.select(SMSLog).where(SMSLog.id_campana == campana.id)).one()
    assert (log.id_cliente, log.prueba, log.telefono) == (None, True, "+573109998877")


def test_a_test_send_is_not_in_the_dashboard_the_campaign_list_or_a_clients_history(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    set_phone(tenants.admin_a.id)
    campaign(db.session.get(Usuario, tenants.admin_a.id), n=1, nombre_cliente="Visible")
    login(client, tenants.admin_a.email)
    assert post_test(client, clientes_a[:1]).status_code == 200
    (prueba,) = pruebas_enviadas()
    wait_finished(client, prueba.id)
    with using(tenants.admin_a.id):
        data = dashboard_data()
    assert [c["nombre"] for c in data["campanas"]] == ["Prueba"]  # the real one, named by the helper
    assert prueba.id not in {c["id"] for c in data["campanas"] + data["en_curso"]}
    listing = client.get("/admin/campanas-sms/").get_data(as_text=True)
    assert f"/admin/campanas-sms/{prueba.id}/" not in listing and "Destinatarios" in listing
    assert f"/admin/campanas-sms/{prueba.id}/" in client.get("/admin/campanas-sms/?pruebas=1").get_data(
        as_text=True
    )
    details = client.get(f"/admin/clientes/details/?id={clientes_a[0].id_cliente}").get_data(as_text=True)
    assert 'data-testid="sms"' in details and "Sin SMS." in details


def test_ten_test_sends_an_hour_then_a_clear_refusal(app, client, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config)
    set_phone(tenants.admin_a.id)
    plantilla = factories.plantilla(db.session.get(Usuario, tenants.admin_a.id), "Hola {nombre}")
    login(client, tenants.admin_a.email)
    url = f"/admin/plantillas-sms/{plantilla.id}/prueba"
    for _ in range(10):
        token = csrf_of(client, "/admin/plantillas-sms/")
        assert client.post(url, data={"csrf_token": token}).status_code == 302
    token = csrf_of(client, "/admin/plantillas-sms/")
    page = client.post(url, data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "Ya hizo 10 envíos de prueba en la última hora" in page
    assert len(pruebas_enviadas()) == 10
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1, minutes=1), tick=True):
        token = csrf_of(client, "/admin/plantillas-sms/")
        assert client.post(url, data={"csrf_token": token}).status_code == 302
    assert len(pruebas_enviadas()) == 11


def test_from_a_template_the_sample_name_is_the_users_own(
    app, client, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    user = db.session.get(Usuario, tenants.admin_a.id)
    user.nombre = "Camila Rojas"
    db.session.commit()
    set_phone(user.id)
    plantilla = factories.plantilla(user, "Hola {nombre_completo}")
    login(client, tenants.admin_a.email)
    token = csrf_of(client, "/admin/plantillas-sms/")
    assert 'data-testid="prueba-plantilla"' in client.get("/admin/plantillas-sms/").get_data(as_text=True)
    assert (
        client.post(f"/admin/plantillas-sms/{plantilla.id}/prueba", data={"csrf_token": token}).status_code
        == 302
    )
    (campana,) = pruebas_enviadas()
    wait_finished(client, campana.id)
    assert [m["body"] for m in fake_twilio.created] == ["Hola Camila Rojas" + TEXTO_BAJA]


def test_another_tenants_template_cannot_be_tested(client, tenants):
    set_phone(tenants.admin_a.id)
    theirs = factories.plantilla(db.session.get(Usuario, tenants.admin_b.id), "Hola")
    login(client, tenants.admin_a.email)
    token = csrf_of(client, "/admin/plantillas-sms/")
    assert (
        client.post(f"/admin/plantillas-sms/{theirs.id}/prueba", data={"csrf_token": token}).status_code
        == 404
    )


def test_without_a_phone_the_button_says_how_to_add_one(client, tenants, clientes_a):
    login(client, tenants.vendedor_a.email)
    page = client.get(f"/admin/enviar-sms/?ids={_ids(clientes_a)}").get_data(as_text=True)
    assert 'data-testid="sin-telefono-prueba"' in page and "/admin/mi-cuenta/" in page
    response = post_test(client, clientes_a)
    assert "agréguelo en «Mi cuenta»" in response.get_data(as_text=True) and pruebas_enviadas() == []


def test_an_unverified_phone_gets_no_test_button_until_verified(client, tenants, clientes_a):
    user = db.session.get(Usuario, tenants.vendedor_a.id)
    user.telefono = TELEFONO  # typed in Mi cuenta, never verified
    factories.plantilla(db.session.get(Usuario, tenants.admin_a.id), "Hola {nombre}")
    db.session.commit()
    login(client, tenants.vendedor_a.email)
    page = client.get(f"/admin/enviar-sms/?ids={_ids(clientes_a)}").get_data(as_text=True)
    assert 'data-testid="sin-telefono-prueba"' in page and "verifique su teléfono" in page
    assert 'value="prueba"' not in page
    plantillas = client.get("/admin/plantillas-sms/").get_data(as_text=True)
    assert "Agregue y verifique su teléfono" in plantillas
    set_phone(tenants.vendedor_a.id)  # now verified: the button is there
    page = client.get(f"/admin/enviar-sms/?ids={_ids(clientes_a)}").get_data(as_text=True)
    assert 'value="prueba"' in page and 'data-testid="sin-telefono-prueba"' not in page


def test_a_real_log_row_needs_a_client(app, tenants):
    campana_id = campaign(db.session.get(Usuario, tenants.admin_a.id), n=1)
    with pytest.raises(IntegrityError):
        with using(tenants.admin_a.id):
            db.session.add(
                SMSLog(id_campana=campana_id, id_cliente=None, mensaje="x", id_propietario=tenants.admin_a.id)
            )
            db.session.commit()
    db.session.rollback()


# --- Mi cuenta ---------------------------------------------------------------------------------


def test_mi_cuenta_is_in_the_menu_for_every_staff_role(client, tenants):
    login(client, tenants.vendedor_a.email)
    page = client.get("/admin/mi-cuenta/").get_data(as_text=True)
    assert 'data-testid="mi-cuenta"' in page and 'href="/admin/mi-cuenta/"' in page


@pytest.mark.parametrize(
    "typed,stored,otros_paises",
    [
        ("300 123 4567", "3001234567", False),
        ("+573001234567", "+573001234567", False),
        ("+14155552671", "+14155552671", True),  # a mobile abroad, once the deployment allows it
    ],
)
def test_mi_cuenta_saves_the_phone(app, client, tenants, typed, stored, otros_paises):
    app.config["SMS_TEST_OTHER_COUNTRIES"] = otros_paises
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, "/admin/mi-cuenta/")
    response = client.post("/admin/mi-cuenta/telefono", data={"telefono": typed, "csrf_token": token})
    assert response.status_code == 302
    assert db.session.get(Usuario, tenants.vendedor_a.id).telefono == stored


@pytest.mark.parametrize(
    "typed", ["12345", "6011234567", "abc3001234567"]
)  # short, a Bogotá landline, letters
def test_mi_cuenta_refuses_a_phone_that_cannot_get_sms(client, tenants, typed):
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, "/admin/mi-cuenta/")
    page = client.post("/admin/mi-cuenta/telefono", data={"telefono": typed, "csrf_token": token})
    assert page.status_code == 200 and "Escriba un celular colombiano" in page.get_data(as_text=True)
    assert db.session.get(Usuario, tenants.vendedor_a.id).telefono is None


def test_mi_cuenta_without_csrf_is_refused(client, tenants):
    login(client, tenants.vendedor_a.email)
    assert client.post("/admin/mi-cuenta/telefono", data={"telefono": TELEFONO}).status_code == 400


def test_mi_cuenta_changes_the_password(app, client, tenants):
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, "/admin/mi-cuenta/")
    data = {"actual": PASSWORD, "nueva": "otra-clave-456", "repetida": "otra-clave-456", "csrf_token": token}
    assert client.post("/admin/mi-cuenta/clave", data=data).status_code == 302
    fresh = app.test_client()
    assert login(fresh, tenants.vendedor_a.email, "otra-clave-456").status_code == 302
    assert fresh.get("/admin/mi-cuenta/").status_code == 200


@pytest.mark.parametrize(
    "actual,nueva,repetida,message",
    [
        ("equivocada", "otra-clave-456", "otra-clave-456", "La contraseña actual no es correcta."),
        (PASSWORD, "corta", "corta", "al menos 8 caracteres"),
        (PASSWORD, "otra-clave-456", "otra-clave-789", "no coinciden"),
    ],
)
def test_mi_cuenta_refuses_a_bad_password_change(client, tenants, actual, nueva, repetida, message):
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, "/admin/mi-cuenta/")
    data = {"actual": actual, "nueva": nueva, "repetida": repetida, "csrf_token": token}
    page = client.post("/admin/mi-cuenta/clave", data=data)
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert db.session.get(Usuario, tenants.vendedor_a.id).check_password(PASSWORD)


# --- Enviar SMS from a client; the cost in the review ---------------------------------------------


def test_the_clients_page_opens_enviar_sms_for_that_client(client, tenants, clientes_a):
    login(client, tenants.vendedor_a.email)
    ana = clientes_a[0].id_cliente
    details = client.get(f"/admin/clientes/details/?id={ana}").get_data(as_text=True)
    assert 'data-testid="enviar-sms-cliente"' in details
    assert f'href="/admin/enviar-sms/?ids={ana}"' in details
    page = client.get(f"/admin/enviar-sms/?ids={ana}").get_data(as_text=True)
    assert "Clientes seleccionados:\n    <strong>1</strong>" in page


@pytest.mark.parametrize(
    "price,currency,row,total",
    [
        (None, None, "$ 25", "$ 50"),  # pesos by default: SMS_PRICE_CURRENCY=COP
        (Decimal("0.0500"), "USD", "US$ 0,05", "US$ 0,10"),  # dollars when the operator sets them
        (Decimal("0.0125"), "EUR", "EUR 0,0125", "EUR 0,025"),
    ],
)
def test_the_review_shows_the_estimated_cost(app, client, tenants, clientes_a, price, currency, row, total):
    if price is not None:
        app.config.update(SMS_PRICE_PER_SEGMENT=price, SMS_PRICE_CURRENCY=currency)
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, f"/admin/enviar-sms/?ids={_ids(clientes_a)}")
    data = {"ids": _ids(clientes_a), "mensaje": "Hola {nombre}", "paso": "revisar", "csrf_token": token}
    page = client.post("/admin/enviar-sms/", data=data).get_data(as_text=True)
    assert 'data-testid="segmentos">2<' in page
    assert f'data-testid="costo-total">{total}<' in page
    assert page.count(f'data-testid="costo">{row}<') == 2
