"""Each agency's own Twilio account (SPEC §20): stored encrypted, shown as ••••abcd, used by the
sender, the rate limit and the webhooks of its tenant only; the platform's for everyone else."""

import html
import logging
import re
import threading

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from panel import secretos
from panel.config import ConfigError
from panel.extensions import db
from panel.models import Cliente, ConfiguracionEnvio, Historial, SMSLog
from panel.security import sha256_source
from panel.sms import cuentas_envio, ratelimit, sender
from panel.testing.fake_server import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN

from . import factories
from .api_support import keys
from .helpers import csrf_of, login
from .support.cuentas import KEY, new_account, signed, store_account
from .support.sms import campaign, campana, configure, rows

__all__ = ["keys"]

URL = "/admin/envio-sms/"
RATE = 5
FROM_A = "+573001110000"
SERVICE_B = "MG" + "b" * 32


@pytest.fixture
def accounts(app, tenants, fake_twilio, twilio_app_config):
    """Tenants A and B with their own accounts on the fake (a From number; a Messaging Service),
    tenant C on the platform's (the fake's primary account); every cap equal to the rate."""
    configure(app, twilio_app_config, PANEL_ENCRYPTION_KEY=KEY, SMS_RATE_PER_SECOND=RATE)
    admin_c = factories.snapshot(factories.user("admin.c@test.co", "admin"))
    (sid_a, token_a), (sid_b, token_b) = new_account(), new_account()
    fake_twilio.set(rate_cap=RATE)
    account_a = fake_twilio.add_account(sid_a, token_a, rate_cap=RATE)
    account_b = fake_twilio.add_account(sid_b, token_b, rate_cap=RATE)
    store_account(app, tenants.admin_a.id, sid_a, token_a, from_number=FROM_A)
    store_account(app, tenants.admin_b.id, sid_b, token_b, service=SERVICE_B)
    return dict(a=account_a, b=account_b, admin_c=admin_c, token_a=token_a, token_b=token_b)


