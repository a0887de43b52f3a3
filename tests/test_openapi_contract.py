"""The OpenAPI document is derived from ClienteForm and says what the server does (SPEC §14)."""

import re

import jsonschema_rs
import pytest
from wtforms import Form, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from panel.api import clientes_endpoints
from panel.api.schema import blank_or, form_schema

from .api_support import BASE, auth, body, cliente_of, cuenta_cliente, keys

__all__ = ["keys"]


@pytest.fixture
def doc(client):
    return client.get("/api/openapi.json").json


def _operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield f"{method.upper()} {path}", op


def _walk(schema):
    """Every (sub)schema of a schema: properties, items, unions."""
    yield schema
    for child in (schema.get("properties") or {}).values():
        yield from _walk(child)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _walk(schema[key])
    for key in ("anyOf", "oneOf", "allOf"):
        for child in schema.get(key, []):
            yield from _walk(child)


def _json_schema(node):
    """OpenAPI 3.0's schema dialect as JSON Schema: ``nullable`` is ``anyOf`` [the schema, null]
    (what schemathesis and the generators read it as)."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    return {"anyOf": [out, {"type": "null"}]} if node.get("nullable") is True else out


def _validator(doc, name: str):
    """A JSON Schema validator for one component (its $refs resolved within the document)."""
    root = {"$ref": f"#/components/schemas/{name}", "components": _json_schema(doc["components"])}
    return jsonschema_rs.validator_for(root)


def test_every_enum_is_one_named_component(doc):
    """A generator makes one type per enum, not one per property (and three of a nullable one)."""
    schemas = doc["components"]["schemas"]
    inline = [
        (name, s)
        for name, c in schemas.items()
        for s in list(_walk(c))[1:]
        if "enum" in s
        if s.get("type") != "boolean"  # success: true / false is a constant, not a choice
    ]
    assert inline == []
    assert schemas["Genero"] == {"type": "integer", "enum": [0, 1]}
    assert schemas["TipoDocumento"]["enum"] == ["CC", "CE", "TI", "PPT", "PEP", "PA", "NIT"]


def test_genero_is_the_nullable_named_enum_everywhere(doc):
    schemas = doc["components"]["schemas"]
    for name in ("Cliente", "ClienteNuevo", "ClienteCompleto", "ClienteParcial"):
        genero = schemas[name]["properties"]["genero"]
        assert genero["allOf"] == [{"$ref": "#/components/schemas/Genero"}] and genero["nullable"], name
        estado = schemas[name]["properties"]["estado"]
        assert (
            estado["allOf"] == [{"$ref": "#/components/schemas/EstadoCliente"}] and "nullable" not in estado
        )


def test_null_genero_is_valid_and_a_value_outside_the_enum_is_not(doc):
    validator = _validator(doc, "ClienteParcial")
    assert validator.is_valid({"genero": None}) and validator.is_valid({"genero": 1})
    assert not validator.is_valid({"genero": 2}) and not validator.is_valid({"estado": None})


def test_no_schema_has_a_property_of_its_own_name(doc):
    """The schema «Plantillas» had a property «plantillas»: the generated class shadowed it."""
    for name, schema in doc["components"]["schemas"].items():
        props = {p.lower() for s in _walk(schema) for p in (s.get("properties") or {})}
        assert name.lower() not in props, name
    assert "plantillas" in doc["components"]["schemas"]["ListaPlantillas"]["properties"]


def test_no_request_schema_carries_a_default(doc):
    """openapi-typescript makes a property with ``default`` required: the default is told in words."""
    checked = 0
    for label, schema in _request_schemas(doc):
        for sub in _walk(schema):
            assert "default" not in sub, label
            checked += 1
    nuevo = doc["components"]["schemas"]["ClienteNuevo"]["properties"]
    assert "Por defecto: true." in nuevo["acepta_sms"]["description"] and checked > 20


def _request_schemas(doc):
    schemas = doc["components"]["schemas"]
    for label, op in _operations(doc):
        if "requestBody" in op:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            yield label, schemas[ref.rsplit("/", 1)[-1]]


def test_required_fields_of_a_request_are_not_nullable(doc):
    """Except PUT's id_usuario: a client made in the panel has none, and a GET shows null."""
    checked = 0
    for label, schema in _request_schemas(doc):
        for name in schema.get("required", []):
            nullable = schema["properties"][name].get("nullable", False)
            assert nullable == (label.startswith("PUT ") and name == "id_usuario"), (label, name)
            checked += 1
    assert checked >= 8


def test_put_requires_exactly_what_create_requires(doc):
    schemas = doc["components"]["schemas"]
    assert set(schemas["ClienteCompleto"]["required"]) == set(schemas["ClienteNuevo"]["required"])
    assert set(schemas["ClienteNuevo"]["required"]) == {"id_usuario", "cedula_cliente", "nombre_cliente"}
    assert not any("default" in p for p in schemas["ClienteCompleto"]["properties"].values())


def test_every_operation_has_a_unique_operation_id(doc):
    ids = [op.get("operationId") for _label, op in _operations(doc)]
    assert all(ids) and len(ids) == len(set(ids)), ids


def test_the_two_kinds_of_400_body_are_distinct_named_schemas(doc):
    for label, op in _operations(doc):
        if "400" in op["responses"]:
            union = op["responses"]["400"]["content"]["application/json"]["schema"]["anyOf"]
            names = {item["$ref"].rsplit("/", 1)[-1] for item in union}
            sms = label.split()[1].startswith("/clientes/")
            expected = {"ErrorSMS", "ValidationErrorSMS"} if sms else {"Error", "ValidationError"}
            assert names == expected, label


