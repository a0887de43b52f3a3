"""Where the sender runs: a daemon thread in the web process, or RQ jobs at scale (the choice is
panel/dispatcher.py's, shared with the imports).

Both run the same ``sender.run_campaign`` claim loop; claims make it safe for any number of
threads, processes and workers to work on one campaign at the same time.
"""

import logging
import threading

import sqlalchemy as sa
from flask import Flask, current_app

from .. import clock, dispatcher
from ..extensions import db
from ..models import CampanaSMS
from . import lifecycle, preparacion, sender
from .outbox import gc_paused

log = logging.getLogger(__name__)
# The RQ jobs, by name (microblog's way): the worker imports panel.jobs, this module never does.
RUN_CAMPAIGN = "panel.jobs.run_campaign"
RESUME_ACTIVE = "panel.jobs.resume_active"
POLL_DUE = "panel.jobs.poll_due"
PREPARE_CAMPAIGN = "panel.jobs.prepare_campaign"
ACTIVE = lifecycle.ACTIVE  # the estados a sender works in (tests and tools read it here)


def dispatch(campana_id: int, app: Flask):
    """Start sending a campaign: RQ jobs when REDIS_URL is set, else the embedded thread."""
    if dispatcher.uses_rq(app):
        return enqueue(campana_id, app)
    embedded = app.extensions.get("sms_embedded")
    if embedded is not None and embedded.is_alive():
        embedded.wake()
        return embedded
    # No resident thread (tests, or a disabled embedded sender): a one-off thread for this campaign.
    return dispatcher.start_thread(run_in_app, app, campana_id, name=f"sms-{campana_id}")


def create_and_start(create, *, on_created=None, **fields) -> CampanaSMS:
    """A new campaign leaves one way: ``create(**fields)`` writes it (``outbox.create_campaign``,
    ``pruebas.create_test_send``: committed, the durable outbox), ``on_created`` sees it before
    sending starts (a one-time key finds it from then on), then ``dispatch`` starts it."""
    campana = create(**fields)
    if on_created is not None:
        on_created(campana)
    app = current_app._get_current_object()
    if campana.estado == lifecycle.PREPARING:
        dispatch_preparation(campana.id, app)
    else:
        dispatch(campana.id, app)
    return campana


def dispatch_preparation(campana_id: int, app: Flask):
    """Write a campaign's outbox in the background: an RQ job on SMS_QUEUE, else a thread; the
    preparer dispatches the campaign once its outbox is whole."""
    return dispatcher.submit(
        app,
        queue_setting="SMS_QUEUE",
        job=PREPARE_CAMPAIGN,
        run_in_app=prepare_in_app,
        args=(campana_id,),
        timeout=app.config["SMS_JOB_TIMEOUT"],
        description=f"Preparación de la campaña SMS {campana_id}",
        thread_name=f"sms-preparar-{campana_id}",
    )


def prepare_in_app(app: Flask, campana_id: int) -> str | None:
    """Prepare one campaign inside an app context, then start sending it; the estado it left
    ``preparando`` for, or None (errors are logged, not raised: a poller resumes it)."""
    with app.app_context():
        try:
            with gc_paused():
                estado = preparacion.prepare(campana_id)
        except Exception:
            log.exception("Preparación de la campaña SMS %s interrumpida", campana_id)
            return None
        finally:
            db.session.remove()
    if estado in lifecycle.ACTIVE or estado == "programada":
        dispatch(campana_id, app)
    return estado


def resume_preparations(app: Flask) -> list[int]:
    """Dispatch again the preparations whose preparer died (no checkpoint for SMS_PREPARE_STALE)."""
    with app.app_context():
        ids = lifecycle.stale_preparations(app.config["SMS_PREPARE_STALE"])
        db.session.remove()
    for campana_id in ids:
        dispatch_preparation(campana_id, app)
    return ids


def run_in_app(app: Flask, campana_id: int) -> dict | None:
    """Run one campaign inside an app context, logging (not raising) unexpected errors."""
    with app.app_context():
        try:
            return sender.run_campaign(campana_id)
        except Exception:
            log.exception("Envío de la campaña SMS %s interrumpido", campana_id)
            return None
        finally:
            db.session.remove()


def active_campaigns() -> list[int]:
    """Campaigns with work left: pending, interrupted by a restart, or scheduled and now due."""
    return lifecycle.campaigns_with_work()


