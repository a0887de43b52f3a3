"""Shared reference data: países and ciudades."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import NEVER_REUSE_IDS


class Pais(db.Model):
    __tablename__ = "pais"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(60), unique=True)
    codigo_iso: Mapped[str] = mapped_column(String(2), unique=True)

    def __str__(self) -> str:
        return self.nombre


class Ciudad(db.Model):
    __tablename__ = "ciudad"
    __table_args__ = (
        UniqueConstraint("id_pais", "nombre", name="uq_ciudad_pais_nombre"),
        # Target of Cliente's (id_ciudad, id_pais) key: the city must be in the country.
        UniqueConstraint("id", "id_pais", name="uq_ciudad_id_pais"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(80))
    id_pais: Mapped[int] = mapped_column(ForeignKey("pais.id", ondelete="RESTRICT"), index=True)

    pais: Mapped[Pais] = relationship()

    def __str__(self) -> str:
        return self.nombre
