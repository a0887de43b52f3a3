"""The advertising platform's contract for /Database/Database/clientes/, from its document."""

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Cliente, Historial, Usuario

from . import factories
from .api_support import BASE, body, cliente_of, count_clientes, cuenta_cliente, keys

__all__ = ["keys"]

FIELDS = [
    "id_cliente", "id_usuario", "cedula_cliente", "nombre_cliente", "apellido_cliente", "fecha_nacimiento",
    "email", "genero", "telefono", "id_ciudad", "id_pais", "id_empresa", "id_campana", "estado",
]  # fmt: skip


@pytest.fixture
def cuenta(tenants):
    """A free cliente-role account of tenant A."""
    return cuenta_cliente(tenants.admin_a.id, "cuenta.a@test.co")


# --- GET list -------------------------------------------------------------------------------


def test_the_list_is_paginated_with_the_seed_field_names(client, keys, tenants):
    for _ in range(3):
        cliente_of(tenants.admin_a.id)
    page = client.get(BASE + "?page_size=2", headers=keys.admin_a).json
    assert page["count"] == 3 and len(page["results"]) == 2 and page["previous"] is None
    assert page["next"].endswith("page=2") and "page_size=2" in page["next"]
    assert set(FIELDS) <= set(page["results"][0])
    second = client.get(page["next"], headers=keys.admin_a).json
    assert len(second["results"]) == 1 and second["next"] is None and second["previous"]


@pytest.mark.parametrize("name", ["estado", "id_empresa", "id_campana", "id_ciudad", "id_pais"])
def test_each_filter_of_the_seed(client, keys, tenants, name):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    values = {
        "estado": (0, {}),
        "id_empresa": (None, {}),
        "id_campana": (None, {}),
        "id_ciudad": (2, {"id_ciudad": 2, "id_pais": 1}),
        "id_pais": (2, {}),
    }
    value, extra = values[name]
    if name == "id_empresa":
        value = factories.empresa(admin).id
    elif name == "id_campana":
        value = factories.campana(admin).id
    elif name == "id_pais":
        extra = {"id_pais": 2, "id_ciudad": _ciudad_de(2)}
    wanted = cliente_of(admin.id, **{name: value, **extra})
    cliente_of(admin.id)
    results = client.get(f"{BASE}?{name}={value}", headers=keys.admin_a).json["results"]
    assert [c["id_cliente"] for c in results] == [wanted.id_cliente]


def _ciudad_de(id_pais: int) -> int:
    from panel.models import Ciudad

    return db.session.scalar(sa.select(Ciudad.id).where(Ciudad.id_pais == id_pais).limit(1))


def test_search_matches_every_word_in_names_cedula_email_and_phone(client, keys, tenants):
    carlos = cliente_of(tenants.admin_a.id, nombre_cliente="Carlos", apellido_cliente="Ruiz")
    cliente_of(tenants.admin_a.id, nombre_cliente="Carla", apellido_cliente="Pérez")
    for term in ("carlos ruiz", "RUIZ", carlos.cedula_cliente, carlos.email, carlos.telefono[-5:]):
        results = client.get(BASE, query_string={"search": term}, headers=keys.admin_a).json["results"]
        assert [c["id_cliente"] for c in results] == [carlos.id_cliente], term
    assert client.get(BASE + "?search=100%25", headers=keys.admin_a).json["count"] == 0


def test_ordering_by_a_field_descending(client, keys, tenants):
    ids = [cliente_of(tenants.admin_a.id, nombre_cliente=n).id_cliente for n in ("Ana", "Bea", "Cira")]
    results = client.get(BASE + "?ordering=-nombre_cliente", headers=keys.admin_a).json["results"]
    assert [c["id_cliente"] for c in results] == ids[::-1]


