"""Twilio webhooks: signed status callbacks (idempotent, never backwards) and inbound STOP/START."""

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from panel import consent
from panel.extensions import db
from panel.models import Cliente, ConsentimientoSMS, NumeroExcluidoPropio, SMSLog
from panel.sms import sender

from . import factories
from .api_support import BASE, keys
from .support.sms import campaign, configure, rows

__all__ = ["keys"]

TOKEN = "token-de-la-cuenta"
STATUS_URL = "http://localhost/twilio/status"
INBOUND_URL = "http://localhost/twilio/inbound"


@pytest.fixture
def twilio_app(app):
    app.config.update(
        TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_FROM_NUMBER="+15005550006"
    )
    return app


def signed_post(client, url: str, params: dict, token: str = TOKEN, sign_url: str | None = None):
    signature = RequestValidator(token).compute_signature(sign_url or url, params)
    return client.post(url, data=params, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def sent_row(twilio_app, tenants):
    """A log row Twilio accepted, with its SID."""
    cid = campaign(tenants.admin_a, 1)
    row = rows(cid)[0]
    with db.engine.begin() as conn:
        conn.execute(
            SMSLog.__table__.update()
            .where(SMSLog.__table__.c.id == row.id)
            .values(estado="enviado", twilio_sid="SM" + "a" * 32, estado_entrega="queued")
        )
    return rows(cid)[0]


def status_of(row_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(SMSLog, row_id).estado_entrega


def test_valid_signature_updates_the_delivery_status(client, sent_row):
    response = signed_post(
        client, STATUS_URL, {"MessageSid": sent_row.twilio_sid, "MessageStatus": "delivered"}
    )
    assert response.status_code == 204
    assert status_of(sent_row.id) == "delivered"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": "falsa"},
        {
            "X-Twilio-Signature": RequestValidator("otro").compute_signature(
                STATUS_URL, {"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed"}
            )
        },
    ],
    ids=["sin-firma", "falsificada", "otro-token"],
)
def test_unsigned_or_forged_callbacks_are_refused(client, sent_row, headers):
    data = {"MessageSid": sent_row.twilio_sid, "MessageStatus": "failed"}
    assert client.post("/twilio/status", data=data, headers=headers).status_code == 403
    assert status_of(sent_row.id) == "queued"


def test_tampered_parameters_break_the_signature(client, sent_row):
    signature = RequestValidator(TOKEN).compute_signature(
        STATUS_URL, {"MessageSid": sent_row.twilio_sid, "MessageStatus": "sent"}
    )
    data = {"MessageSid": sent_row.twilio_sid, "MessageStatus": "failed"}
    assert (
        client.post("/twilio/status", data=data, headers={"X-Twilio-Signature": signature}).status_code == 403
    )


def test_out_of_order_and_duplicate_callbacks_never_move_backwards(client, sent_row):
    sid = sent_row.twilio_sid
    for status in ["sending", "delivered", "sent", "queued", "delivered", "sending"]:
        assert (
            signed_post(client, STATUS_URL, {"MessageSid": sid, "MessageStatus": status}).status_code == 204
        )
    assert status_of(sent_row.id) == "delivered"


def test_undelivered_records_twilio_error_code(client, sent_row):
    params = {"MessageSid": sent_row.twilio_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    signed_post(client, STATUS_URL, params)
    db.session.expire_all()
    row = db.session.get(SMSLog, sent_row.id)
    assert (row.estado_entrega, row.error_codigo) == ("undelivered", 30003)


def test_unknown_sid_is_accepted_and_changes_nothing(client, sent_row):
    assert (
        signed_post(client, STATUS_URL, {"MessageSid": "SMotro", "MessageStatus": "delivered"}).status_code
        == 204
    )
    assert status_of(sent_row.id) == "queued"


def test_public_base_url_is_the_url_that_is_signed(client, twilio_app, sent_row):
    twilio_app.config["PUBLIC_BASE_URL"] = "https://panel.example.co/"
    params = {"MessageSid": sent_row.twilio_sid, "MessageStatus": "sent"}
    assert signed_post(client, STATUS_URL, params).status_code == 403  # signed for the internal URL
    public = "https://panel.example.co/twilio/status"
    assert signed_post(client, STATUS_URL, params, sign_url=public).status_code == 204
    assert status_of(sent_row.id) == "sent"


OLD_CONSTANT = "simulacion"  # the token that used to be written in panel/sms/simulator.py
SIM_SECRET = "secreto-de-este-despliegue"


@pytest.fixture
def simulated_app(app):
    """Simulation mode (no Twilio credentials) with a per-deployment secret."""
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, TWILIO_SIMULATION_TOKEN=SIM_SECRET)
    return app


