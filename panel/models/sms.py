"""SMS templates, campaigns and the per-message log (the durable outbox)."""

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import NEVER_REUSE_IDS, TenantOwned, utcnow
from .clients import Cliente, _owned_by_same_tenant
from .users import Usuario

TIPOS_CAMPANA = ("comercial", "transaccional")  # SPEC §10
ESTADOS_CAMPANA = (
    "preparando",
    "programada",
    "pendiente",
    "procesando",
    "pausada",
    "completado",
    "cancelada",
    "error",
)
ESTADOS_LOG = ("pendiente", "enviando", "enviado", "fallido", "omitido", "cancelado")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _where(condition: str) -> dict:
    """A partial index's condition, on both engines."""
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


class PlantillaSMS(TenantOwned, db.Model):
    __tablename__ = "plantilla_sms"
    __table_args__ = (
        UniqueConstraint("id", "id_propietario", name="uq_plantilla_sms_id_propietario"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(100))
    mensaje: Mapped[str] = mapped_column(Text)
    activo: Mapped[bool] = mapped_column(default=True)
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    id_usuario: Mapped[int] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True)

    autor: Mapped[Usuario] = relationship(foreign_keys=[id_usuario])

    def __str__(self) -> str:
        return self.nombre


class CampanaSMS(TenantOwned, db.Model):
    __tablename__ = "campana_sms"
    __table_args__ = (
        UniqueConstraint("id", "id_propietario", name="uq_campana_sms_id_propietario"),
        CheckConstraint(_in("estado", ESTADOS_CAMPANA), name="estado"),
        CheckConstraint(_in("tipo", TIPOS_CAMPANA), name="tipo"),
        _owned_by_same_tenant("id_plantilla", "plantilla_sms.id"),
        Index("ix_campana_sms_propietario_creado", "id_propietario", "creado"),
        Index("ix_campana_sms_estado", "estado"),
        # The pollers' question: which scheduled campaigns are due.
        Index("ix_campana_sms_estado_programada_para", "estado", "programada_para"),
        Index("ix_campana_sms_estado_siguiente_envio", "estado", "siguiente_envio"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(200))
    mensaje: Mapped[str] = mapped_column(Text)
    id_plantilla: Mapped[int | None] = mapped_column()
    total_clientes: Mapped[int] = mapped_column(default=0)
    enviados_exitosos: Mapped[int] = mapped_column(default=0)
    enviados_fallidos: Mapped[int] = mapped_column(default=0)
    estado: Mapped[str] = mapped_column(String(12), default="pendiente")
    error_mensaje: Mapped[str | None] = mapped_column(Text)
    filtros: Mapped[dict | None] = mapped_column(JSON)
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    completado: Mapped[datetime | None]
    # When the user asked it to start (naive UTC); None: as soon as confirmed.
    programada_para: Mapped[datetime | None]
    # When a ``programada`` campaign starts or resumes: ``programada_para``, or the next opening
    # of the contact window (SPEC §10). The pollers wait for this one.
    siguiente_envio: Mapped[datetime | None]
    # comercial: the window, the cap, the RNE and the opt-out text apply; transaccional: only opt-outs.
    tipo: Mapped[str] = mapped_column(String(15), default="comercial", server_default="comercial")
    id_usuario: Mapped[int] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True)
    # "Enviar prueba": one message to the sender's own phone; kept out of figures and lists.
    prueba: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # "Acortar y medir enlaces" (SPEC §20): each recipient's URLs become its tracked short links
    # (panel/sms/enlaces.py); kept so a campaign's outbox written in the background does the same.
    acortar_enlaces: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # ``preparando`` (panel/sms/preparacion.py): the recipients frozen at confirmation (their ids,
    # compressed; None once the outbox is whole), the preparer's last checkpoint (it fences a
    # writer that lost the campaign to a resumer) and how many they are.
    preparacion: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    preparacion_latido: Mapped[datetime | None]
    preparacion_total: Mapped[int | None]  # how many recipients were frozen (the progress's total)
    # The Twilio Account SID it was sent through (the tenant's own or the platform's, SPEC §20):
    # set by the sender's pass (panel/sms/lifecycle.py: record_account).
    cuenta_twilio: Mapped[str | None] = mapped_column(String(34))

    plantilla: Mapped["PlantillaSMS | None"] = relationship(
        primaryjoin="PlantillaSMS.id == CampanaSMS.id_plantilla", foreign_keys=[id_plantilla]
    )
    usuario: Mapped[Usuario] = relationship(foreign_keys=[id_usuario])

    def __str__(self) -> str:
        return self.nombre


