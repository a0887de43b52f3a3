"""Mi cuenta → «Verificar» and the limits of test sends (SPEC §18): a code by SMS through the real
Twilio SDK to the fake Twilio; test sends only to the user's own verified phone, 10 an hour per
user and 50 a Bogotá day per tenant, in the panel and in the API."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.formatting import BOGOTA
from panel.models import CampanaSMS, Historial, Usuario
from panel.tenancy import using

from . import factories
from .api_support import keys
from .clock_fixtures import at
from .helpers import csrf_of, login
from .support.pages import TELEFONO, post_test, pruebas_enviadas, set_phone
from .support.sms import configure

__all__ = ["keys"]

E164 = "+573109998877"
CUENTA = "/admin/mi-cuenta/"
PRUEBA_API = "/clientes/enviar-prueba/"


def post_cuenta(client, path: str, **data):
    token = csrf_of(client, CUENTA)
    return client.post(CUENTA + path, data={**data, "csrf_token": token}, follow_redirects=True)


def save_phone(client, telefono: str = TELEFONO):
    return post_cuenta(client, "telefono", telefono=telefono)


def ask_code(client):
    return post_cuenta(client, "verificar")


def type_code(client, codigo: str):
    return post_cuenta(client, "codigo", codigo=codigo)


def code_sent(fake_twilio, to: str = E164) -> str:
    """The code in the last message the fake Twilio got for ``to``."""
    bodies = [m["body"] for m in fake_twilio.created if m["to"] == to]
    assert bodies, f"ningún SMS a {to}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def user(user_id: int) -> Usuario:
    db.session.expire_all()
    return db.session.get(Usuario, user_id)


def text(response) -> str:
    return response.get_data(as_text=True)


def history(user_id: int) -> list[str]:
    """The user's verification entries (the phone's own edits are the automatic «editar» ones)."""
    stmt = sa.select(Historial.resumen).where(Historial.id_usuario == user_id, Historial.modelo == "Usuario")
    stmt = stmt.where(Historial.accion.in_(("sms", "accion")))
    return list(db.session.scalars(stmt.order_by(Historial.id)))


def bogota(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=BOGOTA)


def _utc(moment: str) -> datetime:
    """A Bogotá wall-clock time as the naive UTC the database stores."""
    return bogota(moment).astimezone(UTC).replace(tzinfo=None)


def earlier_tests(user_id: int, tenant: int, n: int, creado) -> None:
    """A fixture: ``n`` test sends the user already made (written directly, at ``creado``, UTC)."""
    with using(tenant):
        for i in range(n):
            db.session.add(
                CampanaSMS(
                    nombre=f"Prueba: anterior {i}",
                    mensaje="Hola",
                    estado="completado",
                    prueba=True,
                    id_usuario=user_id,
                    id_propietario=tenant,
                    creado=creado,
                )
            )
        db.session.commit()


# --- the code -------------------------------------------------------------------------------------


def test_the_code_arrives_by_sms_and_typing_it_verifies_the_phone(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    login(client, tenants.vendedor_a.email)
    page = text(save_phone(client))
    assert 'data-testid="telefono-sin-verificar"' in page and 'data-testid="form-verificar"' in page
    page = text(ask_code(client))
    assert f"Le enviamos un código por SMS al {E164}" in page and 'data-testid="form-codigo"' in page
    code = code_sent(fake_twilio)
    stored = user(tenants.vendedor_a.id)
    assert stored.codigo_hash and code not in stored.codigo_hash and stored.telefono_verificado is None
    page = text(type_code(client, code))
    assert f"Teléfono {E164} verificado" in page and 'data-testid="telefono-verificado"' in page
    assert user(tenants.vendedor_a.id).telefono_verificado == E164
    assert user(tenants.vendedor_a.id).codigo_hash is None
    assert history(tenants.vendedor_a.id) == [
        f"Código de verificación enviado a {E164}",
        f"Teléfono {E164} verificado",
    ]
    # Now the test send goes: to that phone and nowhere else.
    assert "Prueba enviada a su teléfono" in text(post_test(client, clientes_a))
    deadline = time.monotonic() + 15
    while len(fake_twilio.created) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["to"] for m in fake_twilio.created] == [E164, E164]


def test_five_wrong_codes_use_up_the_code_and_a_new_one_is_needed(
    app, client, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    login(client, tenants.vendedor_a.email)
    save_phone(client)
    ask_code(client)
    code = code_sent(fake_twilio)
    assert "le quedan 4 intentos" in text(type_code(client, wrong(code)))
    for _ in range(3):
        type_code(client, wrong(code))
    assert "Código incorrecto 5 veces: pida un código nuevo." in text(type_code(client, wrong(code)))
    assert "No hay un código pendiente" in text(type_code(client, code))  # the right one, too late
    assert user(tenants.vendedor_a.id).telefono_verificado is None
    assert any("bloqueada" in entry for entry in history(tenants.vendedor_a.id))
    ask_code(client)
    assert "verificado" in text(type_code(client, code_sent(fake_twilio)))
    assert user(tenants.vendedor_a.id).telefono_verificado == E164


def test_a_code_that_is_not_six_digits_is_refused_without_using_a_try(
    app, client, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    login(client, tenants.vendedor_a.email)
    save_phone(client)
    ask_code(client)
    page = type_code(client, "12ab")
    assert page.status_code == 200 and "Escriba los 6 dígitos del código." in text(page)
    assert user(tenants.vendedor_a.id).codigo_intentos == 0
    code = code_sent(fake_twilio)
    assert "verificado" in text(type_code(client, f"{code[:3]} {code[3:]}"))  # spaces are fine


def test_a_code_lasts_ten_minutes(app, client, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config)
    with at("2026-12-07 10:00", tick=True) as clock:
        login(client, tenants.vendedor_a.email)
        save_phone(client)
        ask_code(client)
        clock.move_to(bogota("2026-12-07 10:09:59"))
        first = code_sent(fake_twilio)
        ask_code(client)  # a second code: the first one dies
        code = code_sent(fake_twilio)
        if first != code:  # one chance in a million they are equal
            assert "Código incorrecto" in text(type_code(client, first))
        clock.move_to(bogota("2026-12-07 10:19:50"))  # 10 s of margin: the clock ticks
        assert "verificado" in text(type_code(client, code))
        assert user(tenants.vendedor_a.id).telefono_verificado == E164
        save_phone(client, "3001112233")  # a new number is no longer verified
        assert user(tenants.vendedor_a.id).telefono_verificado is None
        ask_code(client)
        code = code_sent(fake_twilio, "+573001112233")
        clock.move_to(bogota("2026-12-07 10:30:00"))
        assert "El código venció" in text(type_code(client, code))
        assert user(tenants.vendedor_a.id).telefono_verificado is None


def test_a_code_twilio_refused_is_a_clear_error_and_not_pending(
    app, client, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    login(client, tenants.vendedor_a.email)
    save_phone(client)
    assert "Le enviamos un código" in text(ask_code(client))
    fake_twilio.set(error_rates={"503": 1.0})  # Twilio refuses: nothing created
    page = ask_code(client)
    assert page.status_code == 200 and "No se pudo enviar el código por SMS" in text(page)
    assert user(tenants.vendedor_a.id).codigo_hash is None  # neither the old code nor a new one
    assert len(fake_twilio.created) == 1


def test_at_most_five_codes_an_hour(app, client, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config)
    with at("2026-12-07 10:00", tick=True) as clock:
        login(client, tenants.vendedor_a.email)
        save_phone(client)
        for _ in range(5):
            assert "Le enviamos un código" in text(ask_code(client))
        assert "Ya pidió 5 códigos en la última hora" in text(ask_code(client))
        assert len(fake_twilio.created) == 5
        # The hour runs from the first code (the clock ticks: on a loaded machine the log-in
        # before it can take seconds), so step to one second past that hour, not past 11:00.
        started = user(tenants.vendedor_a.id).codigos_desde.replace(tzinfo=UTC)
        clock.move_to(started + timedelta(hours=1, seconds=1))
        assert "Le enviamos un código" in text(ask_code(client))
        assert len(fake_twilio.created) == 6


def test_a_phone_verified_by_another_user_of_the_tenant_cannot_be_verified_again(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    # Another tenant's user may verify the same number …
    login(client, tenants.vendedor_b.email)
    save_phone(client)
    ask_code(client)
    assert "verificado" in text(type_code(client, code_sent(fake_twilio)))
    # … and a user of tenant A has a code on the way when the admin of A verifies that number.
    fresh = app.test_client()
    login(fresh, tenants.vendedor_a.email)
    save_phone(fresh)
    ask_code(fresh)
    pending = code_sent(fake_twilio)
    set_phone(tenants.admin_a.id)
    assert "ya lo verificó otro usuario de su empresa" in text(type_code(fresh, pending))
    sent = len(fake_twilio.created)
    assert "ya lo verificó otro usuario de su empresa" in text(ask_code(fresh))
    assert len(fake_twilio.created) == sent  # not even a code goes to someone else's phone
    assert user(tenants.vendedor_a.id).telefono_verificado is None
    assert "Teléfono no verificado" in text(post_test(fresh, clientes_a))


def test_a_test_send_goes_only_to_a_verified_phone_of_ones_own(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    set_phone(tenants.vendedor_a.id)
    login(client, tenants.vendedor_a.email)
    assert "Prueba enviada a su teléfono" in text(post_test(client, clientes_a))
    save_phone(client, "3001112233")  # changing the phone un-verifies it
    page = text(post_test(client, clientes_a))
    assert "No se envió la prueba: Teléfono no verificado. Verifíquelo en «Mi cuenta»" in page
    save_phone(client, TELEFONO)  # back to the old number: it must be verified again
    assert "Teléfono no verificado" in text(post_test(client, clientes_a))
    set_phone(tenants.vendedor_a.id)
    set_phone(tenants.admin_a.id)  # two users of a tenant verified on one number: neither gets tests
    assert "ya lo verificó otro usuario" in text(post_test(client, clientes_a))
    assert len(pruebas_enviadas()) == 1


@pytest.mark.parametrize(
    "typed",
    [
        "+14155552671",  # a mobile in the USA: another country
        "+525512345678",  # Mexico
        "6011234567",  # a Bogotá landline
        "+5719001234567",  # Colombian premium rate (1-900)
        "+5718001234567",  # Colombian toll free
        "+881612345678",  # Iridium satellite
        "+870301234567",  # Inmarsat
    ],
)
def test_mi_cuenta_takes_only_colombian_mobiles(client, tenants, typed):
    login(client, tenants.vendedor_a.email)
    assert user(tenants.vendedor_a.id).telefono is None
    save_phone(client, "3001234567")
    assert user(tenants.vendedor_a.id).telefono == "3001234567"
    page = text(save_phone(client, typed))
    assert "Escriba un celular colombiano (3001234567): no se aceptan fijos" in page
    assert user(tenants.vendedor_a.id).telefono == "3001234567"


@pytest.mark.parametrize(
    "typed,saved",
    [
        ("+14155552671", True),  # a mobile (or mixed range) abroad: allowed now
        ("+34612345678", True),
        ("+449012345678", False),  # premium rate in the UK
        ("+881612345678", False),  # satellite
        ("+979123456789", False),  # international premium rate
        ("6011234567", False),  # landline
    ],
)
def test_other_countries_when_the_deployment_allows_them_but_never_special_numbers(
    app, client, tenants, typed, saved
):
    app.config["SMS_TEST_OTHER_COUNTRIES"] = True
    login(client, tenants.vendedor_a.email)
    page = text(save_phone(client, typed))
    assert (user(tenants.vendedor_a.id).telefono == typed) is saved
    assert ("o de otro país con su indicativo" in page) is not saved


# --- the limits ---------------------------------------------------------------------------------


def test_fifty_test_sends_a_bogota_day_per_tenant(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    set_phone(tenants.vendedor_a.id)
    set_phone(tenants.admin_b.id)
    with at("2026-12-07 23:30", tick=True):  # 04:30 UTC on the 8th: the Bogotá day is still the 7th
        # 49 today by other users of the tenant, and some yesterday (Bogotá) that do not count.
        earlier_tests(tenants.admin_a.id, tenants.admin_a.id, 49, creado=_utc("2026-12-07 00:05"))
        earlier_tests(tenants.admin_a.id, tenants.admin_a.id, 5, creado=_utc("2026-12-06 23:55"))
        earlier_tests(tenants.admin_b.id, tenants.admin_b.id, 50, creado=_utc("2026-12-07 12:00"))
        login(client, tenants.vendedor_a.email)
        assert "Prueba enviada a su teléfono" in text(post_test(client, clientes_a))  # the 50th
        page = text(post_test(client, clientes_a))
        assert "Su empresa ya hizo 50 envíos de prueba hoy" in page
    with at("2026-12-08 00:00:30", tick=True):  # a new day in Bogotá
        fresh = app.test_client()
        login(fresh, tenants.vendedor_a.email)
        assert "Prueba enviada a su teléfono" in text(post_test(fresh, clientes_a))
    assert len(pruebas_enviadas()) == 49 + 5 + 50 + 2


# --- the API -------------------------------------------------------------------------------------


def test_api_enviar_prueba_answers_202_with_the_test_campaign(
    app, client, tenants, keys, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    set_phone(tenants.vendedor_a.id)
    response = client.post(PRUEBA_API, json={"mensaje": "Hola {nombre}"}, headers=keys.vendedor_a)
    assert response.status_code == 202, response.json
    body = response.json
    assert body["success"] is True and body["url"].endswith(f"/clientes/campanas-sms/{body['campana_id']}/")
    campana = db.session.get(CampanaSMS, body["campana_id"])
    assert campana.prueba and campana.id_usuario == tenants.vendedor_a.id
    polled = client.get(f"/clientes/campanas-sms/{campana.id}/", headers=keys.vendedor_a).json
    assert set(body) - {"url"} <= set(polled)
    deadline = time.monotonic() + 15
    while not fake_twilio.created and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["to"] for m in fake_twilio.created] == [E164]
    plantilla = factories.plantilla(db.session.get(Usuario, tenants.admin_a.id), "Buenas {nombre}")
    response = client.post(PRUEBA_API, json={"id_plantilla": plantilla.id}, headers=keys.vendedor_a)
    assert response.status_code == 202


def test_api_enviar_prueba_is_403_until_the_phone_is_verified(
    app, client, tenants, keys, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    user_a = db.session.get(Usuario, tenants.vendedor_a.id)
    user_a.telefono = TELEFONO
    db.session.commit()
    response = client.post(PRUEBA_API, json={"mensaje": "Hola"}, headers=keys.vendedor_a)
    assert response.status_code == 403 and response.json["detail"] == "Teléfono no verificado."
    no_phone = client.post(PRUEBA_API, json={"mensaje": "Hola"}, headers=keys.admin_a)
    assert no_phone.status_code == 403 and no_phone.json["detail"] == "Teléfono no verificado."
    set_phone(tenants.vendedor_a.id)
    assert client.post(PRUEBA_API, json={"mensaje": "Hola"}, headers=keys.vendedor_a).status_code == 202
    assert len(pruebas_enviadas()) == 1


def test_api_enviar_prueba_is_429_past_the_hour_and_the_day(
    app, client, tenants, keys, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    set_phone(tenants.vendedor_a.id)
    with at("2026-12-07 10:00", tick=True) as clock:
        earlier_tests(tenants.vendedor_a.id, tenants.admin_a.id, 9, creado=_utc("2026-12-07 09:30"))
        assert client.post(PRUEBA_API, json={"mensaje": "Hola"}, headers=keys.vendedor_a).status_code == 202
        response = client.post(PRUEBA_API, json={"mensaje": "Hola"}, headers=keys.vendedor_a)
        assert (
            response.status_code == 429 and "10 envíos de prueba en la última hora" in response.json["detail"]
        )
        clock.move_to(bogota("2026-12-07 10:31"))  # the 9 earlier ones left the hour
        earlier_tests(tenants.admin_a.id, tenants.admin_a.id, 39, creado=_utc("2026-12-07 08:00"))
        assert client.post(PRUEBA_API, json={"mensaje": "Hola"}, headers=keys.vendedor_a).status_code == 202
        response = client.post(PRUEBA_API, json={"mensaje": "Hola"}, headers=keys.vendedor_a)
        assert response.status_code == 429 and "50 envíos de prueba hoy" in response.json["detail"]
    assert len(pruebas_enviadas()) == 9 + 1 + 39 + 1


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "non_field_errors"),
        ({"mensaje": "Hola", "id_plantilla": 1}, "non_field_errors"),
        ({"mensaje": "   "}, "mensaje"),
        ({"mensaje": "Hola {apodo}"}, "mensaje"),
        ({"mensaje": 5}, "mensaje"),
        ({"id_plantilla": "uno"}, "id_plantilla"),
        ({"id_plantilla": 999999}, "id_plantilla"),
        ({"mensaje": "Hola", "telefono": "3001234567"}, "telefono"),
    ],
)
def test_api_enviar_prueba_refuses_bad_input_with_400(client, tenants, keys, payload, field):
    set_phone(tenants.vendedor_a.id)
    response = client.post(PRUEBA_API, json=payload, headers=keys.vendedor_a)
    assert response.status_code == 400 and field in response.json["errors"], response.json
    assert pruebas_enviadas() == []


def test_api_enviar_prueba_cannot_use_another_tenants_template(client, tenants, keys):
    set_phone(tenants.vendedor_a.id)
    theirs = factories.plantilla(db.session.get(Usuario, tenants.admin_b.id), "Hola")
    response = client.post(PRUEBA_API, json={"id_plantilla": theirs.id}, headers=keys.vendedor_a)
    assert response.status_code == 400 and "id_plantilla" in response.json["errors"]
