"""ClienteForm: the one source of validation for clients, used by the panel and the API.

Choice lists (empresa, campaña, usuario, ciudad, país) are loaded through the ORM, so the
tenancy hook limits them to the current user's tenant: a forged id is "not a valid choice".
"""

import json
import re

import sqlalchemy as sa
from flask import url_for
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from .. import clock, correo, identificacion
from ..campos import en_formulario as label
from ..extensions import db
from ..ids import coerce_choice, coerce_optional_choice
from ..models import ESTADOS_CLIENTE, GENEROS, CampanaPublicitaria, Ciudad, Cliente, Empresa, Pais, Usuario
from ..phones import PUNCTUATION, e164
from .base import PanelForm
from .fechas import FechaField

correo.remember_domains()  # the Email rule below checks each domain once per process

REQUIRED = "Este campo es obligatorio."
NOT_A_CHOICE = "No es una opción válida."


def cedula_digits(value):
    """'1.020.304', '1 020 304' or 'ab-123' → '1020304', 'ab123': how documents are often written
    or pasted (the dots, spaces and dashes dropped; the type's rule upper-cases a passport)."""
    return identificacion.sin_separadores(value)


def ya_existe(tipo: str) -> str:
    """The words for a (tipo, número) the tenant already has."""
    if tipo == "CC":
        return "Ya existe un cliente con esta cédula."
    return f"Ya existe un cliente con este documento ({identificacion.TIPOS.get(tipo, tipo)})."


def code(value):
    """A document type's code as typed ('ce ' → 'CE'); anything else is left for "not a choice"."""
    return value.strip().upper() if isinstance(value, str) else value


def strip(value):
    return value.strip() if isinstance(value, str) else value


