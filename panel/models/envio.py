"""Lawful sending (Ley 2300 de 2023, Ley 1581 de 2012): each tenant's sending settings, its own
exclusion list, and the consent history of its clients' ``acepta_sms``."""

from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import TenantOwned, utcnow

# GSM-7 on purpose: one accented letter would turn every message into UCS-2 and double its cost.
TEXTO_BAJA = " Responde SALIR para darte de baja."
TOPES = ("dia", "semana")
# How a consent or an exclusion came to be (the evidence's ``fuente``, shown as written).
FUENTE_FORMULARIO = "formulario"
FUENTE_IMPORTACION = "importación"
FUENTE_API = "API"
FUENTE_RESPUESTA_SMS = "respuesta SMS"
FUENTE_TWILIO_21610 = "Twilio (error 21610)"  # Twilio refused a send: the number opted out there
FUENTE_A_MANO = "a mano"  # an admin in Configuración → Exclusiones
FUENTE_SISTEMA = "sistema"
FUENTES = (
    FUENTE_FORMULARIO,
    FUENTE_IMPORTACION,
    FUENTE_API,
    FUENTE_RESPUESTA_SMS,
    FUENTE_TWILIO_21610,
    FUENTE_A_MANO,
    FUENTE_SISTEMA,
)


class ConfiguracionEnvio(TenantOwned, db.Model):
    """A tenant's narrowing of the legal contact window, its cap, and its opt-out text."""

    __tablename__ = "configuracion_envio"
    __table_args__ = (
        UniqueConstraint("id_propietario", name="uq_configuracion_envio_propietario"),
        CheckConstraint("tope IN ('dia', 'semana')", name="tope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A new row starts from the law's window: panel/sms/reglas.py fills what it is not given
    # (reglas.DEFAULTS, from sms/ventana.py's LEGAL, the one home of the legal hours).
    semana_inicio: Mapped[time]
    semana_fin: Mapped[time]
    sabado_activo: Mapped[bool]
    sabado_inicio: Mapped[time]
    sabado_fin: Mapped[time]
    tope: Mapped[str] = mapped_column(String(10))
    texto_baja: Mapped[str] = mapped_column(String(160))
    # The tenant's own Twilio account (SPEC §20); all empty: it sends through the platform's.
    # The token only encrypted (panel/secretos.py); one sender: a From number or a Messaging Service.
    twilio_account_sid: Mapped[str | None] = mapped_column(String(34))
    twilio_token_cifrado: Mapped[str | None] = mapped_column(Text)
    twilio_from_number: Mapped[str | None] = mapped_column(String(16))
    twilio_messaging_service_sid: Mapped[str | None] = mapped_column(String(34))
    actualizado: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NumeroExcluidoPropio(TenantOwned, db.Model):
    """A number this tenant must not send SMS to: a withdrawal of consent (its ``fuente``, as
    the evidence's), or added by hand in Configuración → Exclusiones (``motivo``: the admin's note)."""

    __tablename__ = "exclusion_propia"
    __table_args__ = (UniqueConstraint("id_propietario", "numero", name="uq_exclusion_propia_numero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    numero: Mapped[str] = mapped_column(String(16))
    motivo: Mapped[str] = mapped_column(String(120), default="")
    fuente: Mapped[str] = mapped_column(String(20), default=FUENTE_SISTEMA, server_default=FUENTE_SISTEMA)
    creado: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentimientoSMS(TenantOwned, db.Model):
    """One change of a client's ``acepta_sms``: when, how and who (Habeas Data evidence)."""

    __tablename__ = "consentimiento_sms"
    __table_args__ = (Index("ix_consentimiento_sms_cliente", "id_cliente", "fecha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Part of the client's own record: it goes when the client is deleted (Historial keeps that).
    id_cliente: Mapped[int] = mapped_column(ForeignKey("cliente.id_cliente", ondelete="CASCADE"))
    acepta: Mapped[bool]
    fuente: Mapped[str] = mapped_column(String(20))
    id_usuario: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"))
    fecha: Mapped[datetime] = mapped_column(default=utcnow)
