"""Idempotency keys: what the first request with a key answered, so a repeat gets the same."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class ClaveIdempotencia(db.Model):
    """One key of one user: in progress while the first request runs, then its answer.

    Scoped to the user (and so the tenant); not under row level security on purpose: every
    lookup is by (id_usuario, clave), and a replay re-reads the resource through the tenancy
    hook (see docs/decisions.md)."""

    __tablename__ = "clave_idempotencia"
    __table_args__ = (
        UniqueConstraint("id_usuario", "clave", name="uq_clave_idempotencia_usuario_clave"),
        CheckConstraint("estado IN ('en_curso', 'hecha')", name="estado"),
        Index("ix_clave_idempotencia_creado", "creado"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_usuario: Mapped[int] = mapped_column(ForeignKey("usuario.id", ondelete="CASCADE"))
    clave: Mapped[str] = mapped_column(String(255))
    huella: Mapped[str] = mapped_column(String(64))  # SHA-256 of the endpoint and the JSON body
    estado: Mapped[str] = mapped_column(String(10), default="en_curso")
    codigo: Mapped[int | None]  # the HTTP status answered
    cuerpo: Mapped[dict | None] = mapped_column(JSON)
    recurso_id: Mapped[int | None]  # the campaign or client created, re-read on a replay
    creado: Mapped[datetime] = mapped_column(default=utcnow)
