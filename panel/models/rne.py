"""The Registro de Números Excluidos of the CRC (Ley 2300 de 2023, art. 5): shared reference data.

A new list is loaded beside the one in force and then swapped in (``activa``) in one short
transaction, so senders that look numbers up are never blocked by a long write.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from .base import NEVER_REUSE_IDS, utcnow

ESTADOS_CARGA = ("pendiente", "cargando", "completada", "rechazada", "error")


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


class CargaExcluidos(db.Model):
    """One load of the registry, from upload (or the CLI) to result: its progress, its counts, and
    the lock that lets one load run at a time.

    ``en_curso`` is TRUE while the load runs and NULL once it ends; the unique constraint on it
    admits one TRUE row only (NULLs never clash, on SQLite and PostgreSQL alike), so of two
    loads started together the database refuses the second. ``latido`` is the running load's
    heartbeat: a load silent for longer than ``rne.STALE`` is taken for crashed and its lock goes
    to the next one (panel/sms/rne.py).
    """

    __tablename__ = "rne_carga"
    __table_args__ = (
        CheckConstraint("estado IN (" + ", ".join(repr(e) for e in ESTADOS_CARGA) + ")", name="estado"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    archivo_nombre: Mapped[str] = mapped_column(String(255), default="")
    # The panel's upload, kept until the load ends so that any worker can read it; deferred: a
    # progress poll never reads it.
    archivo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    confirmado: Mapped[bool] = mapped_column(default=False)  # the guard of empty or halved lists waived
    estado: Mapped[str] = mapped_column(String(12), default="pendiente")
    en_curso: Mapped[bool | None] = mapped_column(unique=True, default=True)
    latido: Mapped[datetime] = mapped_column(default=utcnow)
    total: Mapped[int] = mapped_column(default=0)  # distinct valid numbers in the file
    procesadas: Mapped[int] = mapped_column(default=0)  # of them, written so far
    invalidas: Mapped[int] = mapped_column(default=0)
    mensaje: Mapped[str] = mapped_column(String(255), default="")
    id_usuario: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"))
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    terminado: Mapped[datetime | None]