def _send_at_once(app, ids: list[int]) -> None:
    """Run the campaigns' sender passes side by side, as three workers would."""

    def run(cid: int) -> None:
        with app.app_context():
            sender.run_campaign(cid)

    threads = [threading.Thread(target=run, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def test_three_tenants_send_at_once_each_through_its_own_account(app, tenants, fake_twilio, accounts):
    ids = {
        "a": campaign(tenants.admin_a, 8, mensaje="Hola {nombre} de A"),
        "b": campaign(tenants.admin_b, 8, mensaje="Hola {nombre} de B"),
        "c": campaign(accounts["admin_c"], 8, mensaje="Hola {nombre} de C"),
    }
    _send_at_once(app, list(ids.values()))
    by_account = {"a": accounts["a"].created, "b": accounts["b"].created, "c": fake_twilio.created}
    for name, created in by_account.items():
        assert len(created) == 8 and {m["body"][-4:] for m in created} == {f"de {name.upper()}"}
        assert all(r.estado == "enviado" for r in rows(ids[name]))
    assert {m["from"] for m in accounts["a"].created} == {FROM_A}
    assert {m["servicio"] for m in accounts["b"].created} == {SERVICE_B}
    assert {m["from"] for m in fake_twilio.created} == {twilio_from(app)}
    # Each account's cap (equal to the rate) held: its own limit paced it, none was refused.
    assert accounts["a"].rejected_429 == accounts["b"].rejected_429 == fake_twilio.rejected_429 == 0
    recorded = {name: campana(cid).cuenta_twilio for name, cid in ids.items()}
    sid_a, sid_b = accounts["a"].simulator.account_sid, accounts["b"].simulator.account_sid
    assert recorded == {"a": sid_a, "b": sid_b, "c": FAKE_ACCOUNT_SID}


def twilio_from(app) -> str:
    return app.config["TWILIO_FROM_NUMBER"]


def test_the_rate_limit_is_per_account_and_the_platform_keeps_its_key(app, accounts):
    platform = ratelimit.from_config(app.config)
    own = ratelimit.from_config(app.config, accounts["a"].simulator.account_sid)
    assert own.key == f"{platform.key}:{accounts['a'].simulator.account_sid}"
    assert (own.rate, platform.rate) == (RATE, RATE)


def test_a_campaign_page_shows_the_account_it_went_through(app, client, tenants, accounts):
    cid = campaign(tenants.admin_a, 1)
    sender.run_campaign(cid)
    login(client, tenants.admin_a.email)
    page = client.get(f"/admin/campanas-sms/{cid}/").get_data(as_text=True)
    assert accounts["a"].simulator.account_sid in page and "propia de su empresa" in page


# --- webhooks: the token of the account the request names ---------------------------------------


@pytest.fixture
def sent_a(app, tenants, accounts):
    """A message of tenant A, sent through its own account."""
    cid = campaign(tenants.admin_a, 1)
    sender.run_campaign(cid)
    return rows(cid)[0]


def _status(row, account_sid: str) -> dict:
    return {"MessageSid": row.twilio_sid, "MessageStatus": "delivered", "AccountSid": account_sid}


def _delivery(row_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(SMSLog, row_id).estado_entrega


def test_a_webhook_signed_with_another_accounts_token_is_refused(client, accounts, sent_a):
    sid_a = accounts["a"].simulator.account_sid
    for token in (accounts["token_b"], FAKE_AUTH_TOKEN):
        assert signed(client, "/twilio/status", _status(sent_a, sid_a), token).status_code == 403
    assert _delivery(sent_a.id) == "queued"
    assert signed(client, "/twilio/status", _status(sent_a, sid_a), accounts["token_a"]).status_code == 204
    assert _delivery(sent_a.id) == "delivered"


def test_an_unknown_account_is_refused_and_the_platforms_is_accepted(client, accounts, sent_a):
    stranger, token = new_account()
    assert signed(client, "/twilio/status", _status(sent_a, stranger), token).status_code == 403
    params = _status(sent_a, FAKE_ACCOUNT_SID)
    assert signed(client, "/twilio/status", params, FAKE_AUTH_TOKEN).status_code == 204


def test_a_stop_to_a_tenants_own_number_opts_out_only_that_tenant(app, client, tenants, accounts):
    ids = [campaign(tenants.admin_a, 1), campaign(accounts["admin_c"], 1)]  # one phone, two tenants
    for cid in ids:
        sender.run_campaign(cid)
    phone = rows(ids[0])[0].telefono
    params = {"From": phone, "Body": "SALIR", "AccountSid": accounts["a"].simulator.account_sid}
    assert signed(client, "/twilio/inbound", params, accounts["token_a"]).status_code == 200
    db.session.expire_all()
    acepta = {c.id_propietario: c.acepta_sms for c in db.session.scalars(sa.select(Cliente))}
    assert acepta == {tenants.admin_a.id: False, accounts["admin_c"].id: True}


# --- the page: admins only, the token shown as ••••abcd, never again ---------------------------


def _form(client, **over) -> dict:
    sid, token = new_account()
    fields = {
        "twilio_account_sid": sid,
        "twilio_auth_token": token,
        "twilio_from_number": FROM_A,
        "twilio_messaging_service_sid": "",
        "csrf_token": csrf_of(client, URL),
    }
    return fields | over


def _stored() -> ConfiguracionEnvio:
    db.session.expire_all()
    return db.session.scalars(sa.select(ConfiguracionEnvio)).one()


@pytest.fixture
def admin_a(app, client, tenants):
    app.config["PANEL_ENCRYPTION_KEY"] = KEY
    login(client, tenants.admin_a.email)
    return client


def test_the_token_is_stored_encrypted_and_shown_only_as_its_last_four(app, admin_a, caplog):
    caplog.set_level(logging.DEBUG)
    form = _form(admin_a)
    token = form["twilio_auth_token"]
    assert admin_a.post(URL + "cuenta/", data=form).status_code == 302
    stored = _stored()
    assert stored.twilio_token_cifrado and token not in stored.twilio_token_cifrado
    assert secretos.decrypt(app.config, stored.twilio_token_cifrado) == token
    page = admin_a.get(URL).get_data(as_text=True)
    assert "••••" + token[-4:] in page and token not in page
    entries = db.session.scalars(sa.select(Historial).where(Historial.modelo == "ConfiguracionEnvio")).all()
    assert (
        entries and "twilio_auth_token" in str(entries[-1].detalle) and token not in str(entries[-1].detalle)
    )
    historial = admin_a.get("/admin/historial/").get_data(as_text=True)
    assert "Auth Token de Twilio" in historial and token not in historial
    for formato in ("csv", "xlsx"):
        exported = admin_a.get(f"/admin/historial/exportar/{formato}/")
        assert exported.status_code == 200 and token.encode() not in exported.get_data()
    assert token not in caplog.text


def test_the_token_never_leaves_through_a_send_the_api_or_a_log(app, client, tenants, accounts, keys, caplog):
    caplog.set_level(logging.DEBUG)
    cid = campaign(tenants.admin_a, 2)
    sender.run_campaign(cid)
    response = client.get(f"/clientes/campanas-sms/{cid}/", headers=keys.admin_a)
    assert response.status_code == 200 and len(accounts["a"].created) == 2
    assert accounts["token_a"] not in response.get_data(as_text=True)
    assert accounts["token_a"] not in caplog.text
    assert accounts["token_a"] not in repr(cuentas_envio.of_tenant(tenants.admin_a.id, app.config))


def test_a_blank_token_keeps_the_stored_one_for_the_same_account(app, admin_a):
    form = _form(admin_a)
    admin_a.post(URL + "cuenta/", data=form)
    before = _stored().twilio_token_cifrado
    again = form | {
        "twilio_auth_token": "",
        "twilio_from_number": "+573002220000",
        "csrf_token": csrf_of(admin_a, URL),
    }
    assert admin_a.post(URL + "cuenta/", data=again).status_code == 302
    stored = _stored()
    assert stored.twilio_from_number == "+573002220000" and stored.twilio_token_cifrado == before
    other_sid, _ = new_account()
    moved = again | {"twilio_account_sid": other_sid, "csrf_token": csrf_of(admin_a, URL)}
    response = admin_a.post(URL + "cuenta/", data=moved)
    assert response.status_code == 200 and "Escriba el Auth Token de la cuenta." in response.get_data(
        as_text=True
    )
    assert _stored().twilio_account_sid == form["twilio_account_sid"]


@pytest.mark.parametrize(
    "over,message",
    [
        ({"twilio_account_sid": "AC123"}, "El Account SID empieza por AC y sigue con 32 caracteres"),
        ({"twilio_account_sid": "MG" + "a" * 32}, "El Account SID empieza por AC"),
        ({"twilio_auth_token": "corto"}, "El Auth Token de Twilio tiene 32 caracteres hexadecimales"),
        ({"twilio_from_number": "3001234567"}, "formato internacional E.164"),
        ({"twilio_from_number": "", "twilio_messaging_service_sid": "MG123"}, "empieza por MG y sigue"),
        ({"twilio_messaging_service_sid": "MG" + "c" * 32}, "un solo remitente"),
        ({"twilio_from_number": ""}, "Indique el remitente"),
        ({"twilio_account_sid": "AC" + "a" * 31 + "\x07"}, "caracteres de control"),
    ],
)
def test_a_bad_account_is_refused_in_spanish(admin_a, over, message):
    form = _form(admin_a, **over)
    response = admin_a.post(URL + "cuenta/", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page and form["twilio_auth_token"] not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConfiguracionEnvio)) == 0


def test_without_an_encryption_key_the_save_refuses_in_spanish(app, admin_a):
    app.config["PANEL_ENCRYPTION_KEY"] = None
    page = admin_a.get(URL).get_data(as_text=True)
    assert 'data-testid="sin-clave"' in page
    response = admin_a.post(URL + "cuenta/", data=_form(admin_a))
    assert (
        response.status_code == 200
        and "Falta la clave de cifrado PANEL_ENCRYPTION_KEY" in response.get_data(as_text=True)
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConfiguracionEnvio)) == 0


def test_a_non_admin_gets_403_on_the_settings(client, tenants):
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client)
    assert client.get(URL).status_code == 403
    for action in ("cuenta/", "cuenta/probar/", "cuenta/quitar/"):
        assert client.post(URL + action, data={"csrf_token": token}).status_code == 403


