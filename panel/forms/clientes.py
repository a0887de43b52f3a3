"""ClienteForm: the one source of validation for clients, used by the panel and the API.

Choice lists (empresa, campaña, usuario, ciudad, país) are loaded through the ORM, so the
tenancy hook limits them to the current user's tenant: a forged id is "not a valid choice".
"""

import re
from datetime import date

import sqlalchemy as sa
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from ..extensions import db
from ..ids import coerce_choice, coerce_optional_choice
from ..models import ESTADOS_CLIENTE, GENEROS, CampanaPublicitaria, Ciudad, Cliente, Empresa, Pais, Usuario
from ..phones import PUNCTUATION, e164
from .base import PanelForm

REQUIRED = "Este campo es obligatorio."
NOT_A_CHOICE = "No es una opción válida."


def cedula_digits(value):
    """'1.020.304' or '1 020 304' → '1020304': how cédulas are often written or pasted."""
    return re.sub(r"[.\s]", "", value) if isinstance(value, str) else value


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
        if self.data not in {value for value, _ in self.choices}:
            raise ValidationError(NOT_A_CHOICE)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = self.coerce(valuelist[0])


def _pairs(model) -> list[tuple[int, str]]:
    """(id, nombre) of a model through the ORM (tenant-scoped), as plain tuples: WTForms
    renders tuples, not SQLAlchemy Row objects."""
    rows = db.session.execute(sa.select(model.id, model.nombre).order_by(model.nombre))
    return [(i, n) for i, n in rows]


class ClienteForm(PanelForm):
    """Create or edit a client. ``obj`` (on edit) is the client being edited."""

    cedula_cliente = StringField(
        "Cédula",
        filters=[strip, cedula_digits],
        # No maxlength in the page: a browser would silently cut a pasted 11-digit cédula to 10.
        render_kw={"maxlength": False, "inputmode": "numeric"},
        validators=[
            DataRequired(REQUIRED),
            Length(max=10, message="La cédula tiene como máximo 10 dígitos."),
            Regexp(r"^\d+$", message="La cédula solo puede tener dígitos."),
        ],
    )
    nombre_cliente = StringField(
        "Nombres",
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(max=20, message="Máximo 20 caracteres.")],
    )
    apellido_cliente = StringField(
        "Apellidos", filters=[strip], validators=[Optional(), Length(max=20, message="Máximo 20 caracteres.")]
    )
    fecha_nacimiento = DateField(
        "Fecha de nacimiento",
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"placeholder": "AAAA-MM-DD"},
    )
    email = EmailField(
        "Correo electrónico",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=40, message="Máximo 40 caracteres."),
            Email(message="Correo electrónico no válido.", check_deliverability=False),
        ],
    )
    genero = ChoiceField(
        "Género", coerce=coerce_optional_choice, options=GENEROS, blank=True, validators=[Optional()]
    )
    telefono = StringField(
        "Teléfono",
        filters=[strip],
        validators=[Optional(), Length(max=20, message="Máximo 20 caracteres.")],
        render_kw={"placeholder": "3001234567 o +573001234567"},
    )
    id_pais = ChoiceField("País", coerce=coerce_choice, default=1)
    id_ciudad = ChoiceField("Ciudad", coerce=coerce_choice, default=1)
    id_empresa = ChoiceField("Empresa", coerce=coerce_optional_choice, validators=[Optional()])
    id_campana = ChoiceField("Campaña publicitaria", coerce=coerce_optional_choice, validators=[Optional()])
    id_usuario = ChoiceField(
        "Cuenta de usuario (cliente)", coerce=coerce_optional_choice, validators=[Optional()]
    )
    acepta_sms = BooleanField("Acepta SMS", default=True)
    estado = ChoiceField("Estado", coerce=coerce_choice, options=ESTADOS_CLIENTE, default=1)

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
        self.id_ciudad.choices = _pairs(Ciudad)
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

    def validate_fecha_nacimiento(self, field) -> None:
        if field.data and field.data >= date.today():
            raise ValidationError("La fecha de nacimiento debe estar en el pasado.")

    def validate_id_ciudad(self, field) -> None:
        if not isinstance(field.data, int) or not isinstance(self.id_pais.data, int):
            return
        ciudad = db.session.get(Ciudad, field.data)
        if ciudad is not None and ciudad.id_pais != self.id_pais.data:
            raise ValidationError("La ciudad no pertenece al país elegido.")

    def validate_telefono(self, field) -> None:
        if not field.data:
            field.data = None
            return
        cleaned = PUNCTUATION.sub("", field.data)
        if not re.fullmatch(r"\+?\d+", cleaned):
            raise ValidationError("El teléfono solo puede tener dígitos (y un + inicial).")
        pais = db.session.get(Pais, self.id_pais.data) if isinstance(self.id_pais.data, int) else None
        region = pais.codigo_iso if pais else "CO"
        if e164(cleaned, region) is None:
            raise ValidationError(f"Teléfono no válido para {pais.nombre if pais else 'el país'}.")
        field.data = cleaned

    def validate_cedula_cliente(self, field) -> None:
        """Unique per tenant: the tenancy hook limits the lookup to the tenant being written for
        (a superadmin writes under ``tenancy.using(tenant)``)."""
        if not field.data or field.errors:  # not a valid cédula: nothing to look up
            return
        query = sa.select(Cliente.id_cliente).where(Cliente.cedula_cliente == field.data)
        if self._obj is not None and getattr(self._obj, "id_cliente", None):
            query = query.where(Cliente.id_cliente != self._obj.id_cliente)
        if db.session.scalar(query.limit(1)) is not None:
            raise ValidationError("Ya existe un cliente con esta cédula.")

    # Fields a crafted POST may not set are simply not in the form (id_propietario, creado…).
    WRITABLE = (
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