@pytest.mark.parametrize(
    "payload,kind",
    [
        (b"{no es json", "Error"),
        (b'{"cedula_cliente": "12a"}', "ValidationError"),
    ],
)
def test_each_400_body_matches_its_schema_and_not_the_other(client, doc, keys, payload, kind):
    headers = keys.admin_a | {"Content-Type": "application/json"}
    answer = client.post(BASE, data=payload, headers=headers)
    assert answer.status_code == 400
    other = {"Error": "ValidationError", "ValidationError": "Error"}[kind]
    assert _validator(doc, kind).is_valid(answer.json), answer.json
    assert not _validator(doc, other).is_valid(answer.json), answer.json


def test_the_schema_carries_the_form_limits(doc):
    props = doc["components"]["schemas"]["ClienteNuevo"]["properties"]
    cedula = props["cedula_cliente"]
    assert cedula["maxLength"] == 20 and cedula["pattern"] == "^[0-9A-Za-z]+$"
    assert cedula["minLength"] == 3  # the shortest number of any type
    assert props["tipo_documento"]["allOf"] == [{"$ref": "#/components/schemas/TipoDocumento"}]
    assert "(por defecto)" in props["tipo_documento"]["description"] and "tipo_documento" not in doc[
        "components"
    ]["schemas"]["ClienteNuevo"].get("required", [])
    assert props["nombre_cliente"]["maxLength"] == 20
    assert doc["components"]["schemas"]["EstadoCliente"]["enum"] == [0, 1, 3]
    assert props["fecha_nacimiento"]["format"] == "date" and "format" not in props["email"]
    assert props["id_empresa"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**31 - 1,
        "nullable": True,
        "description": props["id_empresa"]["description"],
    }


class EnvioForm(Form):
    """A form like a later EnviarSMSForm: the same function describes it."""

    mensaje = StringField(validators=[DataRequired(), Length(max=160)])
    nombre_campana = StringField(validators=[Optional(), Length(max=200)])
    codigo = StringField(validators=[Optional(), Regexp(r"^\d{4}$")])
    reintentos = IntegerField(validators=[Optional(), NumberRange(min=0, max=3)])


def test_form_schema_describes_any_form():
    schema = form_schema(EnvioForm)
    props = schema["properties"]
    assert schema["required"] == ["mensaje"] and schema["additionalProperties"] is False
    assert props["mensaje"]["maxLength"] == 160 and not props["mensaje"].get("nullable")
    assert props["nombre_campana"]["nullable"] and props["codigo"]["pattern"] == blank_or("^[0-9]{4}$")
    assert re.match(props["codigo"]["pattern"], "") and re.match(props["codigo"]["pattern"], "\u3000")
    assert not re.match(props["codigo"]["pattern"], "123")
    assert props["reintentos"] == {"type": "integer", "minimum": 0, "maximum": 3, "nullable": True}


# --- the server side of the same contract ------------------------------------------------------


def test_put_without_the_optional_fields_keeps_them(client, keys, tenants):
    cuenta = cuenta_cliente(tenants.admin_a.id, "put@test.co")
    c = cliente_of(tenants.admin_a.id, id_usuario=cuenta, genero=1, fecha_nacimiento=None)
    before = client.get(f"{BASE}{c.id_cliente}/", headers=keys.admin_a).json
    required = {"id_usuario": cuenta, "cedula_cliente": "5550001", "nombre_cliente": "Nuevo"}
    answer = client.put(f"{BASE}{c.id_cliente}/", json=required, headers=keys.admin_a)
    assert answer.status_code == 200, answer.json
    after = client.get(f"{BASE}{c.id_cliente}/", headers=keys.admin_a).json
    assert after["nombre_cliente"] == "Nuevo" and after["cedula_cliente"] == "5550001"
    kept = ("apellido_cliente", "email", "telefono", "genero", "id_ciudad", "id_pais", "estado")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert before["genero"] == 1 and before["email"] and before["telefono"]


def test_put_still_clears_an_optional_field_sent_as_null(client, keys, tenants):
    cuenta = cuenta_cliente(tenants.admin_a.id, "null@test.co")
    c = cliente_of(tenants.admin_a.id, id_usuario=cuenta)
    data = body(cuenta, email=None, cedula_cliente=c.cedula_cliente)
    answer = client.put(f"{BASE}{c.id_cliente}/", json=data, headers=keys.admin_a)
    assert answer.status_code == 200 and answer.json["email"] is None


def test_a_page_size_above_the_maximum_is_capped(client, keys, tenants, monkeypatch):
    monkeypatch.setattr(clientes_endpoints, "MAX_PAGE_SIZE", 3)  # the rule, without writing 501 rows
    for _ in range(4):
        cliente_of(tenants.admin_a.id)
    page = client.get(f"{BASE}?page_size=100000", headers=keys.admin_a)
    assert page.status_code == 200
    assert page.json["count"] == 4 and len(page.json["results"]) == 3 and page.json["next"]


def test_the_real_maximum_is_documented(doc):
    (size,) = [p for p in doc["paths"][BASE]["get"]["parameters"] if p["name"] == "page_size"]
    assert str(clientes_endpoints.MAX_PAGE_SIZE) in size["description"] and size["schema"]["maximum"] > 100000


def test_a_bad_token_says_token_invalido(client, tenants):
    answer = client.get(BASE, headers=auth("no-es-una-clave"))
    assert answer.status_code == 401 and answer.json == {"detail": "Token inválido."}
