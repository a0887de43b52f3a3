"""Idempotent confirmation: the panel's one-time key and the API's Idempotency-Key header.

Real database, real Twilio SDK against the fake server: "one campaign" is counted in the
database and "one message per recipient" at the fake.
"""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from panel.extensions import db
from panel.models import CampanaSMS, ClaveIdempotencia, Cliente

from .api_support import body, cuenta_cliente, keys
from .clock_fixtures import next_open_morning, real_time
from .conftest import make_app
from .helpers import csrf_of, login
from .support.pages import _ids, wait_finished
from .support.sms import ROOT, configure

# Commercial campaigns (the default) send only inside the contact window: a weekday morning.
pytestmark = pytest.mark.usefixtures("ventana_abierta")

__all__ = ["keys"]

ENVIAR = "/clientes/enviar-sms/"
CLIENTES = "/Database/Database/clientes/"
CLAVE = re.compile(r'name="clave_confirmacion" value="([^"]+)"')


def campaigns() -> int:
    return db.session.scalar(sa.select(sa.func.count(CampanaSMS.id)))


def with_key(headers: dict, clave: str) -> dict:
    return {**headers, "Idempotency-Key": clave}


@pytest.fixture
def sms_app(app, database_url, twilio_app_config):
    """An app whose real Twilio SDK talks to the fake server (same database)."""
    return make_app(database_url, **twilio_app_config, SMS_SYNC_WAIT=15, IDEMPOTENCY_WAIT=30)


@pytest.fixture
def destinatarios(app, tenants):
    a = tenants.admin_a
    from . import factories

    return [
        factories.cliente(a, nombre_cliente="Ana", telefono="3005550001").id_cliente,
        factories.cliente(a, nombre_cliente="Luis", telefono="3005550002").id_cliente,
    ]


# --- the panel's confirmation form -----------------------------------------------------------


def review(client, clientes) -> tuple[str, dict]:
    """Review a send as a browser does; the confirmation form's fields."""
    token = csrf_of(client, f"/admin/enviar-sms/?ids={_ids(clientes)}")
    data = {"ids": _ids(clientes), "mensaje": "Hola {nombre}", "nombre": "Promo", "csrf_token": token}
    page = client.post("/admin/enviar-sms/", data={**data, "paso": "revisar"}).get_data(as_text=True)
    assert 'data-testid="resumen-envio"' in page
    return CLAVE.search(page).group(1), {**data, "paso": "enviar"}


