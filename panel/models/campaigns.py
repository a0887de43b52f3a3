"""Empresas and advertising campaigns (campañas publicitarias), both tenant-owned."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import NEVER_REUSE_IDS, TenantOwned, utcnow


class Empresa(TenantOwned, db.Model):
    __tablename__ = "empresa"
    # Target of the (id_empresa, id_propietario) keys: links never cross tenants.
    __table_args__ = (
        UniqueConstraint("id", "id_propietario", name="uq_empresa_id_propietario"),
        # SPEC §16: a company once per tenant (NULL, a company without NIT, may repeat).
        UniqueConstraint("id_propietario", "nit", name="uq_empresa_nit_por_propietario"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(120))  # the razón social
    # Compact, with its verification digit (panel/identificacion.py): 9001234568, shown 900.123.456-8.
    nit: Mapped[str | None] = mapped_column(String(20))
    telefono: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(120))
    creado: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.nombre


class CampanaPublicitaria(TenantOwned, db.Model):
    __tablename__ = "campana_publicitaria"
    __table_args__ = (
        UniqueConstraint("id", "id_propietario", name="uq_campana_publicitaria_id_propietario"),
        CheckConstraint(
            "fecha_fin IS NULL OR fecha_inicio IS NULL OR fecha_fin >= fecha_inicio",
            name="fechas",
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(120))
    descripcion: Mapped[str | None] = mapped_column(Text)
    fecha_inicio: Mapped[date | None]
    fecha_fin: Mapped[date | None]
    activa: Mapped[bool] = mapped_column(default=True)
    creado: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.nombre
