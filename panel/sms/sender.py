"""The sender: one implementation for the embedded thread and the RQ workers.

Rows are claimed atomically (``pendiente`` → ``enviando``) in small batches, sent by a bounded
thread pool under the global rate limit, and each outcome is written at once by the calling
thread. Only outcomes that guarantee Twilio created nothing are retried; an ambiguous one is
reconciled against Twilio's message list or flagged for review — never re-sent.
"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import CampanaSMS, Cliente, SMSLog, utcnow
from . import outbox, ratelimit
from .client import make_twilio_client, sender_kwargs
from .errors import Outcome, classify, is_credentials_error

LOG = SMSLog.__table__
CAMPANA = CampanaSMS.__table__
_MORE = (LOG.c.twilio_sid, LOG.c.reclamado)
REVIEW = "Resultado incierto: revisar en Twilio antes de reenviar"


@dataclass(frozen=True)
class Settings:
    """Tunables read from the app config (defaults fit the embedded sender)."""

    batch: int = 20
    concurrency: int = 4
    max_attempts: int = 4
    backoff: float = 0.5
    claim_timeout: float = 300.0
    abort_after: int = 3

    @classmethod
    def from_config(cls, config) -> "Settings":
        names = {
            "batch": "SMS_BATCH_SIZE",
            "concurrency": "SMS_CONCURRENCY",
            "max_attempts": "SMS_MAX_ATTEMPTS",
        }
        names |= {"backoff": "SMS_RETRY_BACKOFF", "claim_timeout": "SMS_CLAIM_TIMEOUT"}
        names |= {"abort_after": "SMS_ABORT_AFTER"}
        defaults = cls()
        return cls(
            **{k: type(getattr(defaults, k))(config.get(v, getattr(defaults, k))) for k, v in names.items()}
        )


@dataclass
class Result:
    """What happened to one row: sent (with the Twilio message), failed, or uncertain."""

    kind: str  # sent | permanent | exhausted | credentials | aborted | review
    attempts: int = 0
    message: object = None
    outcome: Outcome | None = None


class _Run:
    """State of one pass over a campaign in this process."""

    def __init__(self, campana_id: int):
        app = current_app._get_current_object()
        self.campana_id = campana_id
        self.settings = Settings.from_config(app.config)
        self.client = make_twilio_client(app.config)
        self.kwargs = sender_kwargs(app.config) | _callback(app.config)
        self.limit = ratelimit.from_config(app.config)
        self.engine = db.engine
        self.stop = threading.Event()
        self.reason = ""
        self.failures = 0  # consecutive rows that exhausted their retries


def _callback(config) -> dict:
    base = config.get("PUBLIC_BASE_URL")
    return {"status_callback": base.rstrip("/") + "/twilio/status"} if base else {}


def run_campaign(campana_id: int) -> dict:
    """Send what is pending of a campaign (needs an app context); returns the row counts."""
    if not _start(campana_id):
        return outbox.counts(campana_id)
    run = _Run(campana_id)
    recover_stale(run)
    with ThreadPoolExecutor(max_workers=run.settings.concurrency) as pool:
        while not run.stop.is_set() and (rows := claim(campana_id, run.settings.batch)):
            futures = {pool.submit(_deliver, run, row): row for row in rows}
            for future in as_completed(futures):
                _store(run, futures[future], future.result())
    if run.stop.is_set():
        _abort(campana_id, run.reason)
    with db.engine.begin() as conn:
        return outbox.refresh_totals(campana_id, conn=conn)


def _start(campana_id: int) -> bool:
    """Move the campaign to procesando; False when it is finished or unknown."""
    with db.engine.begin() as conn:
        estado = conn.scalar(sa.select(CAMPANA.c.estado).where(CAMPANA.c.id == campana_id))
        if estado == "pendiente":
            conn.execute(CAMPANA.update().where(CAMPANA.c.id == campana_id).values(estado="procesando"))
    return estado in ("pendiente", "procesando")


def claim(campana_id: int, size: int) -> list:
    """Atomically take up to ``size`` pending rows: pendiente → enviando, stamped with the claim time."""
    now = utcnow()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # take the write lock first, so no other claimer reads the same rows
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        ids = sa.select(LOG.c.id).where(LOG.c.id_campana == campana_id, LOG.c.estado == "pendiente")
        ids = ids.order_by(LOG.c.id).limit(size)
        if not sqlite:
            ids = ids.with_for_update(skip_locked=True)
        # A CTE, not ``IN (subquery)``: PostgreSQL may run the subquery again for every row it
        # updates (a nested-loop semi-join), and each run took up to ``size`` more rows; a CTE
        # with FOR UPDATE runs once.
        picked = ids.cte("picked")
        stmt = (
            LOG.update()
            .where(LOG.c.id.in_(sa.select(picked.c.id)), LOG.c.estado == "pendiente")
            .values(estado="enviando", reclamado=now, actualizado=now)
            .returning(
                LOG.c.id, LOG.c.id_cliente, LOG.c.id_propietario, LOG.c.telefono, LOG.c.mensaje, *_MORE
            )
        )
        rows = conn.execute(stmt).all()
        conn.commit()
    return sorted(rows, key=lambda r: r.id)


def _deliver(run: _Run, row) -> Result:
    """Send one row, retrying only what Twilio certainly did not create (runs in the pool)."""
    outcome = None
    for attempt in range(1, run.settings.max_attempts + 1):
        if run.stop.is_set():
            return Result("aborted", attempt - 1)
        run.limit.acquire()
        try:
            message = run.client.messages.create(to=row.telefono, body=row.mensaje, **run.kwargs)
            return Result("sent", attempt, message)
        except Exception as exc:  # noqa: BLE001 — every failure is classified below
            outcome = classify(exc)
        if is_credentials_error(outcome):
            return Result("credentials", attempt, outcome=outcome)
        if outcome.kind == "permanent":
            return Result("permanent", attempt, outcome=outcome)
        if outcome.kind == "ambiguous":
            return _reconciled(run, row, attempt, outcome)
        if attempt < run.settings.max_attempts:
            time.sleep(run.settings.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2))
    return Result("exhausted", run.settings.max_attempts, outcome=outcome)


def _reconciled(run: _Run, row, attempts: int, outcome: Outcome | None) -> Result:
    """Look for the message at Twilio: found → sent with its SID; otherwise flag for review."""
    try:
        message = find_at_twilio(run, row)
    except Exception as exc:  # noqa: BLE001 — reconciliation failing means: review
        outcome = classify(exc)
        message = None
    if message is not None:
        return Result("sent", attempts, message)
    return Result("review", attempts, outcome=outcome)


def find_at_twilio(run: _Run, row):
    """The message Twilio created for this row: by SID, else listing messages to the number."""
    if row.twilio_sid:
        return run.client.messages(row.twilio_sid).fetch()
    claimed = row.reclamado or getattr(row, "creado", None) or utcnow() - timedelta(days=1)
    since = claimed - timedelta(minutes=2)  # clock skew between us and Twilio
    with run.engine.connect() as conn:
        known = set(conn.scalars(sa.select(LOG.c.twilio_sid).where(LOG.c.telefono == row.telefono)))
    # No DateSent> filter: Twilio leaves date_sent empty while a message is queued, so a
    # message created a moment ago would be missed; the newest messages to the number suffice.
    for message in run.client.messages.list(to=row.telefono, limit=100):
        created = getattr(message, "date_created", None)
        recent = created is None or created.replace(tzinfo=None) >= since
        if message.body == row.mensaje and message.sid not in known and recent:
            return message
    return None


def recover_stale(run: _Run) -> None:
    """Rows left in ``enviando`` by a crash: reconcile them with Twilio or flag them, never re-send."""
    cutoff = utcnow() - timedelta(seconds=run.settings.claim_timeout)
    stale = sa.select(LOG).where(
        LOG.c.id_campana == run.campana_id,
        LOG.c.estado == "enviando",
        sa.or_(LOG.c.reclamado.is_(None), LOG.c.reclamado < cutoff),
    )
    with run.engine.connect() as conn:
        rows = conn.execute(stale).all()
    for row in rows:
        take = LOG.update().where(
            LOG.c.id == row.id, LOG.c.estado == "enviando", LOG.c.reclamado == row.reclamado
        )
        with run.engine.begin() as conn:  # take it over, so two workers do not reconcile the same row
            if conn.execute(take.values(reclamado=utcnow())).rowcount != 1:
                continue
        _store(run, row, _reconciled(run, row, 0, None))


def _store(run: _Run, row, result: Result) -> None:
    """Write one row's outcome at once (only if it is still ours, in ``enviando``)."""
    _track_failures(run, result)  # first: a credentials failure names the reason of its own row too
    values = _values(result, run.reason)
    values.update(intentos=LOG.c.intentos + result.attempts, actualizado=utcnow())
    mine = LOG.update().where(LOG.c.id == row.id, LOG.c.estado == "enviando")
    with run.engine.begin() as conn:
        conn.execute(mine.values(**values))
        if result.kind == "sent":  # a status callback may have arrived first: keep the later status
            status = getattr(result.message, "status", None)
            first = LOG.update().where(LOG.c.id == row.id, LOG.c.estado_entrega.is_(None))
            conn.execute(first.values(estado_entrega=status))
        if result.outcome is not None and result.outcome.opt_out:
            conn.execute(_opt_out(row))


