"""EnviarSMSForm: the one validation of "send this SMS campaign", for the panel page and the API.

The template choice list is loaded through the ORM, so the tenancy hook limits it to the tenant
the campaign is written for (a superadmin sends under ``tenancy.using(tenant)``).
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from .. import clock
from ..extensions import db
from ..ids import coerce_optional_choice
from ..models import PlantillaSMS
from ..models.users import can_send_transactional
from ..sms.render import MAX_LENGTH, TemplateError, validate_template
from . import fechas
from .base import PanelForm
from .cliente_form import ChoiceField, strip

MAX_NOMBRE = 200  # CampanaSMS.nombre
MAX_DIAS_PROGRAMADA = 35  # SPEC §9: from now to 35 days ahead
# The picker has minute precision: the minute the user is in is still "now".
GRACIA_PROGRAMADA = timedelta(minutes=1)
ISO_INVALIDA = "Fecha y hora inválida: use AAAA-MM-DDTHH:MM (hora de Bogotá)."
TIPOS = [
    ("comercial", "Comercial: publicidad y promociones (horario legal, un SMS por cliente al día)"),
    ("transaccional", "Transaccional: información que el cliente pidió o confirma una operación"),
]


def parse_programar_para(text: str, *, iso_only: bool = True) -> datetime:
    """ISO 8601 (and every RFC 3339 date-time) to naive UTC, and in the panel also
    ``dd/mm/aaaa hh:mm``; a time without offset is Bogotá time (SPEC §9). ValueError if bad."""
    return fechas.as_utc(fechas.read_moment(text, iso_only=iso_only))


def active_templates() -> list[PlantillaSMS]:
    """The tenant's active templates, by name (the tenancy hook scopes the query)."""
    stmt = sa.select(PlantillaSMS).where(PlantillaSMS.activo.is_(True)).order_by(PlantillaSMS.nombre)
    return list(db.session.scalars(stmt))


class EnviarSMSForm(PanelForm):
    """A campaign's message: written, or taken from a template; and its name."""

    nombre = StringField(
        "Nombre de la campaña",
        filters=[strip],
        validators=[Optional(), Length(max=MAX_NOMBRE, message=f"Máximo {MAX_NOMBRE} caracteres.")],
    )
    id_plantilla = ChoiceField("Plantilla", coerce=coerce_optional_choice, validators=[Optional()])
    mensaje = TextAreaField(
        "Mensaje", validators=[Length(max=MAX_LENGTH, message=f"Máximo {MAX_LENGTH} caracteres.")]
    )
    programar_para = StringField(
        "Programar para",
        filters=[strip],
        validators=[Optional()],
        widget=fechas.FechaInput(fechas.PICKER_FECHA_HORA, "datetimepicker", "dd/mm/aaaa hh:mm"),
        description=(
            "Fecha y hora ISO 8601 (sin zona: hora de Bogotá), desde ahora hasta "
            f"{MAX_DIAS_PROGRAMADA} días. Vacío: enviar ya."
        ),
    )

    # Missing or empty: comercial, the lawful default (SPEC §10).
    tipo = SelectField(
        "Tipo de campaña", choices=TIPOS, default="comercial", filters=[lambda v: v or "comercial"]
    )

    # SPEC §20: every URL becomes the recipient's own short link, which counts the clicks.
    acortar_enlaces = BooleanField(
        "Acortar y medir enlaces",
        default=False,
        description="Cada enlace http(s) del mensaje se cambia, para cada destinatario, por un enlace "
        "corto propio que cuenta sus clics.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plantillas = active_templates()
        self.id_plantilla.choices = [(None, "— Escribir el mensaje —")] + [
            (p.id, p.nombre) for p in self.plantillas
        ]

    @property
    def plantilla(self) -> PlantillaSMS | None:
        """The chosen template (already one of the tenant's active ones once validated)."""
        return next((p for p in self.plantillas if p.id == self.id_plantilla.data), None)

    @property
    def texto(self) -> str:
        """What is sent: the message written, else the chosen template's."""
        written = self.mensaje.data or ""
        if written.strip() or self.plantilla is None:
            return written
        return self.plantilla.mensaje

    def validate_mensaje(self, field) -> None:
        """Unknown placeholders, stray braces, empty or too long text: refused before sending."""
        if not (field.data or "").strip() and self.plantilla is None:
            raise ValidationError("Escriba un mensaje o elija una plantilla.")
        try:
            validate_template(self.texto)
        except TemplateError as exc:
            raise ValidationError(str(exc)) from None

    @property
    def programada_para(self) -> datetime | None:
        """When to start, as naive UTC (once validated); None: now."""
        text = self.programar_para.data
        return parse_programar_para(text, iso_only=fechas.iso_only(self)) if text else None

    def validate_programar_para(self, field) -> None:
        """A real time, not in the past, at most 35 days ahead."""
        iso_only = fechas.iso_only(self)
        try:
            moment = parse_programar_para(field.data, iso_only=iso_only)
        except (TypeError, ValueError):
            raise ValidationError(ISO_INVALIDA if iso_only else fechas.ESCRIBA_FECHA_HORA) from None
        now = clock.utcnow()
        if moment < now - GRACIA_PROGRAMADA:
            raise ValidationError("La fecha programada ya pasó.")
        if moment > now + timedelta(days=MAX_DIAS_PROGRAMADA):
            raise ValidationError(f"Se puede programar hasta {MAX_DIAS_PROGRAMADA} días adelante.")

    def tipo_refused(self, user) -> bool:
        """A vendedor asking for a transactional campaign: the page and the API answer 403."""
        return self.tipo.data == "transaccional" and not can_send_transactional(user)
