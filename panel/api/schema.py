"""JSON Schema read off a WTForms form: the API contract comes from the validators that enforce it.

Each validator the API relies on has a translation (Length → maxLength, Regexp → pattern,
DataRequired → required and not null, Optional → null allowed, a static choice list → enum,
DateField → ``format: date``). A rule no JSON Schema keyword can hold (a choice list loaded from
the tenant's rows, a ``validate_<field>`` method) is left to the server; ``extra`` lets the caller
describe such a field from the same definitions the method uses.
"""

import re

from wtforms import BooleanField, DateField, Field, Form, IntegerField, SelectField, StringField
from wtforms.fields.core import UnboundField
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from ..forms.base import refused_controls
from ..ids import MAX_ID, coerce_choice, coerce_optional_choice

INTEGER_COERCIONS = (int, coerce_choice, coerce_optional_choice)
# The API refuses NUL in any text (PostgreSQL cannot store it: payload.clean_text); a form's
# text fields refuse every control character (text_pattern below).
TEXT = r"^[^\x00]*$"
# What DataRequired keeps after the ``strip`` filter: one character Python's strip() leaves.
BLANK = r"\s\x1c-\x1f\x85\ufeff"
# A subset of what email_validator accepts (no quoted or UTF-8 local parts, no special-use
# domains it refuses, such as .arpa or .local): JSON Schema's ``format: email`` allows more.
EMAIL = (
    r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@([a-z0-9]+(-[a-z0-9]+)*\.)+"
    r"(?!(arpa|invalid|local|localhost|onion|test)$)[a-z]{2,24}$"
)
# What Optional() takes for "nothing sent" besides the empty string: text that Python's strip()
# empties, less the controls every text field refuses first (panel/forms/base.py).
OPTIONAL_BLANK = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Python-only syntax a JSON Schema (ECMA 262) pattern cannot carry as it is.
UNTRANSLATABLE = re.compile(r"\(\?[P<aimsux]|\\[AZbB]")


def bound_fields(form_class: type[Form], names=None) -> dict[str, Field]:
    """The form's fields in declaration order, bound without a request (no choices loaded)."""
    unbound = [(n, getattr(form_class, n)) for n in dir(form_class) if not n.startswith("_")]
    unbound = sorted(
        ((n, f) for n, f in unbound if isinstance(f, UnboundField)), key=lambda p: p[1].creation_counter
    )
    meta = DefaultMeta()
    fields = {name: field.bind(None, name, _meta=meta) for name, field in unbound}
    return {n: fields[n] for n in names} if names is not None else fields


def is_required(field: Field) -> bool:
    return any(isinstance(v, DataRequired | InputRequired) for v in field.validators)


def is_optional(field: Field) -> bool:
    return any(isinstance(v, Optional) for v in field.validators)


def ecma_pattern(regexp: Regexp) -> str | None:
    """The Regexp as a JSON Schema pattern (anchored as ``re.match`` is), or None when it cannot be."""
    source = regexp.regex.pattern
    if regexp.regex.flags & ~re.UNICODE or UNTRANSLATABLE.search(source):
        return None
    # Python's \\d is any Unicode digit; [0-9] is stricter, so the schema never allows more.
    source = source.replace(r"\d", "[0-9]")
    return source if source.startswith("^") else f"^(?:{source})"


def _choice_schema(field: SelectField, nullable: bool) -> dict:
    """A static choice list is an enum (null listed when allowed); a list loaded per tenant is not."""
    schema = {"type": "integer" if field.coerce in INTEGER_COERCIONS else "string"}
    if field.choices is None:  # loaded from the database, different for each tenant
        return schema | ({"minimum": 1, "maximum": MAX_ID} if schema["type"] == "integer" else {})
    values = [value for value, _label in field.choices if value is not None]
    return schema | {"enum": values + [None] if nullable else values}


