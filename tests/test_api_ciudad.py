"""The API's city by name (SPEC §16): ``ciudad`` beside ``id_ciudad``, resolved by the one matcher
(municipios.match) the forms' search and the import use, refused with its Spanish words as a
400 on ``ciudad``; and the issue's "done when": a client with a pasaporte and one in Itagüí,
created in the panel and in the API."""

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import Ciudad, Cliente

from .api_support import BASE, body, cuenta_cliente, keys
from .helpers import csrf_from, login

__all__ = ["keys"]


def _city(codigo: str) -> int:
    return db.session.scalar(sa.select(Ciudad.id).where(Ciudad.codigo_dane == codigo))


def _foreign(nombre: str) -> Ciudad:
    return db.session.scalar(sa.select(Ciudad).where(Ciudad.nombre == nombre, Ciudad.codigo_dane.is_(None)))


@pytest.fixture
def cuenta(tenants):
    return cuenta_cliente(tenants.admin_a.id, "cuenta.a@test.co")


def named(cuenta: int, ciudad, **fields) -> dict:
    """A valid body giving the city by name (no id_ciudad, no id_pais unless asked)."""
    data = body(cuenta, ciudad=ciudad, **fields)
    for name in ("id_ciudad", "id_pais"):
        if name not in fields:
            data.pop(name)
    return data


@pytest.mark.parametrize(
    ("escrito", "codigo"),
    [
        ("Itagüí", "05360"),
        ("itagui", "05360"),
        ("  ITAGÜÍ ", "05360"),
        ("05360", "05360"),
        ("5360", "05360"),  # a spreadsheet dropped Antioquia's leading zero
        ("Rionegro (Antioquia)", "05615"),
        ("Rionegro, Santander", "68615"),
        ("BOGOTÁ, D.C.", "11001"),
        ("Santafé de Bogotá", "11001"),
        ("Cartagena de Indias", "13001"),
    ],
)
def test_a_client_is_created_with_its_city_written_as_people_write_it(client, keys, cuenta, escrito, codigo):
    answer = client.post(BASE, json=named(cuenta, escrito), headers=keys.admin_a)
    assert answer.status_code == 201, answer.json
    assert answer.json["id_ciudad"] == _city(codigo) and answer.json["id_pais"] == 1
    assert "ciudad" not in answer.json  # write-only: the answer carries the id
    assert db.session.get(Cliente, answer.json["id_cliente"]).ciudad.codigo_dane == codigo


@pytest.mark.parametrize(
    ("escrito", "words"),
    [
        ("Rionegro", "«Rionegro» es ambiguo: Rionegro (Antioquia), Rionegro (Santander)."),
        ("Itagüi x", "No existe el municipio «Itagüi x». ¿Quiso decir Itagüí (Antioquia)?"),
        ("Rionegro (Cundinamarca)", "No existe «Rionegro (Cundinamarca)» en Cundinamarca"),
        ("99999", "No existe un municipio con el código DANE 99999."),
        ("   ", "Escriba un municipio."),
        ("Itagüí\x01", "Contiene caracteres de control no permitidos."),
        ("x" * 121, "Máximo 120 caracteres."),
    ],
)
def test_a_city_that_cannot_be_told_is_a_400_in_its_words_and_writes_nothing(
    client, keys, cuenta, escrito, words
):
    answer = client.post(BASE, json=named(cuenta, escrito), headers=keys.admin_a)
    assert answer.status_code == 400, answer.json
    assert any(m.startswith(words) for m in answer.json["ciudad"]), answer.json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cliente)) == 0


def test_every_error_of_the_body_comes_at_once(client, keys, cuenta):
    answer = client.post(BASE, json=named(cuenta, "Rionegro", nombre_cliente=""), headers=keys.admin_a)
    assert answer.status_code == 400
    assert set(answer.json) == {"ciudad", "nombre_cliente"}, answer.json


@pytest.mark.parametrize(
    ("value", "words"), [(None, "Este campo no puede ser nulo."), (5360, "Debe ser un texto.")]
)
def test_ciudad_is_a_text(client, keys, cuenta, value, words):
    answer = client.post(BASE, json=named(cuenta, value), headers=keys.admin_a)
    assert answer.status_code == 400 and answer.json["ciudad"] == [words], answer.json


def test_with_an_id_both_must_name_one_city(client, keys, cuenta):
    itagui = _city("05360")
    same = client.post(BASE, json=body(cuenta, ciudad="Itagüí", id_ciudad=itagui), headers=keys.admin_a)
    assert same.status_code == 201 and same.json["id_ciudad"] == itagui, same.json
    other = body(cuenta, ciudad="Itagüí", id_ciudad=1, cedula_cliente="1020304051", telefono="3001234568")
    refused = client.post(BASE, json=other, headers=keys.admin_a)
    assert refused.status_code == 400
    assert refused.json["ciudad"] == [f"«Itagüí» es Itagüí (Antioquia) (id_ciudad {itagui}), no id_ciudad 1."]


