"""The OpenAPI document matches the real routes, is valid, and has a readable page."""

import re

from schemathesis.openapi import from_dict

from panel.api.error_responses import PAGES_BLUEPRINT

API_PREFIXES = ("/Database/", "/clientes/")
IGNORED = {"HEAD", "OPTIONS"}


def _routes(app) -> set[tuple[str, str]]:
    """(path, method) of every API route (not the SMS document's HTML pages, which share /clientes/),
    with Flask's <int:x> written as OpenAPI's {x}."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIXES) and not rule.endpoint.startswith(f"{PAGES_BLUEPRINT}."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - IGNORED}
    return routes


def test_the_document_describes_exactly_the_api_routes(client, app):
    doc = client.get("/api/openapi.json").json
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == _routes(app)


def test_the_document_is_valid_openapi_3_with_the_auth_schemes(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert set(doc["components"]["securitySchemes"]) == {"token", "bearer", "sesion"}
    from_dict(doc).validate()  # raises on a document that breaks the OpenAPI schema


def test_every_operation_documents_its_errors(client):
    doc = client.get("/api/openapi.json").json
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert {"401", "403"} <= set(op["responses"]), (method, path)
            if "requestBody" in op:
                assert {"400", "415"} <= set(op["responses"]), (method, path)


def test_the_client_schema_uses_the_seed_field_names(client):
    schema = client.get("/api/openapi.json").json["components"]["schemas"]["Cliente"]
    assert set(schema["properties"]) >= {
        "id_cliente", "id_usuario", "cedula_cliente", "nombre_cliente", "apellido_cliente",
        "fecha_nacimiento", "email", "genero", "telefono", "id_ciudad", "id_pais", "id_empresa",
        "id_campana", "estado",
    }  # fmt: skip


def test_the_docs_page_shows_every_operation_without_external_resources(client):
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="es">' in html
    for path in (
        "/Database/Database/clientes/{id_cliente}/",
        "/clientes/enviar-sms/",
        "/clientes/plantillas-sms/",
    ):
        assert path in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
