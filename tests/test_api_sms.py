"""The SMS app's JSON endpoints, with the shapes of its document; SMS go to the fake Twilio."""

import time

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import CampanaSMS, Cliente, PlantillaSMS, Usuario
from panel.models.envio import TEXTO_BAJA

from . import factories
from .api_support import cliente_of, count_clientes, keys
from .conftest import make_app

# Commercial campaigns (the default) send only inside the contact window: a weekday morning.
pytestmark = pytest.mark.usefixtures("ventana_abierta")

__all__ = ["keys"]

AJAX = "/clientes/crear/ajax/"
ENVIAR = "/clientes/enviar-sms/"


@pytest.fixture
def sms_client(app, database_url, twilio_app_config):
    """A client of an app whose real Twilio SDK talks to the fake server (same database)."""
    return make_app(database_url, **twilio_app_config, SMS_SYNC_WAIT=15).test_client()


def campaigns() -> int:
    return db.session.scalar(sa.select(sa.func.count(CampanaSMS.id)))


# --- POST /clientes/crear/ajax/ -----------------------------------------------------------------


def test_crear_ajax_answers_the_documents_shape(client, keys):
    response = client.post(
        AJAX,
        json={"nombre": "Carlos Ruiz", "telefono": "3009876543", "documento": "123456789"},
        headers=keys.admin_a,
    )
    assert response.status_code == 201
    assert response.json["success"] is True
    cliente = response.json["cliente"]
    assert set(cliente) == {"id", "nombre", "telefono", "documento", "activo", "creado"}
    assert (
        cliente["nombre"] == "Carlos Ruiz"
        and cliente["documento"] == "123456789"
        and cliente["activo"] is True
    )
    assert cliente["creado"].endswith("-05:00")
    row = db.session.get(Cliente, cliente["id"])
    assert (row.nombre_cliente, row.apellido_cliente, row.cedula_cliente) == ("Carlos", "Ruiz", "123456789")


@pytest.mark.parametrize(
    "nombre,first,last",
    [
        ("Ana", "Ana", None),
        ("Laura Méndez Gil", "Laura", "Méndez Gil"),
        ("María José Pérez Gómez", "María José", "Pérez Gómez"),
    ],
)
def test_crear_ajax_splits_the_name(client, keys, nombre, first, last):
    response = client.post(AJAX, json={"nombre": nombre, "documento": "123"}, headers=keys.admin_a)
    row = db.session.get(Cliente, response.json["cliente"]["id"])
    assert (row.nombre_cliente, row.apellido_cliente) == (first, last)


@pytest.mark.parametrize(
    "data,field",
    [
        ({"telefono": "3009876543", "documento": "123"}, "nombre"),
        ({"nombre": "Ana", "documento": "12ab"}, "documento"),
        ({"nombre": "Ana", "documento": "123", "telefono": "999"}, "telefono"),
        ({"nombre": "Ana", "documento": "123", "activo": "sí"}, "activo"),
        ({"nombre": ["Ana"], "documento": "123"}, "nombre"),
        ({"nombre": "Ana", "documento": "123", "email": "a@b.co"}, "email"),
        ({"nombre": "Nombremuylargoquenocabe Ruiz", "documento": "123"}, "nombre"),
    ],
)
def test_crear_ajax_errors_have_the_documents_shape(client, keys, data, field):
    response = client.post(AJAX, json=data, headers=keys.admin_a)
    assert response.status_code == 400
    assert response.json["success"] is False and field in response.json["errors"], response.json
    assert count_clientes() == 0


def test_crear_ajax_refuses_a_documento_already_used(client, keys, tenants):
    cliente_of(tenants.admin_a.id, cedula_cliente="555")
    response = client.post(AJAX, json={"nombre": "Ana", "documento": "555"}, headers=keys.admin_a)
    assert response.json == {
        "success": False,
        "errors": {"documento": ["Ya existe un cliente con esta cédula."]},
    }


@pytest.mark.parametrize("who", ["vendedor_a", "superadmin"])
def test_crear_ajax_is_for_admins(client, keys, who):
    response = client.post(AJAX, json={"nombre": "Ana", "documento": "123"}, headers=getattr(keys, who))
    assert response.status_code == 403 and response.json["success"] is False
    assert count_clientes() == 0


# --- GET /clientes/plantillas-sms/ --------------------------------------------------------------


def test_plantillas_lists_the_tenants_active_templates(client, keys, tenants):
    admin_a = db.session.get(Usuario, tenants.admin_a.id)
    promo = factories.plantilla(admin_a, "Hola {nombre}, 20% de descuento", nombre="Promoción Mensual")
    factories.plantilla(admin_a, nombre="Vieja").activo = False
    db.session.commit()
    factories.plantilla(db.session.get(Usuario, tenants.admin_b.id), nombre="De otro")
    response = client.get("/clientes/plantillas-sms/", headers=keys.vendedor_a)
    assert response.json == {
        "success": True,
        "plantillas": [
            {"id": promo.id, "nombre": "Promoción Mensual", "mensaje": "Hola {nombre}, 20% de descuento"}
        ],
    }


# --- POST /clientes/enviar-sms/ and GET /clientes/campanas-sms/{id}/ ------------------------------