@pytest.mark.parametrize("url", [STATUS_URL, INBOUND_URL])
def test_simulation_without_a_token_turns_the_webhooks_off(app, client, url):
    app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, TWILIO_SIMULATION_TOKEN=None)
    params = {"MessageSid": "SMx", "MessageStatus": "sent", "From": "+573001234567", "Body": "STOP"}
    assert signed_post(client, url, params, token=OLD_CONSTANT).status_code == 404
    assert client.post(url, data=params).status_code == 404


@pytest.mark.parametrize("url", [STATUS_URL, INBOUND_URL])
def test_the_old_constant_no_longer_signs_anything(simulated_app, client, url):
    params = {"MessageSid": "SMx", "MessageStatus": "sent", "From": "+573001234567", "Body": "STOP"}
    assert signed_post(client, url, params, token=OLD_CONSTANT).status_code == 403


def test_simulation_accepts_only_the_deployment_secret(simulated_app, client, sent_row):
    simulated_app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None)  # after sent_row's
    params = {"MessageSid": sent_row.twilio_sid, "MessageStatus": "delivered"}
    assert signed_post(client, STATUS_URL, params, token="cualquiera").status_code == 403
    assert status_of(sent_row.id) == "queued"
    assert signed_post(client, STATUS_URL, params, token=SIM_SECRET).status_code == 204
    assert status_of(sent_row.id) == "delivered"


def test_the_simulator_signs_its_callbacks_with_the_deployment_secret(simulated_app, client, sent_row):
    from panel.sms.client import make_twilio_client
    from panel.sms.simulator import shared_simulator

    simulated_app.config.update(TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None)  # after sent_row's
    make_twilio_client(simulated_app.config)  # as the sender does when it starts
    params = {"MessageSid": sent_row.twilio_sid, "MessageStatus": "sent"}
    signature = shared_simulator().sign_callback(STATUS_URL, params)
    response = client.post(STATUS_URL, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 204 and status_of(sent_row.id) == "sent"


@pytest.fixture
def same_phone(twilio_app, tenants):
    """Tenant A sent to a number; tenant B has a client with the same number but never sent to it."""
    cid = campaign(tenants.admin_a, 1)
    row = rows(cid)[0]
    other = factories.cliente(tenants.admin_b, telefono=row.telefono)
    return row, other


def acepta(id_cliente: int) -> bool:
    db.session.expire_all()
    return db.session.get(Cliente, id_cliente).acepta_sms


@pytest.mark.parametrize(
    "keyword",
    [
        "STOP",
        "stop",
        " Unsubscribe ",
        "CANCEL",
        "END",
        "QUIT",
        "STOPALL",
        "SALIR",
        " sálir ",
        "Baja",
        "CANCELAR",
        "SA LIR",
    ],
)
def test_stop_keywords_opt_out_in_the_tenant_that_sent(client, same_phone, keyword):
    row, other = same_phone
    response = signed_post(client, INBOUND_URL, {"From": row.telefono, "To": "+15005550006", "Body": keyword})
    assert response.status_code == 200 and "<Response>" in response.get_data(as_text=True)
    assert acepta(row.id_cliente) is False
    assert acepta(other.id_cliente) is True  # another tenant's client is not touched


def test_start_opts_back_in_and_other_words_change_nothing(client, same_phone):
    row, _ = same_phone
    params = {"From": row.telefono, "To": "+15005550006"}
    signed_post(client, INBOUND_URL, {**params, "Body": "STOP"})
    signed_post(client, INBOUND_URL, {**params, "Body": "gracias, no pare"})
    assert acepta(row.id_cliente) is False
    signed_post(client, INBOUND_URL, {**params, "Body": "START"})
    assert acepta(row.id_cliente) is True


def test_inbound_requires_a_signature(client, same_phone):
    row, _ = same_phone
    data = {"From": row.telefono, "Body": "STOP"}
    assert client.post("/twilio/inbound", data=data).status_code == 403
    assert acepta(row.id_cliente) is True


def test_stop_matches_a_phone_typed_in_national_form(client, twilio_app, tenants):
    c = factories.cliente(tenants.admin_a, telefono="3109876543")
    campaign_id = campaign(tenants.admin_a, 1)
    with db.engine.begin() as conn:  # the campaign went to this client's E.164 number
        conn.execute(
            SMSLog.__table__.update()
            .where(SMSLog.__table__.c.id_campana == campaign_id)
            .values(telefono="+573109876543")
        )
    signed_post(client, INBOUND_URL, {"From": "+573109876543", "Body": "STOP"})
    assert acepta(c.id_cliente) is False


def test_a_salir_reply_is_recorded_as_consent_evidence_and_excludes_the_number(client, same_phone):
    from panel.models import ConsentimientoSMS, NumeroExcluidoPropio

    row, other = same_phone
    signed_post(client, INBOUND_URL, {"From": row.telefono, "To": "+15005550006", "Body": "Salir"})
    assert acepta(row.id_cliente) is False
    last = db.session.scalars(
        sa.select(ConsentimientoSMS)
        .where(ConsentimientoSMS.id_cliente == row.id_cliente)
        .order_by(ConsentimientoSMS.id.desc())
    ).first()
    assert (last.acepta, last.fuente) == (False, "respuesta SMS")
    excluded = db.session.scalars(
        sa.select(NumeroExcluidoPropio.id_propietario).where(NumeroExcluidoPropio.numero == row.telefono)
    )
    assert list(excluded) == [
        db.session.get(Cliente, row.id_cliente).id_propietario
    ]  # only the tenant that sent
    signed_post(client, INBOUND_URL, {"From": row.telefono, "To": "+15005550006", "Body": "ALTA"})
    assert acepta(row.id_cliente) is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NumeroExcluidoPropio)) == 0


