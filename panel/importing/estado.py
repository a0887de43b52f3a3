"""An import job's life and its tally, in one place.

Every change of ``ImportacionClientes.estado`` — with its phase, heartbeat, attempt and counts —
is a function here, and every row is counted by ``count``; the service, the background runner,
the CLI and the import page call these and set none of it themselves.

    recibido → previsualizando → previsualizada → pendiente → importando → completado | rechazado
       ↑ (mapping corrected)          │                                  │
       └──────────────────────────────┘         fallida ← (worker died, or an unexpected error)
    fallida → "Reintentar" → recibido (the preview again) or pendiente (the import, resumed)

The moves that hand a job to a worker are conditional UPDATEs (of two workers given one job, one
runs it), and each gives the job a new attempt token. A worker writes its progress only while its
token is still the job's: a worker taken for dead whose job was retried cannot write after that.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .. import tenancy
from ..clock import utcnow
from ..extensions import db
from ..models import ImportacionClientes

TABLE = ImportacionClientes.__table__

RECIBIDO, PREVISUALIZANDO, PREVISUALIZADA = "recibido", "previsualizando", "previsualizada"
PENDIENTE, IMPORTANDO = "pendiente", "importando"
COMPLETADO, RECHAZADO, FALLIDA = "completado", "rechazado", "fallida"
VISTA, IMPORTACION = "vista", "importacion"  # the phase: what a failed job retries

EN_COLA = (RECIBIDO, PENDIENTE)  # handed to a worker that has not started it yet
TRABAJANDO = (PREVISUALIZANDO, IMPORTANDO)  # a worker is on it: its heartbeat says so
EN_CURSO = EN_COLA + TRABAJANDO
TERMINADOS = (COMPLETADO, RECHAZADO, FALLIDA)
ETIQUETAS = {
    RECIBIDO: "Vista previa en cola",
    PREVISUALIZANDO: "Calculando la vista previa",
    PREVISUALIZADA: "Vista previa",
    PENDIENTE: "En cola",
    IMPORTANDO: "Importando",
    COMPLETADO: "Completada",
    RECHAZADO: "Rechazada",
    FALLIDA: "Fallida",
}
SE_DETUVO = "Se detuvo el proceso que la atendía. Puede reintentarla: ninguna fila se guardará dos veces."
ERROR_INESPERADO = "Se interrumpió por un error inesperado. Puede reintentarla."


class Abandonada(Exception):
    """The job is no longer this worker's (taken for dead and retried, or ended): stop here."""


@dataclass
class Resumen:
    """The tally of a pass over the file: what the preview found or the run did."""

    total: int = 0  # rows read
    nuevos: int = 0
    actualizados: int = 0
    con_errores: int = 0
    advertencias: int = 0  # rows that import with warnings (they are also new or updated)

    def linea(self) -> str:
        return f"nuevos {self.nuevos}, actualizados {self.actualizados}, con errores {self.con_errores}"

    def unwritten(self) -> "Resumen":
        """The tally of a refused file: the rows read and those with errors; nothing written."""
        return Resumen(total=self.total, con_errores=self.con_errores)

    @classmethod
    def stored(cls, job: ImportacionClientes) -> "Resumen":
        """The counts a job's last checkpoint committed (where a retried import resumes)."""
        return cls(job.procesadas, job.nuevos, job.actualizados, job.con_errores, job.advertencias)


def count(resumen: Resumen, fila) -> None:
    """The one count of a row: with errors (not saved), else new or an update, and warned."""
    resumen.total += 1
    if fila.errores:
        resumen.con_errores += 1
        return
    if fila.id_cliente is None:
        resumen.nuevos += 1
    else:
        resumen.actualizados += 1
    if fila.avisos:  # a row with warnings imports (SPEC §17)
        resumen.advertencias += 1


def _token() -> str:
    return secrets.token_hex(8)


def _counts(resumen: Resumen) -> dict:
    return {
        "procesadas": resumen.total,
        "nuevos": resumen.nuevos,
        "actualizados": resumen.actualizados,
        "con_errores": resumen.con_errores,
        "advertencias": resumen.advertencias,
    }


# --- moves that hand the job to a worker: atomic, each with a new attempt ---------------------


def received(job: ImportacionClientes) -> None:
    """A job being created: its preview is queued (the caller adds and commits it)."""
    job.estado, job.fase, job.intento, job.latido = RECIBIDO, VISTA, _token(), utcnow()


def pending(job: ImportacionClientes) -> None:
    """A job being created already confirmed (the CLI validated the file itself)."""
    job.estado, job.fase, job.intento, job.latido = PENDIENTE, IMPORTACION, _token(), utcnow()


def _move(job_id: int, desde: tuple[str, ...], values: dict, keep: str | None = None, **where) -> str | None:
    """UPDATE the job from one of ``desde``, under a new attempt (or the attempt ``keep``); the
    attempt, or None if it was not in one of them (a second click, another worker)."""
    token = keep or _token()
    conditions = [TABLE.c.id == job_id, TABLE.c.estado.in_(desde)]
    conditions += [TABLE.c[k] == v for k, v in where.items()]
    with tenancy.using(tenancy.EVERY_TENANT):
        stmt = TABLE.update().where(*conditions).values(intento=token, latido=utcnow(), **values)
        moved = db.session.execute(stmt).rowcount
        db.session.commit()
    return token if moved == 1 else None


def queue_preview(job_id: int) -> str | None:
    """The preview again (a corrected mapping or mode): previsualizada → recibido."""
    return _move(job_id, (PREVISUALIZADA,), {"estado": RECIBIDO, "fase": VISTA, "procesadas": 0})