@pytest.mark.parametrize("who", ["admin_a", "vendedor_a"])
def test_enviar_sms_answers_200_with_the_final_counts_and_details(
    sms_client, keys, tenants, fake_twilio, who
):
    maria = cliente_of(tenants.admin_a.id, nombre_cliente="María", telefono="3001112233")
    carlos = cliente_of(tenants.admin_a.id, nombre_cliente="Carlos", telefono="3004445566")
    fake_twilio.set(invalid={"+573004445566"})  # Twilio refuses this one (21211)
    sin_sms = cliente_of(tenants.admin_a.id, nombre_cliente="Luz", acepta_sms=False)
    ids = [maria.id_cliente, carlos.id_cliente, sin_sms.id_cliente]
    response = sms_client.post(
        ENVIAR,
        json={"cliente_ids": ids, "mensaje": "Hola {nombre}!", "nombre_campana": "Marzo"},
        headers=getattr(keys, who),
    )
    assert response.status_code == 200, response.json
    data = response.json
    assert data["success"] is True and data["estado"] == "completado" and data["nombre"] == "Marzo"
    counts = ("total_clientes", "enviados_exitosos", "enviados_fallidos", "omitidos", "pendientes")
    assert tuple(data[k] for k in counts) == (3, 1, 1, 1, 0)  # the skipped one is omitido (§6)
    detalles = {d["cliente_id"]: d for d in data["detalles"]}
    assert detalles[maria.id_cliente]["estado"] == "enviado"
    assert detalles[maria.id_cliente]["twilio_sid"].startswith("SM")
    assert detalles[carlos.id_cliente]["estado"] == "fallido" and detalles[carlos.id_cliente]["error"]
    assert detalles[sin_sms.id_cliente]["estado"] == "omitido"
    assert "no acepta SMS" in detalles[sin_sms.id_cliente]["error"]
    assert fake_twilio.count_by("+573001112233", "Hola María!" + TEXTO_BAJA) == 1


def test_enviar_sms_answers_202_with_a_url_to_poll_when_it_takes_longer(
    app, database_url, twilio_app_config, keys, tenants, fake_twilio
):
    client = make_app(database_url, **twilio_app_config, SMS_SYNC_WAIT=0).test_client()
    fake_twilio.set(latency=0.3)
    ids = [cliente_of(tenants.admin_a.id, telefono=f"300555000{i}").id_cliente for i in range(2)]
    response = client.post(ENVIAR, json={"cliente_ids": ids, "mensaje": "Hola"}, headers=keys.admin_a)
    assert response.status_code == 202, response.json
    assert response.json["total_clientes"] == 2 and response.headers["Location"] == response.json["url"]
    for _ in range(100):
        state = client.get(response.json["url"], headers=keys.admin_a).json
        if state["estado"] == "completado":
            break
        time.sleep(0.1)
    assert state["enviados_exitosos"] == 2 and state["pendientes"] == 0 and len(state["detalles"]) == 2


def test_enviar_sms_refuses_another_tenants_client_and_creates_nothing(
    sms_client, keys, tenants, fake_twilio
):
    mine = cliente_of(tenants.admin_a.id).id_cliente
    theirs = cliente_of(tenants.admin_b.id).id_cliente
    response = sms_client.post(
        ENVIAR, json={"cliente_ids": [mine, theirs], "mensaje": "Hola"}, headers=keys.admin_a
    )
    assert response.status_code == 400 and str(theirs) in response.json["errors"]["cliente_ids"][0]
    assert campaigns() == 0 and fake_twilio.simulator.messages == {}


@pytest.mark.parametrize(
    "data,field",
    [
        ({"cliente_ids": "1,2", "mensaje": "Hola"}, "cliente_ids"),
        ({"cliente_ids": [], "mensaje": "Hola"}, "cliente_ids"),
        ({"cliente_ids": [True], "mensaje": "Hola"}, "cliente_ids"),
        ({"cliente_ids": [10**20], "mensaje": "Hola"}, "cliente_ids"),
        ({"cliente_ids": [1]}, "mensaje"),
        ({"cliente_ids": [1], "mensaje": 5}, "mensaje"),
        ({"cliente_ids": [1], "mensaje": "Hola", "nombre_campana": 3}, "nombre_campana"),
        ({"cliente_ids": [1], "mensaje": "Hola", "extra": 1}, "extra"),
        ({"cliente_ids": ["CLIENT"], "mensaje": "Hola {desconocido}"}, "mensaje"),
    ],
)
def test_enviar_sms_bad_bodies_are_400_naming_the_field(sms_client, keys, tenants, data, field):
    if data["cliente_ids"] == ["CLIENT"]:
        data["cliente_ids"] = [cliente_of(tenants.admin_a.id).id_cliente]
    response = sms_client.post(ENVIAR, json=data, headers=keys.admin_a)
    assert response.status_code == 400 and response.json["success"] is False
    assert field in response.json["errors"], response.json
    assert campaigns() == 0


def test_a_campaign_of_another_tenant_is_404(client, keys, tenants):
    campana = CampanaSMS(
        nombre="B", mensaje="Hola", id_usuario=tenants.admin_b.id, id_propietario=tenants.admin_b.id
    )
    db.session.add(campana)
    db.session.commit()
    assert client.get(f"/clientes/campanas-sms/{campana.id}/", headers=keys.admin_a).status_code == 404
    assert client.get(f"/clientes/campanas-sms/{campana.id}/", headers=keys.vendedor_b).status_code == 200


def test_templates_are_never_another_tenants(client, keys, tenants):
    factories.plantilla(db.session.get(Usuario, tenants.admin_b.id))
    assert client.get("/clientes/plantillas-sms/", headers=keys.admin_a).json["plantillas"] == []
    assert db.session.scalar(sa.select(sa.func.count(PlantillaSMS.id))) == 1