def _values(result: Result, reason: str) -> dict:
    """Column values for a row's outcome."""
    o = result.outcome
    code, text = (o.code, o.message) if o else (None, "")
    if result.kind == "sent":
        m = result.message
        segments = getattr(m, "num_segments", None)
        values = {"estado": "enviado", "twilio_sid": m.sid, "error_codigo": None, "error_mensaje": None}
        return values | ({"segmentos": int(segments)} if str(segments or "").isdigit() else {})
    failed = {"estado": "fallido", "error_codigo": code}
    if result.kind == "permanent":
        return failed | {"error_mensaje": text}
    if result.kind == "review":
        return failed | {"requiere_revision": True, "error_mensaje": f"{REVIEW}. {text}".strip()}
    if result.kind == "exhausted":
        text = f"No se pudo enviar tras {result.attempts} intentos: {text}"
    elif result.kind == "credentials":
        text = reason
    elif result.kind == "aborted":
        text = f"No enviado: {reason or 'la campaña se detuvo'}"
    return failed | {"reintentable": True, "error_mensaje": text}


def _opt_out(row):
    """Twilio says the number opted out (21610): the client no longer accepts SMS."""
    c = Cliente.__table__
    return (
        c.update()
        .where(c.c.id_cliente == row.id_cliente, c.c.id_propietario == row.id_propietario)
        .values(acepta_sms=False)
    )


def _track_failures(run: _Run, result: Result) -> None:
    """Stop the campaign on bad credentials, or when Twilio keeps failing (it is down)."""
    if result.kind == "credentials":
        run.reason = f"Credenciales de Twilio inválidas ({result.outcome.code}): {result.outcome.message}"
        run.stop.set()
    elif result.kind == "exhausted":
        run.failures += 1
        if run.failures >= run.settings.abort_after:
            run.reason = f"Twilio no disponible: {result.outcome.message if result.outcome else ''}".strip()
            run.stop.set()
    elif result.kind == "sent":
        run.failures = 0


def _abort(campana_id: int, reason: str) -> None:
    """The campaign cannot run: every row still pending fails with the reason (safe to retry)."""
    now = utcnow()
    with db.engine.begin() as conn:
        pending = LOG.update().where(LOG.c.id_campana == campana_id, LOG.c.estado == "pendiente")
        conn.execute(
            pending.values(estado="fallido", reintentable=True, error_mensaje=reason, actualizado=now)
        )
        done = CAMPANA.update().where(CAMPANA.c.id == campana_id)
        conn.execute(done.values(estado="error", error_mensaje=reason, completado=now))