class EmbeddedSender(threading.Thread):
    """A daemon thread that sends every active campaign and starts the scheduled ones when due;
    woken by dispatch, else polls every SMS_POLL_SECONDS."""

    def __init__(self, app: Flask, poll_seconds: float = 5.0):
        super().__init__(daemon=True, name="sms-embedded-sender")
        self.app = app
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._halt = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()

    def run(self) -> None:
        while not self._halt.is_set():  # the first pass also resumes campaigns cut by a restart
            self._wake.clear()
            try:
                resume_preparations(self.app)
                with self.app.app_context():
                    ids = active_campaigns()
                    db.session.remove()
            except Exception:
                log.exception("No se pudieron leer las campañas SMS pendientes")
                ids = []
            for campana_id in ids:
                run_in_app(self.app, campana_id)
            self._wake.wait(self.poll_seconds)


def embedded_enabled(app: Flask) -> bool:
    """The resident sender thread runs when there is no Redis, outside tests, unless switched off."""
    return app.config["SMS_EMBEDDED_SENDER"] and not dispatcher.uses_rq(app) and not app.testing


def start_sender(app: Flask) -> None:
    """Where the embedded sender runs, start it with the first request of a web process (not in
    CLI commands or RQ workers); its first pass resumes campaigns a restart interrupted."""
    if not embedded_enabled(app):
        return
    lock = threading.Lock()

    @app.before_request
    def _ensure_sender() -> None:
        if "sms_embedded" in app.extensions:
            return
        with lock:
            if "sms_embedded" not in app.extensions:
                start_embedded(app)


def start_embedded(app: Flask) -> EmbeddedSender:
    """Start the resident sender thread of this web process."""
    thread = EmbeddedSender(app, app.config["SMS_POLL_SECONDS"])
    app.extensions["sms_embedded"] = thread
    thread.start()
    return thread


# --- RQ: the jobs themselves are in panel/jobs.py, enqueued by name ----------------------


def queue(app: Flask):
    """The RQ queue the SMS jobs go to (SMS_QUEUE)."""
    return dispatcher.queue(app, "SMS_QUEUE")


def enqueue(campana_id: int, app: Flask) -> list:
    """One claim-loop job per worker share (SMS_JOBS_PER_CAMPAIGN); a scheduled campaign gets
    the poller instead, which enqueues these jobs once it has started the campaign."""
    if _scheduled(campana_id, app):
        return [job for job in (ensure_poller(app),) if job is not None]
    q, timeout = queue(app), app.config["SMS_JOB_TIMEOUT"]
    return [
        q.enqueue(RUN_CAMPAIGN, campana_id, job_timeout=timeout, description=f"Campaña SMS {campana_id}")
        for _ in range(app.config["SMS_JOBS_PER_CAMPAIGN"])
    ]


def _scheduled(campana_id: int, app: Flask) -> bool:
    """Whether the campaign waits for its time (callers such as benchmarks hold no app context)."""
    with app.app_context():
        stmt = sa.select(CampanaSMS.estado).where(CampanaSMS.id == campana_id)
        return db.session.scalar(stmt) == "programada"


def _poller_key(app: Flask) -> str:
    return f"panel:sms:poll:{app.config['SMS_QUEUE']}"


def ensure_poller(app: Flask):
    """Queue one ``poll_due`` job unless one is already queued (a Redis key, set NX, says so).

    The key expires, so a chain lost with a dead worker is started again by the next dispatch,
    campaign job or resume."""
    q = queue(app)
    ttl = max(60, int(10 * app.config["SMS_POLL_SECONDS"]))
    if not q.connection.set(_poller_key(app), "1", nx=True, ex=ttl):
        return None
    return q.enqueue(POLL_DUE, job_timeout=ttl, description="Campañas SMS programadas")


def release_poller(app: Flask) -> None:
    """The queued poll job has started: the next one may be queued."""
    queue(app).connection.delete(_poller_key(app))


def start_due_and_enqueue(app: Flask) -> list[int]:
    """Start the due campaigns (each claimed once, atomically) and queue their sending jobs;
    queue again the preparations whose worker died."""
    resume_preparations(app)
    with db.engine.begin() as conn:
        started = lifecycle.start_due(conn)
    for campana_id in started:
        enqueue(campana_id, app)
    return started


def poll_wait(app: Flask) -> float:
    """How long the poller waits before it looks: SMS_POLL_SECONDS, or less when one is due sooner."""
    soonest = lifecycle.next_due()
    seconds = app.config["SMS_POLL_SECONDS"]
    if soonest is None:
        return seconds
    return min(seconds, max((soonest - clock.utcnow()).total_seconds(), 0.0))
