""" "Configuración → Envío de SMS": a tenant narrows the law's limits, never widens them."""

from datetime import time

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import ConfiguracionEnvio, Historial

from .helpers import csrf_of, login

URL = "/admin/envio-sms/"


def _fields(token, **over):
    fields = {
        "semana_inicio": "08:00",
        "semana_fin": "18:00",
        "sabado_activo": "y",
        "sabado_inicio": "09:00",
        "sabado_fin": "13:00",
        "tope": "semana",
        "texto_baja": "Responde SALIR para no recibir mas.",
        "csrf_token": token,
    }
    return {k: v for k, v in (fields | over).items() if v is not None}


def test_an_admin_narrows_the_window_and_states_the_law(client, tenants):
    login(client, "admin.a@test.co")
    page = client.get(URL)
    assert page.status_code == 200 and 'data-testid="limites-ley"' in page.get_data(as_text=True)
    assert client.post(URL, data=_fields(csrf_of(client, URL))).status_code == 302
    config = db.session.scalars(sa.select(ConfiguracionEnvio)).one()
    assert (config.id_propietario, config.semana_inicio) == (tenants.admin_a.id, time(8))
    assert config.tope == "semana"
    assert config.texto_baja == " Responde SALIR para no recibir mas."


@pytest.mark.parametrize(
    "over,message",
    [
        ({"semana_inicio": "06:00"}, "solo puede reducirse"),
        ({"sabado_fin": "16:00"}, "solo puede reducirse"),
        ({"texto_baja": "   "}, "no puede quedar vacío"),
        ({"texto_baja": "Responde SALIR para no recibir más."}, "GSM-7"),
        (
            {"texto_baja": "Escribenos si no quieres recibir mas."},
            "debe incluir una palabra de baja (SALIR, BAJA",
        ),
        ({"texto_baja": "Responde SALIRR o BAJAS."}, "debe incluir una palabra de baja (SALIR, BAJA"),
    ],
)
def test_settings_beyond_the_law_or_a_blank_opt_out_are_refused(client, tenants, over, message):
    login(client, "admin.a@test.co")
    response = client.post(URL, data=_fields(csrf_of(client, URL), **over))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConfiguracionEnvio)) == 0


def test_vendedores_cannot_change_the_sending_settings(client, tenants):
    login(client, "vendedor.a@test.co")
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize(
    "texto",
    ["Responde SALIR para darte de baja.", "Envia stop", "Para no recibir mas: Cancelar.", "BAJA al 890"],
)
def test_the_opt_out_text_accepts_any_opt_out_word_of_the_inbound_webhook(client, tenants, texto):
    login(client, "admin.a@test.co")
    assert client.post(URL, data=_fields(csrf_of(client, URL), texto_baja=texto)).status_code == 302
    assert db.session.scalars(sa.select(ConfiguracionEnvio.texto_baja)).one() == " " + texto


def test_each_change_of_the_settings_is_in_the_historial_before_and_after(client, tenants):
    login(client, "admin.a@test.co")
    assert client.post(URL, data=_fields(csrf_of(client, URL))).status_code == 302
    assert client.post(URL, data=_fields(csrf_of(client, URL), tope="dia")).status_code == 302
    assert client.post(URL, data=_fields(csrf_of(client, URL), tope="dia")).status_code == 302  # no change
    entries = db.session.scalars(
        sa.select(Historial).where(Historial.modelo == "ConfiguracionEnvio").order_by(Historial.id)
    ).all()
    assert [(e.id_usuario, e.id_propietario) for e in entries] == [
        (tenants.admin_a.id, tenants.admin_a.id)
    ] * 2
    first, second = (e.detalle["cambios"] for e in entries)
    assert first["semana_inicio"] == ["07:00", "08:00"] and first["tope"] == ["dia", "semana"]
    assert first["texto_baja"] == [
        " Responde SALIR para darte de baja.",
        " Responde SALIR para no recibir mas.",
    ]
    assert second == {"tope": ["semana", "dia"]}
    page = client.get("/admin/historial/")
    assert page.status_code == 200 and "Configuración de envío: tope" in page.get_data(as_text=True)
