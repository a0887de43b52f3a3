"""Reading JSON bodies and query strings strictly: wrong types are 400s, never 500s."""

import json

from flask import request
from wtforms.validators import Length

from ..ids import MAX_ID
from .error_responses import ApiError

NOT_INT = "Debe ser un número entero."
NOT_STR = "Debe ser un texto."
NOT_NULL = "Este campo no puede ser nulo."
BAD_CHAR = "Contiene caracteres no permitidos."
UNKNOWN = "Campo desconocido."
REQUIRED = "Este campo es obligatorio."


def json_object() -> dict:
    """The request body as a JSON object (415 if not JSON, 400 if malformed or not an object)."""
    if not request.is_json:
        raise ApiError(415)
    try:
        data = json.loads(request.get_data(cache=True) or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, f"JSON mal formado: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, errors={"non_field_errors": ["Se esperaba un objeto JSON."]})
    return data


def clean_text(value: str) -> str | None:
    """The message for text the database cannot store (NUL, lone surrogates), or None."""
    if "\x00" in value:
        return BAD_CHAR
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return BAD_CHAR
    return None


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_type(value, kind: str, nullable: bool) -> str | None:
    """The error message when ``value`` is not a JSON ``kind`` (int, str, date), else None."""
    if value is None:
        return None if nullable else NOT_NULL
    if kind == "int":
        return None if is_int(value) else NOT_INT
    if kind == "bool":
        return None if isinstance(value, bool) else "Debe ser true o false."
    if not isinstance(value, str):
        return NOT_STR if kind == "str" else "Debe ser una fecha AAAA-MM-DD (texto)."
    return clean_text(value)


def query_int(name: str, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """An integer query parameter, or None when absent; 400 naming it when malformed."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.lstrip("-").isdigit() or not minimum <= int(raw) <= maximum:
        raise ApiError(400, errors={name: [f"Debe ser un número entero entre {minimum} y {maximum}."]})
    return int(raw)


def query_text(name: str, max_length: int = 100) -> str | None:
    """A text query parameter, stripped; 400 when it cannot be searched for (the length counted
    as sent, as the document's maxLength counts it)."""
    sent = request.args.get(name) or ""
    if len(sent) > max_length:
        raise ApiError(400, errors={name: [f"Máximo {max_length} caracteres."]})
    raw = sent.strip()
    if not raw:
        return None
    problem = clean_text(raw)
    if problem:
        raise ApiError(400, errors={name: [problem]})
    return raw


def too_long(fields: dict, values: dict, names: dict | None = None) -> dict:
    """``{name: [message]}`` for each text longer than its field's Length, counted as sent — as
    the document's maxLength counts it — not after ``strip`` or Optional() let blank text pass
    (``fields``: bound form fields; ``names``: the document's name of each, when it differs)."""
    errors = {}
    for name, field in fields.items():
        value = values.get(name)
        for v in field.validators:
            if isinstance(v, Length) and isinstance(value, str) and 0 <= v.max < len(value):
                errors[(names or {}).get(name, name)] = [v.message or f"Máximo {v.max} caracteres."]
    return errors