def confirm(job_id: int) -> str | None:
    """ "Importar": previsualizada → pendiente; None on a second click (it already runs)."""
    values = {"estado": PENDIENTE, "fase": IMPORTACION, "escritas": 0, "mensaje": ""}
    return _move(job_id, (PREVISUALIZADA,), values | _counts(Resumen()))


def retry(job_id: int) -> tuple[str, str] | None:
    """ "Reintentar" a failed job: its phase again, (fase, attempt); an import resumes after the
    rows its last checkpoint committed, so none is written twice."""
    with tenancy.using(tenancy.EVERY_TENANT):
        fase = db.session.scalar(sa.select(TABLE.c.fase).where(TABLE.c.id == job_id))
    estado = RECIBIDO if fase == VISTA else PENDIENTE
    token = _move(job_id, (FALLIDA,), {"estado": estado, "mensaje": "", "terminado": None}, fase=fase)
    return None if token is None else (fase, token)


def claim(job_id: int, intento: str | None = None) -> str | None:
    """A worker takes a queued job (recibido → previsualizando, pendiente → importando) under the
    attempt it was handed (None: the job's current one); None when that attempt is not queued."""
    if intento is None:
        with tenancy.using(tenancy.EVERY_TENANT):
            intento = db.session.scalar(sa.select(TABLE.c.intento).where(TABLE.c.id == job_id))
    for desde, hacia in ((RECIBIDO, PREVISUALIZANDO), (PENDIENTE, IMPORTANDO)):
        values = {"estado": hacia} | ({"fase": IMPORTACION} if hacia == IMPORTANDO else {})
        if _move(job_id, (desde,), values, keep=intento, intento=intento):
            return intento
    return None


def restart_preview(job_id: int) -> str | None:
    """A preview computed again in the caller (tests, the benchmark): from wherever it stood
    before confirmation."""
    return _move(
        job_id, (RECIBIDO, PREVISUALIZADA, PREVISUALIZANDO), {"estado": PREVISUALIZANDO, "fase": VISTA}
    )


# --- a worker's writes: only while the job is still its attempt's ------------------------------


def _mine(job: ImportacionClientes, intento: str) -> list:
    return [TABLE.c.id == job.id, TABLE.c.intento == intento, TABLE.c.estado.in_(TRABAJANDO)]


def _write(job: ImportacionClientes, intento: str, values: dict) -> None:
    """UPDATE the job in the session's transaction (with the rows of the chunk, when there are)."""
    done = db.session.execute(TABLE.update().where(*_mine(job, intento)).values(**values)).rowcount
    if done != 1:
        db.session.rollback()
        raise Abandonada(job.id)


def beat(job: ImportacionClientes, intento: str, resumen: Resumen, **extra) -> None:
    """The progress of a chunk and the heartbeat, in the chunk's transaction (the caller commits):
    the rows written and the counts that say so are committed together."""
    _write(job, intento, _counts(resumen) | {"latido": utcnow()} | extra)


def previewed(job, intento: str, vista: dict, resumen: Resumen, rechazos: bytes | None, **extra) -> None:
    """The preview is ready: previsualizando → previsualizada, with its summary."""
    values = (
        _counts(Resumen())
        | extra
        | {
            "estado": PREVISUALIZADA,
            "vista_previa": vista,
            "total": resumen.total,
            "con_errores": resumen.con_errores,
            "rechazos": rechazos,
            "latido": utcnow(),
        }
    )
    _write(job, intento, values)
    db.session.commit()
    db.session.expire(job)


def finish(job, intento: str, resumen: Resumen, estado: str, mensaje: str, **extra) -> None:
    """The run's end (completado, or rechazado: refused, or a file that stops being readable), in
    the session's transaction: the caller adds its Historial entry and commits."""
    values = _counts(resumen) | extra | {"estado": estado, "mensaje": mensaje[:255], "terminado": utcnow()}
    _write(job, intento, values | {"total": max(job.total or 0, resumen.total)})


def fail(job_id: int, mensaje: str, intento: str | None = None) -> bool:
    """The job ends as fallida (its worker died or raised): "Reintentar" is offered."""
    where = {} if intento is None else {"intento": intento}
    values = {"estado": FALLIDA, "mensaje": mensaje[:255], "terminado": utcnow()}
    return _move(job_id, EN_CURSO, values, **where) is not None


# --- reading a job -----------------------------------------------------------------------------


def silent_since(job: ImportacionClientes, now: datetime, seconds: float) -> bool:
    """Whether the job's worker has not been heard of for ``seconds`` (its heartbeat stopped)."""
    return job.latido is None or now - job.latido > timedelta(seconds=seconds)


def progress(job: ImportacionClientes) -> dict:
    """What the progress bar polls (and the page starts from)."""
    total = job.total or 0
    procesadas = job.procesadas or 0
    terminado = job.estado not in EN_CURSO
    conocido = job.fase == IMPORTACION and total > 0  # a preview does not know the rows ahead
    return {
        "estado": job.estado,
        "etiqueta": ETIQUETAS[job.estado],
        "fase": job.fase,
        "total": total if conocido else None,
        "procesadas": procesadas,
        "nuevos": job.nuevos,
        "actualizados": job.actualizados,
        "con_errores": job.con_errores,
        "advertencias": job.advertencias,
        "porcentaje": 100 if terminado else (min(int(100 * procesadas / total), 99) if conocido else 0),
        "terminado": terminado,
        "reintentar": job.estado == FALLIDA,
        "mensaje": job.mensaje,
    }