# --- «Probar conexión» and «Quitar» ---------------------------------------------------------------


def test_probar_conexion_asks_twilio_for_the_account(app, client, tenants, accounts):
    login(client, tenants.admin_a.email)
    page = client.post(
        URL + "cuenta/probar/", data={"csrf_token": csrf_of(client, URL)}, follow_redirects=True
    )
    assert "Conexión correcta: Twilio reconoce la cuenta" in page.get_data(as_text=True)
    store_account(
        app, tenants.admin_a.id, accounts["a"].simulator.account_sid, new_account()[1], from_number=FROM_A
    )
    page = client.post(
        URL + "cuenta/probar/", data={"csrf_token": csrf_of(client, URL)}, follow_redirects=True
    )
    assert "Twilio rechazó las credenciales (error 20003)" in page.get_data(as_text=True)


def test_removing_the_own_account_goes_back_to_the_platforms(app, client, tenants, fake_twilio, accounts):
    assert cuentas_envio.of_tenant(tenants.admin_a.id, app.config).propia
    login(client, tenants.admin_a.email)
    assert client.post(URL + "cuenta/quitar/", data={"csrf_token": csrf_of(client, URL)}).status_code == 302
    cuenta = cuentas_envio.of_tenant(tenants.admin_a.id, app.config)
    assert (cuenta.propia, cuenta.sid) == (False, FAKE_ACCOUNT_SID)
    cid = campaign(tenants.admin_a, 1)
    sender.run_campaign(cid)
    assert len(fake_twilio.created) == 1 and accounts["a"].created == []
    assert campana(cid).cuenta_twilio == FAKE_ACCOUNT_SID