def test_resubmitted_confirmation_creates_one_campaign(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    login(client, tenants.vendedor_a.email)
    clave, data = review(client, clientes_a)
    first = client.post("/admin/enviar-sms/", data={**data, "clave_confirmacion": clave})
    again = client.post("/admin/enviar-sms/", data={**data, "clave_confirmacion": clave})
    campana = db.session.scalars(sa.select(CampanaSMS)).one()
    page = f"/admin/campanas-sms/{campana.id}/"
    assert (first.status_code, again.status_code) == (302, 302)
    assert first.location.endswith(page) and again.location.endswith(page)
    assert wait_finished(client, campana.id)["enviados"] == 2
    assert sorted(m["to"] for m in fake_twilio.created) == ["+573005550001", "+573005550002"]


def test_each_review_mints_a_new_key(client, tenants, clientes_a):
    login(client, tenants.vendedor_a.email)
    assert review(client, clientes_a)[0] != review(client, clientes_a)[0]


def test_a_test_send_does_not_use_up_the_confirmation_key(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    from panel.models import Usuario

    user = db.session.get(Usuario, tenants.vendedor_a.id)
    user.telefono, user.telefono_verificado = "3109998877", "+573109998877"  # verified (a fixture)
    db.session.commit()
    login(client, tenants.vendedor_a.email)
    clave, data = review(client, clientes_a)
    prueba = client.post("/admin/enviar-sms/", data={**data, "paso": "prueba", "clave_confirmacion": clave})
    assert prueba.status_code == 200 and "Prueba enviada a su teléfono" in prueba.get_data(as_text=True)
    response = client.post("/admin/enviar-sms/", data={**data, "clave_confirmacion": clave})
    assert response.status_code == 302
    real = db.session.scalars(sa.select(CampanaSMS).where(CampanaSMS.prueba.is_(False))).one()
    assert response.location.endswith(f"/admin/campanas-sms/{real.id}/")


# --- the API's Idempotency-Key ---------------------------------------------------------------


def send(client, headers, ids, clave, mensaje="Hola {nombre}", **extra):
    return client.post(
        ENVIAR, json={"cliente_ids": ids, "mensaje": mensaje, **extra}, headers=with_key(headers, clave)
    )


def test_the_same_key_answers_the_first_answer_without_sending_again(
    sms_app, keys, destinatarios, fake_twilio
):
    client = sms_app.test_client()
    first = send(client, keys.admin_a, destinatarios, "clave-1")
    again = send(client, keys.admin_a, destinatarios, "clave-1")
    assert first.status_code == 200 and again.status_code == 200
    assert again.json["campana_id"] == first.json["campana_id"]
    assert again.json["enviados_exitosos"] == 2  # the counts are current
    assert campaigns() == 1 and len(fake_twilio.created) == 2


CHILD = """
import json, sys, time
from tests.conftest import make_app

config, start_at, body, headers = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
client = make_app(config.pop("SQLALCHEMY_DATABASE_URI"), **config).test_client()
time.sleep(max(0.0, start_at - time.time()))  # both processes post at the same moment
answer = client.post("/clientes/enviar-sms/", json=json.loads(body), headers=json.loads(headers))
print(json.dumps({"status": answer.status_code, "body": answer.get_json()}))
"""


def test_the_same_key_in_two_processes_at_once_creates_one_campaign(
    app, database_url, twilio_app_config, keys, destinatarios, fake_twilio
):
    """Two web processes (as under gunicorn) receive the same request with the same key together."""
    config = {"SQLALCHEMY_DATABASE_URI": database_url, **twilio_app_config}
    config |= {"SMS_SYNC_WAIT": 15, "IDEMPOTENCY_WAIT": 30}
    # Transactional: the children run at the real time, which the test's clock does not reach.
    body = json.dumps({"cliente_ids": destinatarios, "mensaje": "Hola {nombre}", "tipo": "transaccional"})
    headers = json.dumps(with_key(keys.admin_a, "a-la-vez"))
    start_at = str(real_time() + 4)  # after both have built their app
    argv = [sys.executable, "-c", CHILD, json.dumps(config), start_at, body, headers]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "REDIS_"))}
    children = [
        subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    answers = [json.loads(child.communicate(timeout=90)[0].strip().splitlines()[-1]) for child in children]
    assert [a["status"] for a in answers] == [200, 200], answers
    assert answers[0]["body"]["campana_id"] == answers[1]["body"]["campana_id"]
    assert campaigns() == 1 and len(fake_twilio.created) == 2


def test_the_same_key_with_another_body_is_409(sms_app, keys, destinatarios, fake_twilio):
    client = sms_app.test_client()
    assert send(client, keys.admin_a, destinatarios, "clave-2").status_code == 200
    response = send(client, keys.admin_a, destinatarios, "clave-2", mensaje="Otro texto")
    assert response.status_code == 409 and "otro cuerpo" in response.json["detail"]
    assert campaigns() == 1


def test_bodies_equal_as_json_are_the_same_request(sms_app, keys, destinatarios, fake_twilio):
    client = sms_app.test_client()
    headers = with_key(keys.admin_a, "orden")
    first = client.post(ENVIAR, json={"cliente_ids": destinatarios, "mensaje": "Hola"}, headers=headers)
    raw = '{ "mensaje": "Hola",\n "cliente_ids": ' + json.dumps(destinatarios) + " }"  # other order, spaces
    again = client.post(ENVIAR, data=raw, content_type="application/json", headers=headers)
    assert again.status_code == first.status_code == 200 and campaigns() == 1


def test_another_users_key_is_independent(sms_app, keys, destinatarios, fake_twilio):
    client = sms_app.test_client()
    # The admin's is transactional: the vendedor's commercial one to the same clients is not capped.
    mine = send(client, keys.admin_a, destinatarios, "compartida", tipo="transaccional")
    theirs = send(client, keys.vendedor_a, destinatarios, "compartida")
    assert mine.status_code == theirs.status_code == 200
    assert mine.json["campana_id"] != theirs.json["campana_id"] and campaigns() == 2


def test_after_24_hours_the_key_is_new(sms_app, keys, destinatarios, fake_twilio):
    client = sms_app.test_client()
    first = send(client, keys.admin_a, destinatarios, "diaria")
    assert first.status_code == 200
    # A day later, and inside the window again (the next day may be a Sunday or a festivo).
    day_later = next_open_morning(datetime.now(UTC) + timedelta(hours=24, minutes=1))
    with time_machine.travel(day_later, tick=True):
        later = send(client, keys.admin_a, destinatarios, "diaria")
    assert later.status_code == 200 and later.json["campana_id"] != first.json["campana_id"]
    assert campaigns() == 2
    assert db.session.scalar(sa.select(sa.func.count(ClaveIdempotencia.id))) == 1  # the old one purged


def test_a_4xx_is_replayed_with_its_status(sms_app, keys, tenants):
    client = sms_app.test_client()
    first = send(client, keys.admin_a, [999_999], "mala")
    again = send(client, keys.admin_a, [999_999], "mala")
    assert first.status_code == again.status_code == 400 and again.json == first.json


@pytest.mark.parametrize("clave", ["", " ", "x" * 256])
def test_a_bad_key_is_400(sms_app, keys, destinatarios, clave):
    response = send(sms_app.test_client(), keys.admin_a, destinatarios, clave)
    assert response.status_code == 400 and "Idempotency-Key" in response.json["detail"]
    assert campaigns() == 0


def test_create_cliente_with_the_same_key_answers_the_same_client(client, keys, tenants):
    data = body(cuenta_cliente(tenants.admin_a.id, "c1@test.co"))
    headers = with_key(keys.admin_a, "crear-1")
    first = client.post(CLIENTES, json=data, headers=headers)
    again = client.post(CLIENTES, json=data, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json["id_cliente"] == first.json["id_cliente"] and again.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Cliente.id_cliente))) == 1
    other = client.post(CLIENTES, json={**data, "nombre_cliente": "Otra"}, headers=headers)
    assert other.status_code == 409
