"""Where a confirmed import runs: a thread of the web process, or an RQ job on the queue
IMPORT_QUEUE when REDIS_URL is set (the one rule of panel/dispatcher.py)."""

import logging

from flask import Flask

from .. import dispatcher
from ..clock import utcnow
from ..extensions import db
from ..models import ImportacionClientes
from . import service

log = logging.getLogger(__name__)
RUN_IMPORT = "panel.jobs.run_import"  # enqueued by name: the worker imports panel.jobs


def dispatch(importacion_id: int, app: Flask):
    """Start a confirmed import: an RQ job with Redis, else a thread of this process."""
    return dispatcher.submit(
        app,
        queue_setting="IMPORT_QUEUE",
        job=RUN_IMPORT,
        run_in_app=run_in_app,
        args=(importacion_id,),
        timeout=app.config["IMPORT_JOB_TIMEOUT"],
        description=f"Importación de clientes {importacion_id}",
        thread_name=f"import-{importacion_id}",
    )


def run_in_app(app: Flask, importacion_id: int):
    """Run one import in an app context; an unexpected error ends it as "error", said on its page."""
    with app.app_context():
        try:
            return service.run(importacion_id)
        except Exception:
            log.exception("Importación de clientes %s interrumpida", importacion_id)
            db.session.rollback()
            _mark_failed(importacion_id)
            return None
        finally:
            db.session.remove()


def _mark_failed(importacion_id: int) -> None:
    table = ImportacionClientes.__table__
    with db.engine.begin() as conn:
        conn.execute(
            table.update()
            .where(table.c.id == importacion_id)
            .values(
                estado="error",
                terminado=utcnow(),
                mensaje="La importación se interrumpió por un error inesperado.",
            )
        )
