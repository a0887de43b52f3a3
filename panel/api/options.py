"""``OPTIONS`` on an API endpoint: the metadata Django REST Framework answers, read off the OpenAPI
document (so it says what the document says): name, description, what it renders and parses,
and the fields each write the caller may make (POST, PUT) takes.
"""

import re

from flask import current_app, jsonify, request
from flask_login import current_user

from .caller import PROTECTED, guard
from .cliente_data import FORM_FIELDS
from .docs import document
from .openapi import enum_labels

JSON = "application/json"
WRITES = ("POST", "PUT")
# JSON Schema type → DRF's field type.
TYPES = {
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
    "array": "list",
    "object": "nested object",
}
FORMATS = {"date": "date", "date-time": "datetime", "email": "email"}


def openapi_path(rule: str) -> str:
    """Flask's ``/x/<int:id>/`` as the document's ``/x/{id}/``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _resolve(schema: dict, components: dict) -> dict:
    """A property with its single ``allOf``/``$ref`` merged in (a named enum)."""
    if "$ref" in schema:
        return components[schema["$ref"].rsplit("/", 1)[-1]]
    if len(schema.get("allOf", ())) == 1:
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return _resolve(schema["allOf"][0], components) | rest
    return schema


def field_info(name: str, prop: dict, required: bool, components: dict, labels: dict) -> dict:
    """One field as DRF's SimpleMetadata describes it (``labels``: what each choice means)."""
    prop = _resolve(prop, components)
    info = {
        "type": FORMATS.get(prop.get("format"), TYPES.get(prop.get("type"), "field")),
        "required": required,
        "read_only": bool(prop.get("readOnly")),
        "label": labels.get("", {}).get(name, name.replace("_", " ").capitalize()),
    }
    if "enum" in prop:
        labels = labels.get(name, {})
        info["type"] = "choice"
        info["choices"] = [{"value": v, "display_name": str(labels.get(v, v))} for v in prop["enum"]]
    limits = {"maxLength": "max_length", "minLength": "min_length", "minimum": "min_value"}
    limits |= {"maximum": "max_value"}
    info |= {drf: prop[key] for key, drf in limits.items() if key in prop}
    info |= {k: prop[k] for k in ("description", "nullable", "pattern") if k in prop}
    return info


def _body_fields(operation: dict, components: dict) -> dict:
    labels = enum_labels() | {"": {n: str(f.label.text) for n, f in FORM_FIELDS.items()}}
    schema = _resolve(operation["requestBody"]["content"][JSON]["schema"], components)
    must = set(schema.get("required", ()))
    props = schema["properties"].items()
    return {n: field_info(n, p, n in must, components, labels) for n, p in props}


def _allowed(endpoint: str) -> bool:
    """Whether the caller may make this write (the view's ``requires``), as DRF checks."""
    permission = getattr(current_app.view_functions[endpoint], "permission", None)
    return permission is None or permission(current_user)


def metadata(document: dict) -> dict:
    """The endpoint's metadata: its operations in the document, and the writes' fields."""
    rule = request.url_rule.rule
    operations = document["paths"].get(openapi_path(rule), {})
    components = document["components"]["schemas"]
    first = next(iter(operations.values()), {})
    actions = {}
    for other in current_app.url_map.iter_rules():
        for method in sorted((other.methods or set()) & set(WRITES)):
            operation = operations.get(method.lower(), {})
            if other.rule == rule and "requestBody" in operation and _allowed(other.endpoint):
                actions[method] = _body_fields(operation, components)
    out = {
        "name": first.get("summary", rule),
        "description": " · ".join(op.get("summary", "") for op in operations.values()),
        "renders": [JSON],
        "parses": [JSON],
    }
    return out | ({"actions": actions} if actions else {})


def answer_options():
    """Before a guarded API view: OPTIONS answers JSON metadata, with the Allow header, to a
    caller the view's guard lets in (the same credentials as the view itself)."""
    if request.method != "OPTIONS" or request.url_rule is None or request.blueprint not in PROTECTED:
        return None
    guard()
    response = jsonify(metadata(document()))
    response.headers["Allow"] = current_app.make_default_options_response().headers["Allow"]
    return response
