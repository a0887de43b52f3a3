"""Imports of clients from a CSV or XLSX file: the uploaded file, the mapping, the progress.

The file itself is kept here between the preview and the confirmation, so that any worker (a
thread of any web process, or an RQ worker on another machine) can read it.
"""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, true
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from .base import TenantOwned, utcnow

# The order of a job's life; panel/importing/estado.py owns every move between them.
ESTADOS_IMPORTACION = (
    "recibido",
    "previsualizando",
    "previsualizada",
    "pendiente",
    "importando",
    "completado",
    "rechazado",
    "fallida",
)


class ImportacionClientes(TenantOwned, db.Model):
    __tablename__ = "importacion_clientes"
    __table_args__ = (
        CheckConstraint("estado IN (" + ", ".join(repr(e) for e in ESTADOS_IMPORTACION) + ")", name="estado"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_usuario: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"))
    archivo_nombre: Mapped[str] = mapped_column(String(255), default="")
    # Deferred: a list of imports or a progress poll never reads the file.
    archivo: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    mapeo: Mapped[dict | None] = mapped_column(JSON)  # {"0": "cedula_cliente", ...} by column index
    actualizar: Mapped[bool] = mapped_column(default=False)  # create and update by cédula
    todo_o_nada: Mapped[bool] = mapped_column(default=False)  # refuse the file on any error
    # SPEC §17: create the empresas it names that do not exist; the default municipio (NULL: Bogotá).
    crear_empresas: Mapped[bool] = mapped_column(default=True, server_default=true())
    id_ciudad_defecto: Mapped[int | None]
    estado: Mapped[str] = mapped_column(String(16), default="recibido")
    fase: Mapped[str] = mapped_column(String(12), default="vista")  # what a failed job retries
    latido: Mapped[datetime | None]  # the worker's heartbeat: set at each chunk
    intento: Mapped[str | None] = mapped_column(String(40))  # the attempt that owns the job
    vista_previa: Mapped[dict | None] = mapped_column(JSON)  # summary, sample rows, first errors
    total: Mapped[int] = mapped_column(default=0)
    procesadas: Mapped[int] = mapped_column(default=0)
    nuevos: Mapped[int] = mapped_column(default=0)
    actualizados: Mapped[int] = mapped_column(default=0)
    con_errores: Mapped[int] = mapped_column(default=0)
    advertencias: Mapped[int] = mapped_column(default=0)  # rows imported with warnings
    escritas: Mapped[int] = mapped_column(default=0)  # rows the run has committed: where a retry resumes
    rechazos: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # CSV with an error column
    # The rows the preview validated, kept for the run (panel/importing/validadas.py).
    validadas: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    mensaje: Mapped[str] = mapped_column(String(255), default="")
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    terminado: Mapped[datetime | None]
