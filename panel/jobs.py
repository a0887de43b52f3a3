"""RQ jobs: module-level functions that take ids, enqueued by name (``"panel.jobs.run_campaign"``).

``rq worker sms`` and ``rq worker import`` (started apart: an import never waits for, nor holds up, a
campaign) import this module when they run a job; each worker process builds its app
once, from its own environment (DATABASE_URL, REDIS_URL, TWILIO_*, SMS_*), the first time a job
needs it. Nothing in the app imports this module: the queue knows the jobs by name only.
"""

import gc
import time

from flask import Flask

from . import create_app
from .extensions import db
from .sms import lifecycle, runners

_app: Flask | None = None


def worker_app() -> Flask:
    """The app of this worker process, built from its environment the first time."""
    if _app is None:
        use_app(create_app())
        freeze_heap()
    return _app


def use_app(app: Flask | None) -> None:
    """Run this process's jobs in ``app`` (benchmarks and tests build theirs); None forgets it."""
    global _app
    _app = app


def freeze_heap() -> None:
    """Leave what is built so far (modules, the app) out of every later garbage collection.

    A full collection scans the whole heap: with the app loaded, ~50-100 ms during which every
    sending thread of the worker stalls. Called once a worker process has built its app."""
    gc.collect()
    gc.freeze()


def run_campaign(campana_id: int) -> dict | None:
    """A claim loop over one campaign (several may run at once on one campaign); then makes sure
    someone keeps polling for scheduled campaigns."""
    app = worker_app()
    result = runners.run_in_app(app, campana_id)
    _keep_polling(app)
    return result


def prepare_campaign(campana_id: int) -> str | None:
    """Write the outbox of a campaign ``preparando`` (panel/sms/preparacion.py), then queue its
    sending; keeps the poller going, which resumes a preparation whose worker died."""
    app = worker_app()
    estado = runners.prepare_in_app(app, campana_id)
    _keep_polling(app)
    return estado


def poll_due() -> list[int]:
    """The schedule's poller on a plain ``rq worker``: wait (at most SMS_POLL_SECONDS), start the
    campaigns that are due, and queue the next poll while some campaign is still scheduled."""
    app = worker_app()
    with app.app_context():
        runners.release_poller(app)
        time.sleep(runners.poll_wait(app))
        db.session.remove()  # a fresh snapshot after the wait
        started = runners.start_due_and_enqueue(app)
        db.session.remove()
    _keep_polling(app)
    return started


def _keep_polling(app: Flask) -> None:
    """Queue the poller when some campaign waits for its time (no-op when one is queued)."""
    with app.app_context():
        if lifecycle.any_scheduled():
            runners.ensure_poller(app)
        db.session.remove()


def resume_active() -> list[int]:
    """Send every active campaign (after a crash or a lost job); schedule it as needed."""
    app = worker_app()
    runners.resume_preparations(app)
    with app.app_context():
        ids = runners.active_campaigns()
    for campana_id in ids:
        runners.run_in_app(app, campana_id)
    _keep_polling(app)
    return ids


def run_import(importacion_id: int, intento: str | None = None) -> dict | None:
    """A confirmed import of clients (panel/importing), on the queue IMPORT_QUEUE; ``intento`` is the
    attempt it was handed (a retried job's older attempts do nothing)."""
    from .importing import background

    resumen = background.run_in_app(worker_app(), importacion_id, intento)
    return None if resumen is None else vars(resumen)


def run_import_preview(importacion_id: int, intento: str | None = None) -> dict | None:
    """The preview of an uploaded file (panel/importing), on the queue IMPORT_QUEUE."""
    from .importing import background

    vista = background.preview_in_app(worker_app(), importacion_id, intento)
    return None if vista is None else {"total": vista.get("total", 0)}


def run_rne_load(carga_id: int) -> dict | None:
    """A load of the Registro de Números Excluidos uploaded in the panel, on the queue IMPORT_QUEUE."""
    from .sms import rne_background

    carga = rne_background.run_in_app(worker_app(), carga_id)
    return None if carga is None else vars(carga)
