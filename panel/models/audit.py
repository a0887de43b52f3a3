"""Historial: who did what, when, to how many rows, with which filters."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TenantScoped, utcnow
from .users import Usuario

ACCIONES = ("crear", "editar", "eliminar", "accion", "exportar", "sms", "login")


class Historial(TenantScoped, db.Model):
    __tablename__ = "historial"
    __table_args__ = (
        CheckConstraint("accion IN (" + ", ".join(repr(a) for a in ACCIONES) + ")", name="accion"),
        Index("ix_historial_propietario_creado", "id_propietario", "creado"),
        # One record's history (the "Historial" button of every record's pages).
        Index("ix_historial_modelo_objeto", "modelo", "objeto_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creado: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    id_usuario: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True)
    # The tenant whose data was touched; NULL for actions outside any tenant (superadmin on países…).
    id_propietario: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"))
    accion: Mapped[str] = mapped_column(String(10))
    modelo: Mapped[str] = mapped_column(String(60))
    objeto_id: Mapped[str | None] = mapped_column(String(64))
    filas: Mapped[int] = mapped_column(default=1)
    resumen: Mapped[str] = mapped_column(String(255), default="")
    detalle: Mapped[dict | None] = mapped_column(JSON)

    usuario: Mapped[Usuario | None] = relationship(foreign_keys=[id_usuario])
