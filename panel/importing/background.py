"""Where an import's preview and its run happen: an RQ job on the queue IMPORT_QUEUE when
REDIS_URL is set (never the SMS queue: start its workers apart, see the README), else a thread of
the web process of its own (never the SMS sender's) — the one rule of panel/dispatcher.py.

And how a job whose worker died is told: its heartbeat (``latido``, written at each chunk) has
been silent for IMPORT_HEARTBEAT_SECONDS, or RQ says its job failed, stopped or is gone. Such a job
is moved to "fallida" (panel/importing/estado.py) and the page offers "Reintentar".
"""

import logging

from flask import Flask

from .. import dispatcher, tenancy
from ..clock import utcnow
from ..extensions import db
from ..models import ImportacionClientes
from . import estado, service

log = logging.getLogger(__name__)
RUN_IMPORT = "panel.jobs.run_import"  # enqueued by name: the worker imports panel.jobs
RUN_PREVIEW = "panel.jobs.run_import_preview"
WAITING = ("queued", "deferred", "scheduled")  # RQ has not handed the job to a worker yet
GONE = ("failed", "stopped", "canceled", "finished")  # a job that ended without ending ours


def job_id(importacion_id: int, intento: str) -> str:
    """The RQ job of one attempt (the page asks RQ about it by this id)."""
    return f"importacion-{importacion_id}-{intento}"


def dispatch(importacion_id: int, intento: str, app: Flask, fase: str = estado.IMPORTACION):
    """Hand one attempt of a job (its preview or its run) to a worker: the enqueued RQ job, or the
    started thread."""
    vista = fase == estado.VISTA
    return dispatcher.submit(
        app,
        queue_setting="IMPORT_QUEUE",
        job=RUN_PREVIEW if vista else RUN_IMPORT,
        run_in_app=preview_in_app if vista else run_in_app,
        args=(importacion_id, intento),
        timeout=app.config["IMPORT_JOB_TIMEOUT"],
        description=f"{'Vista previa' if vista else 'Importación'} de clientes {importacion_id}",
        thread_name=f"import-{importacion_id}",
        job_id=job_id(importacion_id, intento),
    )


def preview(importacion_id: int, intento: str, app: Flask):
    return dispatch(importacion_id, intento, app, estado.VISTA)


def run_in_app(app: Flask, importacion_id: int, intento: str | None = None):
    """Run one import in an app context; an unexpected error ends it as "fallida", said on its page."""
    return _in_app(app, importacion_id, lambda: service.run(importacion_id, intento))


def preview_in_app(app: Flask, importacion_id: int, intento: str | None = None):
    """Compute one preview in an app context (claimed first: of two workers given it, one runs it)."""

    def work():
        token = estado.claim(importacion_id, intento)
        if token is None:
            return None
        with tenancy.using(tenancy.EVERY_TENANT):
            job = db.session.get(ImportacionClientes, importacion_id)
        return service.preview(job, token)

    return _in_app(app, importacion_id, work)


def _in_app(app: Flask, importacion_id: int, work):
    with app.app_context():
        try:
            return work()
        except estado.Abandonada:  # taken for dead and retried meanwhile: the retry owns it now
            log.warning("Importación de clientes %s: este intento ya no es el vigente", importacion_id)
            db.session.rollback()
            return None
        except Exception:
            log.exception("Importación de clientes %s interrumpida", importacion_id)
            db.session.rollback()
            estado.fail(importacion_id, estado.ERROR_INESPERADO)
            return None
        finally:
            db.session.remove()


# --- a dead worker ---------------------------------------------------------------------------


def check(job: ImportacionClientes, app: Flask) -> ImportacionClientes:
    """The job as it stands, a job whose worker died moved to "fallida" first (read by the page
    and its progress poll, so a dead worker is found by the first look after it)."""
    if job.estado in estado.EN_CURSO and _dead(job, app):
        if estado.fail(job.id, estado.SE_DETUVO, intento=job.intento):
            log.warning("Importación de clientes %s: su proceso se detuvo; queda fallida", job.id)
        db.session.refresh(job)
    return job


def _dead(job: ImportacionClientes, app: Flask) -> bool:
    latido = job.latido
    if dispatcher.uses_rq(app):
        from redis.exceptions import RedisError

        try:
            status, started = _rq_status(job, app)
        except RedisError:  # Redis cannot say: judge nothing (the page still answers)
            log.warning("Importación de clientes %s: Redis no responde", job.id)
            return False
        if status in WAITING:
            return False  # in line behind other imports: not dead, however long it waits
        if status is None or status in GONE:
            return True  # RQ lost it, or it failed or ended without ending the job
        latido = max(filter(None, (latido, started)), default=None)
    silent = utcnow() - latido if latido else None
    return silent is None or silent.total_seconds() > app.config["IMPORT_HEARTBEAT_SECONDS"]


def _rq_status(job: ImportacionClientes, app: Flask):
    """(RQ's status of the job's attempt, when a worker started it); (None, None) if RQ has none."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    queue = dispatcher.queue(app, "IMPORT_QUEUE")
    try:
        rq_job = Job.fetch(job_id(job.id, job.intento), connection=queue.connection)
    except NoSuchJobError:
        return None, None
    status = rq_job.get_status(refresh=False)
    started = rq_job.started_at.replace(tzinfo=None) if rq_job.started_at else None
    return (status.value if hasattr(status, "value") else status), started
