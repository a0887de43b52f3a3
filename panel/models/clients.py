"""Clientes and what hangs from them: vehículos, movimientos de capital, ventas."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import identificacion, phones, text
from ..extensions import db
from ..formatting import LABELS
from .base import NEVER_REUSE_IDS, TenantOwned, utcnow
from .campaigns import CampanaPublicitaria, Empresa
from .geo import Ciudad, Pais
from .users import Usuario

ESTADOS_CLIENTE = LABELS["estado_cliente"]
GENEROS = LABELS["genero"]
TIPOS_DOCUMENTO = LABELS["tipo_documento"]


def _owned_by_same_tenant(column: str, target: str) -> ForeignKeyConstraint:
    """A key (column, id_propietario) → target(id, id_propietario): never crosses tenants."""
    table, pk = target.split(".")
    return ForeignKeyConstraint(
        [column, "id_propietario"],
        [f"{table}.{pk}", f"{table}.id_propietario"],
        ondelete="RESTRICT",
    )


class Cliente(TenantOwned, db.Model):
    __tablename__ = "cliente"
    __table_args__ = (
        # SPEC §16: one client per (tipo, número) in a tenant; the same number under two types is
        # two documents (a CC and a NIT of one person).
        UniqueConstraint(
            "id_propietario", "tipo_documento", "cedula_cliente", name="uq_cliente_documento_por_propietario"
        ),
        UniqueConstraint("id_cliente", "id_propietario", name="uq_cliente_id_propietario"),
        CheckConstraint("estado IN (0, 1, 3)", name="estado"),
        CheckConstraint("genero IS NULL OR genero IN (0, 1)", name="genero"),
        CheckConstraint(
            "tipo_documento IN (" + ", ".join(f"'{t}'" for t in TIPOS_DOCUMENTO) + ")", name="tipo_documento"
        ),
        _owned_by_same_tenant("id_empresa", "empresa.id"),
        _owned_by_same_tenant("id_campana", "campana_publicitaria.id"),
        ForeignKeyConstraint(
            ["id_ciudad", "id_pais"],
            ["ciudad.id", "ciudad.id_pais"],
            ondelete="RESTRICT",
        ),
        # Every filter of the list, combined with the tenant column that always comes first.
        Index("ix_cliente_propietario_estado", "id_propietario", "estado"),
        Index("ix_cliente_propietario_empresa", "id_propietario", "id_empresa"),
        Index("ix_cliente_propietario_campana", "id_propietario", "id_campana"),
        Index("ix_cliente_propietario_ciudad", "id_propietario", "id_ciudad"),
        Index("ix_cliente_propietario_pais", "id_propietario", "id_pais"),
        Index("ix_cliente_propietario_creado", "id_propietario", "creado"),
        # A tenant's list in id order (its deep pages), migration 0017.
        Index("ix_cliente_propietario_id", "id_propietario", "id_cliente"),
        Index("ix_cliente_estado", "estado"),
        Index("ix_cliente_ciudad", "id_ciudad"),
        Index("ix_cliente_pais", "id_pais"),
        Index("ix_cliente_empresa", "id_empresa"),
        Index("ix_cliente_campana", "id_campana"),
        Index("ix_cliente_telefono", "telefono"),
        Index("ix_cliente_propietario_telefono_e164", "id_propietario", "telefono_e164"),
        Index("ix_cliente_email", "email"),
        NEVER_REUSE_IDS,
    )

    id_cliente: Mapped[int] = mapped_column(primary_key=True)
    id_usuario: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), unique=True)
    tipo_documento: Mapped[str] = mapped_column(String(3), default="CC", server_default="CC")
    # The number in its compact form (panel/identificacion.py): a NIT with its digit, a passport's
    # letters upper case; the seed's name is kept (the API's field).
    cedula_cliente: Mapped[str] = mapped_column(String(20))
    nombre_cliente: Mapped[str] = mapped_column(String(20))
    apellido_cliente: Mapped[str | None] = mapped_column(String(20))
    fecha_nacimiento: Mapped[date | None]
    email: Mapped[str | None] = mapped_column(String(40))
    genero: Mapped[int | None]
    telefono: Mapped[str | None] = mapped_column(String(20))
    # Derived, never typed: its E.164 form for the country, NULL when invalid (panel/phones.py).
    telefono_e164: Mapped[str | None] = mapped_column(String(16))
    # Derived, never typed: what the search box looks in, folded (panel/text.py, panel/search.py).
    busqueda: Mapped[str | None] = mapped_column(String(200))
    id_ciudad: Mapped[int] = mapped_column(default=1)
    id_pais: Mapped[int] = mapped_column(ForeignKey("pais.id", ondelete="RESTRICT"), default=1)
    id_empresa: Mapped[int | None] = mapped_column()
    id_campana: Mapped[int | None] = mapped_column()
    estado: Mapped[int] = mapped_column(default=1)
    acepta_sms: Mapped[bool] = mapped_column(default=True)
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    actualizado: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    usuario: Mapped[Usuario | None] = relationship(foreign_keys=[id_usuario])
    ciudad: Mapped[Ciudad] = relationship(
        primaryjoin="Ciudad.id == Cliente.id_ciudad", foreign_keys=[id_ciudad]
    )
    pais: Mapped[Pais] = relationship(foreign_keys=[id_pais])
    empresa: Mapped[Empresa | None] = relationship(
        primaryjoin="Empresa.id == Cliente.id_empresa", foreign_keys=[id_empresa]
    )
    campana: Mapped[CampanaPublicitaria | None] = relationship(
        primaryjoin="CampanaPublicitaria.id == Cliente.id_campana", foreign_keys=[id_campana]
    )

    @property
    def nombre_completo(self) -> str:
        return " ".join(p for p in (self.nombre_cliente, self.apellido_cliente) if p)

    @property
    def documento(self) -> str:
        """The number as people read it (a NIT ``900.123.456-8``), its type named unless a cédula:
        '1020304', 'PA AB123456', 'NIT 900.123.456-8'."""
        numero = identificacion.mostrado(self.tipo_documento, self.cedula_cliente)
        if self.tipo_documento in (None, identificacion.POR_DEFECTO):
            return numero
        return f"{self.tipo_documento} {numero}"

    def __str__(self) -> str:
        return f"{self.nombre_completo} ({self.cedula_cliente})"


def search_document(c) -> str:
    """The folded text the search looks in: the document (as stored and as shown: a NIT's
    ``900.123.456-8``), names, e-mail, and the phone as typed, as its digits and as its E.164
    digits, so any form of either number finds the client."""
    phone = [c.telefono, text.digits(c.telefono), text.digits(c.telefono_e164)]
    # getattr: migration 0010 derives the text of rows from before the column existed.
    tipo = getattr(c, "tipo_documento", None)
    documento = [c.cedula_cliente, *identificacion.formas_de_busqueda(tipo, c.cedula_cliente)]
    parts = [*documento, c.nombre_cliente, c.apellido_cliente, c.email, *phone]
    return text.fold(" ".join(p for p in parts if p))[:200]


def _derive_busqueda(mapper, connection, target) -> None:
    target.busqueda = search_document(target)


phones.track(Cliente)  # first: the document reads the E.164 form it derives
event.listen(Cliente, "before_insert", _derive_busqueda)
event.listen(Cliente, "before_update", _derive_busqueda)


class _OfCliente(TenantOwned):
    """A row that belongs to a client; its tenant is the client's, enforced by the key."""

    @classmethod
    def cliente_key(cls) -> ForeignKeyConstraint:
        return _owned_by_same_tenant("id_cliente", "cliente.id_cliente")


