"""RQ jobs: module-level functions that take ids, enqueued by name (``"panel.jobs.run_campaign"``).

``rq worker sms`` imports this module when it runs a job; each worker process builds its app
once, from its own environment (DATABASE_URL, REDIS_URL, TWILIO_*, SMS_*), the first time a job
needs it. Nothing in the app imports this module: the queue knows the jobs by name only.
"""

import gc

from flask import Flask

from . import create_app
from .sms import runners

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
    """A claim loop over one campaign (several may run at once on one campaign)."""
    return runners.run_in_app(worker_app(), campana_id)


def resume_active() -> list[int]:
    """Send every active campaign (after a crash or a lost job); schedule it as needed."""
    app = worker_app()
    with app.app_context():
        ids = runners.active_campaigns()
    for campana_id in ids:
        runners.run_in_app(app, campana_id)
    return ids
