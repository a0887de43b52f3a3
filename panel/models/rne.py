"""The Registro de Números Excluidos of the CRC (Ley 2300 de 2023, art. 5): shared reference data.

A new list is loaded beside the one in force and then swapped in (``activa``) in one short
transaction, so senders that look numbers up are never blocked by a long write.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class ListaExcluidos(db.Model):
    """One loaded file of the registry; exactly one is ``activa`` once a list has been loaded."""

    __tablename__ = "rne_lista"
    __table_args__ = (Index("ix_rne_lista_activa", "activa"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    archivo: Mapped[str] = mapped_column(String(255), default="")
    total: Mapped[int] = mapped_column(default=0)
    invalidas: Mapped[int] = mapped_column(default=0)
    activa: Mapped[bool] = mapped_column(default=False)
    cargada: Mapped[datetime] = mapped_column(default=utcnow)
    id_usuario: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"))


class NumeroExcluido(db.Model):
    """A number of a list, in E.164; the primary key (list, number) serves every lookup."""

    __tablename__ = "rne_numero"

    id_lista: Mapped[int] = mapped_column(ForeignKey("rne_lista.id", ondelete="RESTRICT"), primary_key=True)
    numero: Mapped[str] = mapped_column(String(16), primary_key=True)