def test_patch_moves_a_client_by_name_and_a_foreign_city_brings_its_country(client, keys, cuenta):
    created = client.post(BASE, json=body(cuenta), headers=keys.admin_a).json
    url = f"{BASE}{created['id_cliente']}/"
    moved = client.patch(url, json={"ciudad": "Rionegro (Antioquia)"}, headers=keys.admin_a)
    assert moved.status_code == 200 and moved.json["id_ciudad"] == _city("05615"), moved.json
    quito = _foreign("Quito")
    # The phone is read for the client's country: a Colombian one keeps its +57 abroad.
    abroad = client.patch(url, json={"ciudad": "quito", "telefono": "+573001234567"}, headers=keys.admin_a)
    assert abroad.status_code == 200, abroad.json
    assert (abroad.json["id_ciudad"], abroad.json["id_pais"]) == (quito.id, quito.id_pais) != (quito.id, 1)
    # A país given is kept, and the city must be in it (the form's rule, its words).
    wrong = client.patch(url, json={"ciudad": "Quito", "id_pais": 1}, headers=keys.admin_a)
    assert wrong.status_code == 400 and wrong.json == {
        "id_ciudad": ["La ciudad no pertenece al país elegido."]
    }
    misspelt = client.patch(url, json={"ciudad": "Itagüy"}, headers=keys.admin_a)
    assert misspelt.status_code == 400
    assert misspelt.json == {"ciudad": ["No existe el municipio «Itagüy». ¿Quiso decir Itagüí (Antioquia)?"]}
    db.session.expire_all()
    assert db.session.get(Cliente, created["id_cliente"]).id_ciudad == quito.id  # neither refusal wrote


def test_put_takes_the_city_by_name(client, keys, cuenta):
    created = client.post(BASE, json=body(cuenta), headers=keys.admin_a).json
    replaced = client.put(
        f"{BASE}{created['id_cliente']}/", json=named(cuenta, "Soacha"), headers=keys.admin_a
    )
    assert replaced.status_code == 200 and replaced.json["id_ciudad"] == _city("25754"), replaced.json


def test_openapi_describes_ciudad_in_every_request_body_and_not_in_the_answer(client):
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    for name in ("ClienteNuevo", "ClienteCompleto", "ClienteParcial"):
        prop = schemas[name]["properties"]["ciudad"]
        assert prop["type"] == "string" and prop["maxLength"] == 120 and prop["writeOnly"] is True
        assert "Rionegro (Antioquia)" in prop["description"]
        assert "ciudad" not in schemas[name].get("required", [])
    assert "ciudad" not in schemas["Cliente"]["properties"]


# --- the "done when" ---------------------------------------------------------------------


def test_a_client_with_a_pasaporte_and_one_in_itagui_in_the_panel_and_the_api(client, keys, cuenta, tenants):
    login(client, "admin.a@test.co")
    itagui = _city("05360")
    token = csrf_from(client.get("/admin/clientes/new/").data)
    common = {"csrf_token": token, "id_pais": "1", "estado": "1"}
    panel = [
        {
            "tipo_documento": "PA",
            "cedula_cliente": "at-123 456",
            "nombre_cliente": "Viajera",
            "id_ciudad": "1",
        },
        {"cedula_cliente": "71000111", "nombre_cliente": "Paisa", "id_ciudad": str(itagui)},
    ]
    for fields in panel:
        assert client.post("/admin/clientes/new/", data=common | fields).status_code == 302, fields
    api = [
        body(cuenta, tipo_documento="PA", cedula_cliente="zx-987 654", nombre_cliente="Viajero"),
        named(
            cuenta_cliente(tenants.admin_a.id, "cuenta.a2@test.co"),
            "Itagüí",
            cedula_cliente="71000222",
            telefono="3001234568",
        ),
    ]
    for data in api:
        answer = client.post(BASE, json=data, headers=keys.admin_a)
        assert answer.status_code == 201, answer.json
    rows = db.session.execute(
        sa.select(Cliente.tipo_documento, Cliente.cedula_cliente, Cliente.id_ciudad).order_by(
            Cliente.id_cliente
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("PA", "AT123456", 1),
        ("CC", "71000111", itagui),
        ("PA", "ZX987654", 1),
        ("CC", "71000222", itagui),
    ]