class SMSLog(TenantOwned, db.Model):
    __tablename__ = "sms_log"
    __table_args__ = (
        _owned_by_same_tenant("id_campana", "campana_sms.id"),
        _owned_by_same_tenant("id_cliente", "cliente.id_cliente"),
        # A client appears once per campaign: the outbox cannot hold a duplicate.
        UniqueConstraint("id_campana", "id_cliente", name="uq_sms_log_campana_cliente"),
        CheckConstraint(_in("estado", ESTADOS_LOG), name="estado"),
        Index("ix_sms_log_campana_estado", "id_campana", "estado"),
        Index("ix_sms_log_cliente", "id_cliente"),
        # Partial (0031): an outbox row is written without a SID or a departure time and gets
        # them when it leaves; indexing its NULLs cost two insertions per row of every outbox.
        Index("ix_sms_log_twilio_sid", "twilio_sid", **_where("twilio_sid IS NOT NULL")),
        Index("ix_sms_log_telefono", "telefono"),
        # The cap's question: what this tenant sent to this phone since a moment.
        Index(
            "ix_sms_log_tope", "id_propietario", "telefono", "enviado_en", **_where("enviado_en IS NOT NULL")
        ),
        # Only a test send's row goes to no client (the user's own phone).
        CheckConstraint("prueba OR id_cliente IS NOT NULL", name="cliente_o_prueba"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No key of its own to usuario (migration 0016): the composite key to campana_sms already
    # makes it an existing user's id, one trigger call per outbox row fewer. No index of its own
    # either (0017): no question asks for a tenant's rows alone (the cap's index starts with it).
    id_propietario: Mapped[int] = mapped_column(nullable=False)
    id_campana: Mapped[int] = mapped_column()
    id_cliente: Mapped[int | None] = mapped_column()
    # Copied from the campaign, so the database itself refuses a real row without a client.
    # Server default only: the outbox's set-based insert of real rows leaves it out.
    prueba: Mapped[bool] = mapped_column(server_default=sa.false())
    telefono: Mapped[str | None] = mapped_column(String(20))
    mensaje: Mapped[str] = mapped_column(Text)
    estado: Mapped[str] = mapped_column(String(10), default="pendiente")
    twilio_sid: Mapped[str | None] = mapped_column(String(100))
    error_codigo: Mapped[int | None]
    error_mensaje: Mapped[str | None] = mapped_column(Text)
    # Why an ``omitido`` row was skipped (the short reason; error_mensaje has the detail).
    motivo: Mapped[str | None] = mapped_column(String(200))
    estado_entrega: Mapped[str | None] = mapped_column(String(20))
    # What Twilio charged, from its status callback (Price, made positive; PriceUnit, ISO 4217):
    # the campaign's real cost (sms/resultados.py). None until Twilio says.
    precio: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 5))
    precio_unidad: Mapped[str | None] = mapped_column(String(3))
    segmentos: Mapped[int | None]
    codificacion: Mapped[str | None] = mapped_column(String(5))
    intentos: Mapped[int] = mapped_column(default=0)
    reclamado: Mapped[datetime | None]
    # When the row was handed to Twilio (its claim); the daily/weekly cap counts these.
    enviado_en: Mapped[datetime | None]
    # Set when the outcome at Twilio is unknown (crash or ambiguous error): never re-sent blindly.
    requiere_revision: Mapped[bool] = mapped_column(default=False)
    # A failure that guarantees Twilio created nothing (retries exhausted, bad credentials,
    # campaign aborted): "Reintentar fallidos" may send these again, and only these.
    reintentable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    actualizado: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    campana: Mapped[CampanaSMS] = relationship(
        primaryjoin="CampanaSMS.id == SMSLog.id_campana", foreign_keys=[id_campana]
    )
    cliente: Mapped["Cliente | None"] = relationship(
        primaryjoin="Cliente.id_cliente == SMSLog.id_cliente", foreign_keys=[id_cliente]
    )