def _text_schema(field: StringField, required: bool) -> dict:
    schema: dict = {"type": "string"}
    patterns = []
    for v in field.validators:
        if isinstance(v, Length):
            schema |= {"maxLength": v.max} if v.max >= 0 else {}
            schema |= {"minLength": v.min} if v.min > 0 else {}
        elif isinstance(v, Regexp):
            patterns.append(ecma_pattern(v))
        elif isinstance(v, Email):
            patterns.append(EMAIL)
    patterns = [p for p in patterns if p]
    if required:
        schema["minLength"] = max(schema.get("minLength", 0), 1)
    if not patterns:
        schema["pattern"] = text_pattern(refused_controls(field), required)
    else:
        schema["pattern"] = patterns[0] if required or not is_optional(field) else blank_or(patterns[0])
    return schema


def blank_or(pattern: str) -> str:
    """An optional field's pattern: what it checks, or blank (Optional() stops the checks there and
    the API stores null), so an empty value is not a schema violation the server accepts."""
    return rf"^[{OPTIONAL_BLANK}]*$|{pattern}"


def text_pattern(controls: str, required: bool) -> str:
    """Text without the refused ``controls`` (panel/forms/base.py); required: not blank either."""
    if required:
        return rf"^[^{controls}]*[^{BLANK}{controls}][^{controls}]*$"
    return rf"^[^{controls}]*$"


def _integer_schema(field: IntegerField) -> dict:
    schema = {"type": "integer"}
    for v in field.validators:
        if isinstance(v, NumberRange):
            schema |= {k: n for k, n in (("minimum", v.min), ("maximum", v.max)) if n is not None}
    return schema


def _value_schema(field: Field, required: bool, nullable: bool) -> dict:
    if isinstance(field, SelectField):
        return _choice_schema(field, nullable)
    if isinstance(field, DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, IntegerField):
        return _integer_schema(field)
    if isinstance(field, BooleanField):
        return {"type": "boolean"}
    if isinstance(field, StringField):
        return _text_schema(field, required)
    raise TypeError(f"Sin traducción a JSON Schema para {type(field).__name__} ({field.name}).")


def field_schema(field: Field, required: bool | None = None, *, default: bool = True) -> dict:
    """One field's JSON Schema (OpenAPI 3.0: ``nullable``); ``required`` overrides the validators';
    ``default``: tell the field's default in the description (never as the ``default`` keyword)."""
    required = is_required(field) if required is None else required
    nullable = is_optional(field) and not required
    schema = _value_schema(field, required, nullable)
    if nullable:
        schema["nullable"] = True
    if field.description:
        schema["description"] = str(field.description)
    if default and field.default is not None and not callable(field.default):
        schema["description"] = default_described(schema.get("description"), field.default)
    return schema


def default_described(description: str | None, value) -> str:
    """The default in words, not as ``default``: a generator reads a request property with a
    ``default`` as always present (openapi-typescript makes it required), so a client would have
    to send what the server fills in anyway."""
    if description and "por defecto" in description.lower():
        return description
    shown = {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value
    return f"{description} " * bool(description) + f"Por defecto: {shown}."


def form_schema(
    form_class: type[Form],
    names=None,
    *,
    required=(),
    extra: dict | None = None,
    defaults: bool = True,
) -> dict:
    """The JSON Schema of a request body the form validates: unknown fields refused.

    ``required`` adds fields the caller requires beyond the form's own validators (and so not
    nullable); ``extra`` merges into a field's schema what a method-level rule adds; without
    ``defaults`` a left-out field keeps its stored value (PUT, PATCH), so no default is told.
    """
    fields = bound_fields(form_class, names)
    properties = {}
    for name, field in fields.items():
        must = True if name in required else None
        properties[name] = field_schema(field, must, default=defaults) | (extra or {}).get(name, {})
    must = [n for n, f in fields.items() if n in required or is_required(f)]
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    return schema | ({"required": must} if must else {})