# --- opt-in by SMS undoes only an opt-out made by SMS reply (SPEC §18) ---------------------------


def _excluded(tenant_id: int) -> list[tuple[str, str]]:
    db.session.expire_all()
    stmt = sa.select(NumeroExcluidoPropio.numero, NumeroExcluidoPropio.fuente)
    return db.session.execute(stmt.where(NumeroExcluidoPropio.id_propietario == tenant_id)).all()


def _last_source(id_cliente: int) -> str:
    stmt = sa.select(ConsentimientoSMS.fuente).where(ConsentimientoSMS.id_cliente == id_cliente)
    return db.session.scalars(stmt.order_by(ConsentimientoSMS.id.desc())).first()


@pytest.fixture
def both_sent(app, tenants, fake_twilio, twilio_app_config):
    """Tenants A and B each sent a message to the same number through the fake Twilio."""
    configure(app, twilio_app_config)
    sent = []
    for admin in (tenants.admin_a, tenants.admin_b):
        cid = campaign(admin, 1)
        assert sender.run_campaign(cid)["enviado"] == 1
        sent.append(rows(cid)[0])
    assert sent[0].telefono == sent[1].telefono and len(fake_twilio.created) == 2
    return sent


def _reply(client, app, phone: str, body: str):
    params = {"From": phone, "To": app.config["TWILIO_FROM_NUMBER"], "Body": body}
    response = signed_post(client, INBOUND_URL, params, token=app.config["TWILIO_AUTH_TOKEN"])
    assert response.status_code == 200


def test_start_leaves_an_api_withdrawal_of_another_tenant_alone(app, client, keys, tenants, both_sent):
    a, b = both_sent
    off = client.patch(f"{BASE}{b.id_cliente}/", json={"acepta_sms": False}, headers=keys.admin_b)
    assert off.status_code == 200
    _reply(client, app, a.telefono, "SALIR")
    assert (acepta(a.id_cliente), acepta(b.id_cliente)) == (False, False)
    _reply(client, app, a.telefono, "START")
    assert acepta(a.id_cliente) is True  # the SMS opt-out is undone…
    assert acepta(b.id_cliente) is False  # …the admin's withdrawal through the API is not
    assert _excluded(tenants.admin_a.id) == []
    assert _last_source(b.id_cliente) == "API"
    assert _excluded(tenants.admin_b.id) == [(a.telefono, "API")]


@pytest.mark.parametrize("fuente", ["Twilio (error 21610)", "a mano", "importación"])
def test_start_leaves_a_withdrawal_not_made_by_sms_alone(app, client, tenants, both_sent, fuente):
    a, _ = both_sent
    with db.engine.begin() as conn:
        consent.record_number(conn, tenants.admin_a.id, a.telefono, False, fuente)
    _reply(client, app, a.telefono, "ALTA")
    assert acepta(a.id_cliente) is False
    assert _excluded(tenants.admin_a.id) == [(a.telefono, fuente)]


def test_start_undoes_an_sms_opt_out_only_in_the_tenants_that_sent(app, client, tenants, both_sent):
    a, b = both_sent
    third = factories.user("admin.c@test.co", "admin")
    theirs = factories.cliente(third, telefono=a.telefono)
    with db.engine.begin() as conn:  # withdrawn in C as if by reply, though C never sent to it
        consent.record_opt_out(conn, third.id, a.telefono)
    _reply(client, app, a.telefono, "Baja")
    assert (acepta(a.id_cliente), acepta(b.id_cliente)) == (False, False)
    _reply(client, app, a.telefono, " Acepto ")
    assert (acepta(a.id_cliente), acepta(b.id_cliente)) == (True, True)
    assert _excluded(tenants.admin_a.id) == _excluded(tenants.admin_b.id) == []
    assert _last_source(a.id_cliente) == "respuesta SMS"
    assert acepta(theirs.id_cliente) is False  # C sent nothing to that number: not C's reply
    assert _excluded(third.id) == [(a.telefono, "respuesta SMS")]