class Vehiculo(_OfCliente, db.Model):
    __tablename__ = "vehiculo"
    __table_args__ = (
        _OfCliente.cliente_key(),
        CheckConstraint("anio IS NULL OR anio BETWEEN 1900 AND 2100", name="anio"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_cliente: Mapped[int] = mapped_column(index=True)
    placa: Mapped[str] = mapped_column(String(10), unique=True)
    marca: Mapped[str | None] = mapped_column(String(40))
    modelo: Mapped[str | None] = mapped_column(String(40))
    anio: Mapped[int | None]

    cliente: Mapped[Cliente] = relationship(
        primaryjoin="Cliente.id_cliente == Vehiculo.id_cliente", foreign_keys=[id_cliente]
    )

    def __str__(self) -> str:
        return self.placa


class MovimientoCapital(_OfCliente, db.Model):
    __tablename__ = "movimiento_capital"
    __table_args__ = (
        _OfCliente.cliente_key(),
        _owned_by_same_tenant("id_campana", "campana_publicitaria.id"),
        CheckConstraint("tipo IN ('ingreso', 'egreso')", name="tipo"),
        CheckConstraint("monto > 0", name="monto_positivo"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_cliente: Mapped[int] = mapped_column(index=True)
    id_campana: Mapped[int | None] = mapped_column(index=True)
    tipo: Mapped[str] = mapped_column(String(10))
    monto: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    descripcion: Mapped[str | None] = mapped_column(Text)
    fecha: Mapped[datetime] = mapped_column(default=utcnow)

    cliente: Mapped[Cliente] = relationship(
        primaryjoin="Cliente.id_cliente == MovimientoCapital.id_cliente", foreign_keys=[id_cliente]
    )
    campana: Mapped[CampanaPublicitaria | None] = relationship(
        primaryjoin="CampanaPublicitaria.id == MovimientoCapital.id_campana",
        foreign_keys=[id_campana],
    )

    @property
    def importe_con_signo(self) -> Decimal:
        return self.monto if self.tipo == "ingreso" else -self.monto


class Venta(_OfCliente, db.Model):
    __tablename__ = "venta"
    __table_args__ = (
        _OfCliente.cliente_key(),
        CheckConstraint("total >= 0", name="total"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_cliente: Mapped[int] = mapped_column(index=True)
    id_vendedor: Mapped[int] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True)
    fecha: Mapped[datetime] = mapped_column(default=utcnow)
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    descripcion: Mapped[str | None] = mapped_column(Text)

    cliente: Mapped[Cliente] = relationship(
        primaryjoin="Cliente.id_cliente == Venta.id_cliente", foreign_keys=[id_cliente]
    )
    vendedor: Mapped[Usuario] = relationship(foreign_keys=[id_vendedor])
