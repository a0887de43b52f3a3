"""Shared reference data: países, departamentos and ciudades (DIVIPOLA's municipios)."""

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import formatting
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


class Departamento(db.Model):
    """A departamento of DANE's DIVIPOLA (Bogotá D.C. counted as one)."""

    __tablename__ = "departamento"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    codigo_dane: Mapped[str] = mapped_column(String(2), unique=True)
    nombre: Mapped[str] = mapped_column(String(80))

    def __str__(self) -> str:
        return self.nombre


class Ciudad(db.Model):
    """A municipio of DIVIPOLA (with its DANE code and departamento) or a foreign city (neither)."""

    __tablename__ = "ciudad"
    __table_args__ = (
        # DIVIPOLA repeats names across departamentos (Rionegro, Providencia…), never within one.
        UniqueConstraint("id_departamento", "nombre", name="uq_ciudad_departamento_nombre"),
        # Target of Cliente's (id_ciudad, id_pais) key: the city must be in the country.
        UniqueConstraint("id", "id_pais", name="uq_ciudad_id_pais"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(80))
    id_pais: Mapped[int] = mapped_column(ForeignKey("pais.id", ondelete="RESTRICT"), index=True)
    codigo_dane: Mapped[str | None] = mapped_column(String(5), unique=True)
    id_departamento: Mapped[int | None] = mapped_column(
        ForeignKey("departamento.id", ondelete="RESTRICT"), index=True
    )
    # Another municipio has the same name: it is shown with its departamento. Kept by
    # municipios.mark_repeated() whenever names change, so a list page needs no extra query.
    nombre_repetido: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    pais: Mapped[Pais] = relationship()
    # Joined with every city loaded (the list's joined ciudad included): its name needs it.
    departamento: Mapped[Departamento | None] = relationship(lazy="joined")

    @property
    def etiqueta(self) -> str:
        return self.etiqueta_con(self.departamento.nombre if self.departamento else None)

    def etiqueta_con(self, departamento: str | None) -> str:
        """The label with the departamento's name given (a page that read the names already)."""
        return formatting.city(self.nombre, departamento, self.nombre_repetido)

    def __str__(self) -> str:
        return self.etiqueta