class ChoiceField(SelectField):
    """A SelectField whose invalid values say so in Spanish (and never raise).

    ``options`` is a fixed list (not loaded per tenant), set on the field itself so that the
    API's schema can read it as an enum; ``blank`` adds the "none" choice before it.
    """

    def __init__(self, *args, options: dict | None = None, blank: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if options is not None:
            self.choices = ([(None, "—")] if blank else []) + list(options.items())

    def pre_validate(self, form):
        if self.data is None and not self.flags.required:
            return
        if self.data not in self._values():
            raise ValidationError(NOT_A_CHOICE)

    def _values(self) -> set:
        """The choices' values, a set made once per list assigned (an import's one form asks it
        for every row); choices are replaced, never changed in place."""
        choices = self.choices
        if getattr(self, "_values_of", None) is not choices:
            self._values_of, self._value_set = choices, {value for value, _ in choices}
        return self._value_set

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = self.coerce(valuelist[0])


class CiudadWidget:
    """A hidden input that Flask-Admin's form.js turns into a search as you type (select2 ajax,
    the Clientes view's lookup): the page carries the chosen city only, never all 1,123."""

    def __call__(self, field, **kwargs):
        ciudad = db.session.get(Ciudad, field.data) if isinstance(field.data, int) else None
        current = [ciudad.id, ciudad.etiqueta] if ciudad is not None else None
        attrs = {
            "type": "hidden",
            "id": kwargs.pop("id", field.id),
            "name": field.name,
            "value": "" if ciudad is None else ciudad.id,
            "data-role": "select2-ajax",
            "data-url": url_for("clientes.ajax_lookup", name=field.name),
            "data-json": json.dumps(current, ensure_ascii=False),
            "data-minimum-input-length": 1,
            "data-placeholder": "Escriba el municipio o su código DANE",
            "class": "form-control",
        }
        return Markup("<input {}>").format(
            Markup(" ").join(Markup('{}="{}"').format(k, escape(v)) for k, v in attrs.items())
        )


class CiudadField(ChoiceField):
    """The client's city among every municipio: valid when it exists (looked up, not listed)."""

    widget = CiudadWidget()

    def pre_validate(self, form):
        # ClienteForm answers from its own lookup (an import's form, from its catalogue); any
        # other form with a municipio (the import's default) looks it up in the session.
        lookup = getattr(form, "ciudad", None) or (lambda i: db.session.get(Ciudad, i))
        if not isinstance(self.data, int) or lookup(self.data) is None:
            raise ValidationError(NOT_A_CHOICE)


def _pairs(model) -> list[tuple[int, str]]:
    """(id, nombre) of a model through the ORM (tenant-scoped), as plain tuples: WTForms
    renders tuples, not SQLAlchemy Row objects."""
    rows = db.session.execute(sa.select(model.id, model.nombre).order_by(model.nombre))
    return [(i, n) for i, n in rows]


class ClienteForm(PanelForm):
    """Create or edit a client. ``obj`` (on edit) is the client being edited."""

    tipo_documento = ChoiceField(
        label("tipo_documento"),
        coerce=code,
        options=identificacion.TIPOS,
        default=identificacion.POR_DEFECTO,
    )
    cedula_cliente = StringField(
        label("cedula_cliente"),
        filters=[strip, cedula_digits],
        # No maxlength in the page: a browser would silently cut a pasted number. Each type's own
        # rule (digits, length, a NIT's verification digit) is validate_cedula_cliente's.
        render_kw={"maxlength": False},
        validators=[
            DataRequired(REQUIRED),
            Length(max=identificacion.MAX_NUMERO, message="Máximo 20 letras y dígitos."),
            Regexp(r"^[0-9A-Za-z]+$", message="El documento solo puede tener letras y dígitos."),
        ],
    )
    nombre_cliente = StringField(
        label("nombre_cliente"),
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(max=20, message="Máximo 20 caracteres.")],
    )
    apellido_cliente = StringField(
        label("apellido_cliente"),
        filters=[strip],
        validators=[Optional(), Length(max=20, message="Máximo 20 caracteres.")],
    )
    # dd/mm/aaaa with the Spanish picker in the panel; ISO (format: date) in the API.
    fecha_nacimiento = FechaField(label("fecha_nacimiento"), validators=[Optional()])
    email = EmailField(
        label("email"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=40, message="Máximo 40 caracteres."),
            Email(message="Correo electrónico no válido.", check_deliverability=False),
        ],
    )
    genero = ChoiceField(
        label("genero"), coerce=coerce_optional_choice, options=GENEROS, blank=True, validators=[Optional()]
    )
    telefono = StringField(
        label("telefono"),
        filters=[strip],
        validators=[Optional(), Length(max=20, message="Máximo 20 caracteres.")],
        render_kw={"placeholder": "3001234567 o +573001234567"},
    )
    id_pais = ChoiceField(label("id_pais"), coerce=coerce_choice, default=1)
    id_ciudad = CiudadField(label("id_ciudad"), coerce=coerce_choice, default=1)
    id_empresa = ChoiceField(label("id_empresa"), coerce=coerce_optional_choice, validators=[Optional()])
    id_campana = ChoiceField(label("id_campana"), coerce=coerce_optional_choice, validators=[Optional()])
    id_usuario = ChoiceField(label("id_usuario"), coerce=coerce_optional_choice, validators=[Optional()])
    acepta_sms = BooleanField(label("acepta_sms"), default=True)
    estado = ChoiceField(label("estado"), coerce=coerce_choice, options=ESTADOS_CLIENTE, default=1)

    def __init__(self, *args, require_usuario: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._obj = kwargs.get("obj")
        if require_usuario:  # the seed's REST API requires the user account
            self.id_usuario.flags.required = True
            self.id_usuario.validators = [DataRequired(REQUIRED)]
        self._load_choices()

    def _load_choices(self) -> None:
        none = [(None, "—")]
        self.id_pais.choices = _pairs(Pais)
        self.id_ciudad.choices = []  # 1,123 municipios: searched as you type (CiudadField)
        self.id_empresa.choices = none + _pairs(Empresa)
        self.id_campana.choices = none + _pairs(CampanaPublicitaria)
        self.id_usuario.choices = none + self._free_client_accounts()

    def _free_client_accounts(self) -> list[tuple[int, str]]:
        """Client-role accounts of the tenant not yet linked to another client."""
        linked = sa.select(Cliente.id_usuario).where(Cliente.id_usuario.is_not(None))
        if self._obj is not None and getattr(self._obj, "id_cliente", None):
            linked = linked.where(Cliente.id_cliente != self._obj.id_cliente)
        rows = db.session.execute(
            sa.select(Usuario.id, Usuario.email)
            .where(Usuario.rol == "cliente", Usuario.id.not_in(linked))
            .order_by(Usuario.email)
        ).all()
        return [(i, e) for i, e in rows]

    # --- rules across fields -------------------------------------------------------------

    def ciudad(self, id_ciudad: int):
        """The Ciudad the rules check (an import's form answers from rows it loaded once)."""
        return db.session.get(Ciudad, id_ciudad)

    def pais(self, id_pais: int):
        """The Pais the rules check (its ``nombre`` and ``codigo_iso``)."""
        return db.session.get(Pais, id_pais)

    def validate_fecha_nacimiento(self, field) -> None:
        if field.data and field.data >= clock.today():
            raise ValidationError("La fecha de nacimiento debe estar en el pasado.")

    def validate_id_ciudad(self, field) -> None:
        if not isinstance(field.data, int) or not isinstance(self.id_pais.data, int):
            return
        ciudad = self.ciudad(field.data)
        if ciudad is not None and ciudad.id_pais != self.id_pais.data:
            raise ValidationError("La ciudad no pertenece al país elegido.")

    def validate_telefono(self, field) -> None:
        if not field.data:
            field.data = None
            return
        cleaned = PUNCTUATION.sub("", field.data)
        if not re.fullmatch(r"\+?\d+", cleaned):
            raise ValidationError("El teléfono solo puede tener dígitos (y un + inicial).")
        pais = self.pais(self.id_pais.data) if isinstance(self.id_pais.data, int) else None
        region = pais.codigo_iso if pais else "CO"
        if e164(cleaned, region) is None:
            raise ValidationError(f"Teléfono no válido para {pais.nombre if pais else 'el país'}.")
        field.data = cleaned

    def validate_cedula_cliente(self, field) -> None:
        """The type's rule (SPEC §16: identificacion.py), then unique per tenant on (tipo, número):
        the tenancy hook limits the lookup to the tenant being written for (a superadmin writes
        under ``tenancy.using(tenant)``)."""
        if not field.data or field.errors:  # not a valid number: nothing to look up
            return
        tipo = self.tipo_documento.data
        numero = identificacion.normalizado(tipo, field.data)
        problem = identificacion.problema(tipo, numero)
        if problem:  # the form shown again holds what was typed
            raise ValidationError(problem)
        field.data = numero
        if self.duplicate(tipo, numero):
            raise ValidationError(ya_existe(tipo))

    def duplicate(self, tipo: str, numero: str) -> bool:
        """Another client of the tenant holds this (tipo, número)."""
        query = sa.select(Cliente.id_cliente).where(
            Cliente.tipo_documento == tipo, Cliente.cedula_cliente == numero
        )
        if self._obj is not None and getattr(self._obj, "id_cliente", None):
            query = query.where(Cliente.id_cliente != self._obj.id_cliente)
        return db.session.scalar(query.limit(1)) is not None

    # Fields a crafted POST may not set are simply not in the form (id_propietario, creado…).
    WRITABLE = (
        "tipo_documento",
        "cedula_cliente",
        "nombre_cliente",
        "apellido_cliente",
        "fecha_nacimiento",
        "email",
        "genero",
        "telefono",
        "id_ciudad",
        "id_pais",
        "id_empresa",
        "id_campana",
        "id_usuario",
        "estado",
        "acepta_sms",
    )