@pytest.mark.parametrize(
    "query,field",
    [
        ("estado=uno", "estado"),
        ("id_empresa=1.5", "id_empresa"),
        ("id_pais=99999999999999999999", "id_pais"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("ordering=password_hash", "ordering"),
        ("search=%00", "search"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(client, keys, query, field):
    response = client.get(f"{BASE}?{query}", headers=keys.admin_a)
    assert response.status_code == 400 and field in response.json


def test_a_page_past_the_end_is_404(client, keys, tenants):
    cliente_of(tenants.admin_a.id)
    assert client.get(BASE + "?page=2", headers=keys.admin_a).status_code == 404


def test_the_list_never_shows_another_tenants_clients(client, keys, tenants):
    cliente_of(tenants.admin_b.id)
    assert client.get(BASE, headers=keys.admin_a).json["count"] == 0
    assert client.get(BASE, headers=keys.superadmin).json["count"] == 1


# --- GET one ----------------------------------------------------------------------------------


def test_get_one_client(client, keys, tenants):
    c = cliente_of(tenants.admin_a.id, fecha_nacimiento=None)
    data = client.get(f"{BASE}{c.id_cliente}/", headers=keys.vendedor_a).json
    assert data["id_cliente"] == c.id_cliente and data["cedula_cliente"] == c.cedula_cliente
    assert data["id_ciudad"] == 1 and data["id_pais"] == 1 and data["estado"] == 1


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_tenants_client_is_404_like_a_missing_one(client, keys, tenants, method):
    theirs = cliente_of(tenants.admin_b.id)
    for url in (f"{BASE}{theirs.id_cliente}/", f"{BASE}{theirs.id_cliente + 1000}/"):
        response = getattr(client, method)(url, headers=keys.admin_a, json={"estado": 0})
        assert response.status_code == 404 and response.is_json, url
    db.session.refresh(theirs)
    assert theirs.estado == 1


# --- POST -------------------------------------------------------------------------------------


def test_post_creates_a_client_with_the_seed_defaults(client, keys, cuenta):
    data = body(cuenta)
    for name in ("id_ciudad", "id_pais", "estado", "genero", "fecha_nacimiento"):
        del data[name]
    response = client.post(BASE, json=data, headers=keys.admin_a)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["id_ciudad"] == 1 and created["id_pais"] == 1 and created["estado"] == 1
    assert response.headers["Location"].endswith(f"/{created['id_cliente']}/")
    row = db.session.get(Cliente, created["id_cliente"])
    assert row.id_usuario == cuenta and row.nombre_cliente == "María"


def test_post_is_recorded_in_the_historial(client, keys, cuenta):
    created = client.post(BASE, json=body(cuenta), headers=keys.admin_a).json
    entry = db.session.scalar(sa.select(Historial).where(Historial.modelo == "Cliente"))
    assert entry.accion == "crear" and entry.detalle["valores"]["cedula_cliente"] == created["cedula_cliente"]


BAD_BODIES = [
    ({"estado": "1"}, "estado", "entero"),
    ({"estado": 2}, "estado", "No es una opción válida."),
    ({"estado": None}, "estado", "nulo"),
    ({"genero": True}, "genero", "entero"),
    ({"email": ["a@b.co"]}, "email", "texto"),
    ({"email": "no-es-correo"}, "email", "Correo electrónico no válido."),
    ({"nombre_cliente": {"x": 1}}, "nombre_cliente", "texto"),
    ({"nombre_cliente": ""}, "nombre_cliente", "obligatorio"),
    ({"nombre_cliente": "A" * 21}, "nombre_cliente", "Máximo 20"),
    ({"nombre_cliente": "Ana\x00"}, "nombre_cliente", "caracteres no permitidos"),
    ({"cedula_cliente": "12#34"}, "cedula_cliente", "dígitos"),  # dots, spaces and dashes are dropped
    ({"cedula_cliente": "12345678901"}, "cedula_cliente", "10"),
    ({"fecha_nacimiento": "2999-01-01"}, "fecha_nacimiento", "pasado"),
    ({"fecha_nacimiento": "17/05/1990"}, "fecha_nacimiento", ""),
    ({"fecha_nacimiento": 19900517}, "fecha_nacimiento", "fecha"),
    ({"telefono": "12345"}, "telefono", "Teléfono no válido para Colombia."),
    ({"id_ciudad": 21}, "id_ciudad", "no pertenece al país"),
    ({"id_pais": 10**20}, "id_pais", "No es una opción válida."),
    ({"id_usuario": None}, "id_usuario", "obligatorio"),
    ({"id_usuario": 1.5}, "id_usuario", "entero"),
    ({"inventado": 1}, "inventado", "desconocido"),
]


@pytest.mark.parametrize("change,field,message", BAD_BODIES)
def test_post_validation_errors_name_the_field_and_write_nothing(
    client, keys, cuenta, change, field, message
):
    response = client.post(BASE, json=body(cuenta, **change), headers=keys.admin_a)
    assert response.status_code == 400, response.json
    assert field in response.json and any(message in m for m in response.json[field]), response.json
    assert count_clientes() == 0


def test_post_without_id_usuario_is_refused(client, keys, cuenta):
    data = body(cuenta)
    del data["id_usuario"]
    response = client.post(BASE, json=data, headers=keys.admin_a)
    assert response.status_code == 400 and response.json["id_usuario"] == ["Este campo es obligatorio."]


@pytest.mark.parametrize(
    "raw,content_type,status",
    [
        ("{nope", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"texto"', "application/json", 400),
        ("nombre=Ana", "application/x-www-form-urlencoded", 415),
        (b"\xff\xfe", "application/json", 400),
    ],
)
def test_malformed_bodies_are_4xx_json(client, keys, raw, content_type, status):
    response = client.post(BASE, data=raw, content_type=content_type, headers=keys.admin_a)
    assert response.status_code == status and response.is_json
    assert count_clientes() == 0


def test_foreign_keys_to_another_tenant_are_400_on_that_field(client, keys, tenants, cuenta):
    admin_b = db.session.get(Usuario, tenants.admin_b.id)
    theirs = {
        "id_empresa": factories.empresa(admin_b).id,
        "id_campana": factories.campana(admin_b).id,
        "id_usuario": cuenta_cliente(tenants.admin_b.id, "cuenta.b@test.co"),
    }
    for field, value in theirs.items():
        response = client.post(BASE, json=body(cuenta, **{field: value}), headers=keys.admin_a)
        assert response.status_code == 400 and response.json == {field: ["No es una opción válida."]}
    assert count_clientes() == 0


def test_id_usuario_must_be_a_free_cliente_account(client, keys, tenants, cuenta):
    cliente_of(tenants.admin_a.id, id_usuario=cuenta)
    for taken in (cuenta, tenants.vendedor_a.id, tenants.admin_a.id):
        response = client.post(BASE, json=body(taken, cedula_cliente="999"), headers=keys.admin_a)
        assert response.status_code == 400 and "id_usuario" in response.json


def test_the_cedula_is_unique_per_tenant_only(client, keys, tenants, cuenta):
    cliente_of(tenants.admin_a.id, cedula_cliente="1020304050")
    response = client.post(BASE, json=body(cuenta), headers=keys.admin_a)
    assert response.json == {"cedula_cliente": ["Ya existe un cliente con esta cédula."]}
    otra = cuenta_cliente(tenants.admin_b.id, "cuenta.b@test.co")
    assert client.post(BASE, json=body(otra), headers=keys.admin_b).status_code == 201


def test_a_superadmin_creates_in_the_tenant_of_the_account(client, keys, tenants, cuenta):
    empresa_b = factories.empresa(db.session.get(Usuario, tenants.admin_b.id)).id
    refused = client.post(BASE, json=body(cuenta, id_empresa=empresa_b), headers=keys.superadmin)
    assert refused.status_code == 400 and "id_empresa" in refused.json
    created = client.post(BASE, json=body(cuenta), headers=keys.superadmin)
    assert created.status_code == 201, created.json
    assert db.session.get(Cliente, created.json["id_cliente"]).id_propietario == tenants.admin_a.id


# --- PUT and PATCH ------------------------------------------------------------------------------


def test_put_requires_the_fields_create_requires(client, keys, tenants, cuenta):
    c = cliente_of(tenants.admin_a.id)
    response = client.put(f"{BASE}{c.id_cliente}/", json={"nombre_cliente": "Solo"}, headers=keys.admin_a)
    assert response.status_code == 400
    assert set(response.json) == {"id_usuario", "cedula_cliente"}  # SPEC §14: the others are kept
    db.session.refresh(c)
    assert c.nombre_cliente != "Solo"


def test_put_replaces_every_field(client, keys, tenants, cuenta):
    c = cliente_of(tenants.admin_a.id)
    data = body(cuenta, telefono="+57 300 765 4321", id_ciudad=2, genero=None, email=None)
    response = client.put(f"{BASE}{c.id_cliente}/", json=data, headers=keys.admin_a)
    assert response.status_code == 200, response.json
    assert response.json["telefono"] == "+573007654321" and response.json["email"] is None
    assert response.json["cedula_cliente"] == "1020304050" and response.json["id_ciudad"] == 2


def test_put_accepts_the_read_only_fields_of_a_get(client, keys, tenants, cuenta):
    c = cliente_of(tenants.admin_a.id, id_usuario=cuenta)
    data = client.get(f"{BASE}{c.id_cliente}/", headers=keys.admin_a).json | {"estado": 3}
    response = client.put(f"{BASE}{c.id_cliente}/", json=data, headers=keys.admin_a)
    assert response.status_code == 200 and response.json["estado"] == 3


def test_patch_changes_only_the_given_fields(client, keys, tenants, cuenta):
    c = cliente_of(tenants.admin_a.id, id_usuario=cuenta)
    response = client.patch(f"{BASE}{c.id_cliente}/", json={"estado": 0}, headers=keys.admin_a)
    assert response.status_code == 200 and response.json["estado"] == 0
    assert response.json["nombre_cliente"] == c.nombre_cliente and response.json["id_usuario"] == cuenta


def test_patch_keeps_a_panel_client_without_account_but_cannot_remove_one(client, keys, tenants, cuenta):
    sin_cuenta = cliente_of(tenants.admin_a.id)
    assert (
        client.patch(f"{BASE}{sin_cuenta.id_cliente}/", json={"estado": 0}, headers=keys.admin_a).status_code
        == 200
    )
    con_cuenta = cliente_of(tenants.admin_a.id, id_usuario=cuenta)
    response = client.patch(
        f"{BASE}{con_cuenta.id_cliente}/", json={"id_usuario": None}, headers=keys.admin_a
    )
    assert response.status_code == 400 and "id_usuario" in response.json


def test_a_rejected_patch_changes_nothing(client, keys, tenants):
    c = cliente_of(tenants.admin_a.id)
    response = client.patch(
        f"{BASE}{c.id_cliente}/", json={"estado": 0, "email": "malo"}, headers=keys.admin_a
    )
    assert response.status_code == 400 and list(response.json) == ["email"]
    db.session.refresh(c)
    assert c.estado == 1


def test_patch_to_another_tenants_empresa_is_400(client, keys, tenants):
    c = cliente_of(tenants.admin_a.id)
    empresa_b = factories.empresa(db.session.get(Usuario, tenants.admin_b.id)).id
    response = client.patch(f"{BASE}{c.id_cliente}/", json={"id_empresa": empresa_b}, headers=keys.admin_a)
    assert response.status_code == 400 and response.json == {"id_empresa": ["No es una opción válida."]}


# --- DELETE ---------------------------------------------------------------------------------------


def test_delete_answers_204_and_removes_the_client(client, keys, tenants):
    c = cliente_of(tenants.admin_a.id)
    response = client.delete(f"{BASE}{c.id_cliente}/", headers=keys.admin_a)
    assert response.status_code == 204 and response.data == b"", response.get_data(as_text=True)
    assert count_clientes() == 0


@pytest.mark.parametrize(
    "make,words,key",
    [
        (lambda c, u: factories.vehiculo(c), "1 vehículo", "vehiculos"),
        (lambda c, u: factories.movimiento(c), "1 movimiento de capital", "movimientos"),
        (lambda c, u: factories.venta(c, u), "1 venta", "ventas"),
        (lambda c, u: _sms_log(c, u), "1 mensaje SMS", "sms_logs"),
    ],
)
def test_delete_of_a_protected_client_is_409_naming_what_protects_it(client, keys, tenants, make, words, key):
    c = cliente_of(tenants.admin_a.id)
    make(c, db.session.get(Usuario, tenants.vendedor_a.id))
    response = client.delete(f"{BASE}{c.id_cliente}/", headers=keys.admin_a)
    assert response.status_code == 409 and words in response.json["detail"]
    assert response.json["protegido_por"] == {key: 1}
    assert count_clientes() == 1


def _sms_log(c: Cliente, user: Usuario) -> None:
    from panel.models import CampanaSMS, SMSLog

    campana = CampanaSMS(nombre="x", mensaje="Hola", id_usuario=user.id, id_propietario=c.id_propietario)
    db.session.add(campana)
    db.session.flush()
    db.session.add(
        SMSLog(
            id_campana=campana.id, id_cliente=c.id_cliente, mensaje="Hola", id_propietario=c.id_propietario
        )
    )
    db.session.commit()
