"""Where a load of the RNE uploaded in the panel runs: a thread of the web process, or an RQ job
on the queue IMPORT_QUEUE when REDIS_URL is set, like the imports (the one rule of panel/dispatcher.py).

The upload is stored with the load (``rne_carga.archivo``), so any worker can read it; the lock
taken at upload time (panel/sms/rne.py) is the load's until it ends.
"""

import logging

from flask import Flask

from .. import dispatcher
from ..extensions import db
from . import rne

log = logging.getLogger(__name__)
RUN_RNE_LOAD = "panel.jobs.run_rne_load"  # enqueued by name: the worker imports panel.jobs


def dispatch(carga_id: int, app: Flask):
    """Start a stored load: an RQ job with Redis, else a thread of this process."""
    return dispatcher.submit(
        app,
        queue_setting="IMPORT_QUEUE",
        job=RUN_RNE_LOAD,
        run_in_app=run_in_app,
        args=(carga_id,),
        timeout=app.config["IMPORT_JOB_TIMEOUT"],
        description=f"Carga del Registro de Números Excluidos {carga_id}",
        thread_name=f"rne-{carga_id}",
    )


def run_in_app(app: Flask, carga_id: int) -> rne.Carga | None:
    """Run one load in an app context. A refused or failed load is already recorded on its row (the
    page says why); nothing is raised to the thread or the worker."""
    with app.app_context():
        try:
            return rne.run_stored(carga_id)
        except (rne.CargaRechazada, rne.CargaPerdida) as exc:
            log.info("Carga del RNE %s no aplicada: %s", carga_id, exc)
            return None
        except Exception:
            log.exception("Carga del RNE %s interrumpida", carga_id)
            return None
        finally:
            db.session.remove()
