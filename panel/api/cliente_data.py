"""A Cliente in and out of JSON; validation is ClienteForm's, fed the JSON as form data."""

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, DateField, SelectField

from .. import consent, formatting, municipios, tenancy
from ..extensions import db
from ..forms.base import CONTROL_MESSAGE, has_control
from ..forms.binding import bind
from ..forms.cliente_form import ClienteForm
from ..ids import MAX_ID
from ..models import Cliente, Usuario
from .error_responses import ApiError
from .payload import REQUIRED, UNKNOWN, check_type, is_int, too_long
from .schema import INTEGER_COERCIONS, bound_fields, is_optional, is_required

# The seed's REST API requires the user account, which the panel's form leaves optional.
API_REQUIRED = ("id_usuario",)
FORM_FIELDS = bound_fields(ClienteForm, ClienteForm.WRITABLE)


def _kind(field) -> str:
    """The JSON type a field's value arrives as: int (a choice by id or number), date, bool or str
    (tipo_documento's codes)."""
    if isinstance(field, BooleanField):
        return "bool"
    if isinstance(field, SelectField):
        return "int" if field.coerce in INTEGER_COERCIONS else "str"
    return "date" if isinstance(field, DateField) else "str"


# JSON type and whether null reaches the form, for each writable field: null is refused up
# front only where the form could say nothing clearer than "not a valid choice".
FIELDS = {
    name: (_kind(f), is_optional(f) or is_required(f) or name in API_REQUIRED)
    for name, f in FORM_FIELDS.items()
}
# What POST requires, and so PUT (SPEC §14); the other fields have defaults or may be empty.
CREATE_REQUIRED = tuple(n for n, f in FORM_FIELDS.items() if is_required(f) or n in API_REQUIRED)
OPTIONAL_TEXT = ("apellido_cliente", "email", "telefono")
READ_ONLY = ("id_cliente", "creado", "actualizado")
# The city as a person writes it, beside its id (SPEC §16): "Itagüí", "Rionegro (Antioquia)",
# "Rionegro, Antioquia", a DANE code; resolved by the one matcher (municipios.match). Write-only.
CIUDAD, MAX_CIUDAD = "ciudad", 120
DEFAULTS = {name: f.default for name, f in FORM_FIELDS.items()}  # what POST stores for a field left out


def to_json(c: Cliente) -> dict:
    """The seed's field names exactly, plus the read-only ones of SPEC section 4."""
    data = {name: getattr(c, name) for name in ("id_cliente", *FIELDS)}
    data["fecha_nacimiento"] = c.fecha_nacimiento.isoformat() if c.fecha_nacimiento else None
    data.update(creado=formatting.iso(c.creado), actualizado=formatting.iso(c.actualizado))
    return data


def check_body(body: dict, *, required=()) -> None:
    """Unknown fields, wrong JSON types and missing ``required`` fields: 400."""
    errors = {}
    for name, value in body.items():
        if name in FIELDS or name == CIUDAD:
            problem = check_type(value, *FIELDS.get(name, ("str", False)))
            if problem:
                errors[name] = [problem]
        elif name not in READ_ONLY:
            errors[name] = [UNKNOWN]
    errors.update({name: [REQUIRED] for name in required if name not in body})
    errors = too_long(FORM_FIELDS, body) | errors
    if errors:
        raise ApiError(400, errors=errors)


def named_city(body: dict) -> tuple[dict, dict]:
    """``ciudad`` written by a person, as ``id_ciudad`` (and ``id_pais``, unless given): the body
    to validate and the errors for ``ciudad`` — the matcher's words (the candidates of an
    ambiguous name, "¿Quiso decir …?"); given with an ``id_ciudad``, both must name one city."""
    if CIUDAD not in body:
        return body, {}
    body = dict(body)
    escrito = body.pop(CIUDAD)
    if len(escrito) > MAX_CIUDAD:
        return body, {CIUDAD: [f"Máximo {MAX_CIUDAD} caracteres."]}
    if has_control(escrito):
        return body, {CIUDAD: [CONTROL_MESSAGE]}
    pais = body.get("id_pais") if is_int(body.get("id_pais")) else None
    try:
        lugar = municipios.indice().match(escrito, id_pais=pais)
    except municipios.MunicipioError as error:
        return body, {CIUDAD: [str(error)]}
    if "id_ciudad" in body and body["id_ciudad"] != lugar.id:
        dicho = f"«{escrito.strip()}» es {lugar.completo} (id_ciudad {lugar.id})"
        return body, {CIUDAD: [f"{dicho}, no id_ciudad {body['id_ciudad']}."]}
    return {"id_pais": lugar.id_pais} | body | {"id_ciudad": lugar.id}, {}


def form_errors(form) -> dict:
    """WTForms errors as ``{"field": ["message", …]}`` (form-wide ones as non_field_errors)."""
    return {(name or "non_field_errors"): [str(m) for m in msgs] for name, msgs in form.errors.items()}


def stored_values(obj: Cliente | None) -> dict:
    """What each writable field holds now: the row's values, or the defaults of a new client."""
    return {name: getattr(obj, name) for name in FIELDS} if obj is not None else DEFAULTS


def bind_form(values: dict, obj: Cliente | None, require_usuario: bool) -> ClienteForm:
    """A ClienteForm holding ``values`` exactly as if they had been typed in the panel."""
    return bind(ClienteForm, {name: values[name] for name in FIELDS}, obj, require_usuario=require_usuario)


def _owner_of_account(id_usuario) -> int | None:
    """The tenant of a cliente account (how a superadmin's new client finds its owner)."""
    if not is_int(id_usuario) or not 0 < id_usuario <= MAX_ID:
        return None
    account = db.session.scalar(sa.select(Usuario).where(Usuario.id == id_usuario))
    return account.creado_por if account is not None and account.rol == "cliente" else None


def write_scope(owner: int | None):
    """A superadmin writes inside the owner's tenant, so choice lists and checks are that tenant's."""
    return tenancy.writing_for(current_user, owner)


def save(body: dict, obj: Cliente | None = None, *, partial: bool = False, full: bool = False) -> Cliente:
    """Validate ``body`` with ClienteForm and write it (a new client when ``obj`` is None).

    ``full`` is a PUT as in Django REST Framework: what create requires must be given, and the
    fields left out keep their values (as in a PATCH), never cleared nor reset to defaults.
    """
    check_body(body, required=CREATE_REQUIRED if full else ())
    body, named_errors = named_city(body)
    values = stored_values(obj) | {k: v for k, v in body.items() if k in FIELDS}
    # A new client needs its account (the seed's API); a client made in the panel without one
    # takes null back (GET → PUT round-trips), but the API never removes an account once linked.
    require_usuario = obj is None or obj.id_usuario is not None
    owner = obj.id_propietario if obj is not None else _owner_of_account(values["id_usuario"])
    with write_scope(owner):
        form = bind_form(values, obj, require_usuario)
        if not form.validate() or named_errors:
            raise ApiError(400, errors=form_errors(form) | named_errors)
        return write(form, obj)


def write(form: ClienteForm, obj: Cliente | None) -> Cliente:
    """Apply a validated form and commit (the Historial captures the change); a lost race is a 409."""
    cliente = obj or Cliente()
    form.populate_obj(cliente)
    for name in OPTIONAL_TEXT:  # an empty optional text is stored as NULL: null in, null out
        if getattr(cliente, name) == "":
            setattr(cliente, name, None)
    db.session.add(cliente)
    try:
        with consent.using("API"):
            db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "Otro cambio se cruzó con este (cédula o cuenta ya usadas); repita.") from None
    return cliente