# --- the secret box and its rotation ----------------------------------------------------------------


def test_encryption_round_trip_and_the_rotation_command(app, runner, tenants):
    old, new = KEY, Fernet.generate_key().decode()
    app.config["PANEL_ENCRYPTION_KEY"] = old
    sid, token = new_account()
    store_account(app, tenants.admin_a.id, sid, token, from_number=FROM_A)
    assert secretos.decrypt(app.config, _stored().twilio_token_cifrado) == token
    app.config["PANEL_ENCRYPTION_KEY"] = f"{new},{old}"
    result = runner.invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 0 and "1 Auth Token(s)" in result.output and token not in result.output
    assert secretos.decrypt({"PANEL_ENCRYPTION_KEY": new}, _stored().twilio_token_cifrado) == token
    with pytest.raises(secretos.SecretoError, match="no se puede descifrar"):
        secretos.decrypt({"PANEL_ENCRYPTION_KEY": old}, _stored().twilio_token_cifrado)


def test_a_token_no_key_opens_fails_the_campaign_in_spanish(app, tenants, accounts):
    app.config["PANEL_ENCRYPTION_KEY"] = Fernet.generate_key().decode()  # the key was changed, not rotated
    cid = campaign(tenants.admin_a, 1)
    sender.run_campaign(cid)
    assert campana(cid).estado == "error" and "no se puede descifrar" in campana(cid).error_mensaje
    assert accounts["a"].created == []


def test_production_does_not_start_with_stored_tokens_and_no_key(app, tenants):
    production = {**app.config, "PANEL_ENV": "production", "PANEL_ENCRYPTION_KEY": None}
    cuentas_envio.check_key(production)  # no token stored yet: nothing to open
    app.config["PANEL_ENCRYPTION_KEY"] = KEY
    store_account(app, tenants.admin_a.id, *new_account(), from_number=FROM_A)
    cuentas_envio.check_key({**production, "PANEL_ENCRYPTION_KEY": KEY})
    with pytest.raises(ConfigError, match="PANEL_ENCRYPTION_KEY es obligatoria: 1 empresa"):
        cuentas_envio.check_key(production)


def test_the_confirmation_of_quitar_runs_under_the_csp(app, admin_a, tenants):
    store_account(app, tenants.admin_a.id, *new_account(), from_number=FROM_A)
    response = admin_a.get(URL)
    handlers = re.findall(r'onsubmit="([^"]+)"', response.get_data(as_text=True))
    assert len(handlers) == 1 and "Quitar la cuenta propia" in handlers[0]
    assert sha256_source(html.unescape(handlers[0])) in response.headers["Content-Security-Policy"]
