"""One row's delivery, in the sender's pool: its turn under the rate limit, the departure gate
right then, the Twilio call, retries only of what Twilio certainly did not create, and an
ambiguous outcome reconciled against Twilio's message list (or flagged for review) — never
re-sent. ``recover_stale`` does the same for rows a crash left in ``enviando``."""

import random
import time
from datetime import timedelta

import sqlalchemy as sa

from .. import clock
from ..models import SMSLog, utcnow
from . import gate, lifecycle, ratelimit
from .outcomes import _track_failures, store
from .send_run import Result, _naive, _Run
from .twilio_errors import Outcome, classify, is_credentials_error

LOG = SMSLog.__table__


MAX_VALIDITY = 36_000  # seconds: Twilio's largest ValidityPeriod


def _send(run: _Run, row) -> Result:
    """One row, in the pool: deliver it, and let its result stop the campaign before the next row starts."""
    result = _deliver(run, row)
    with run.lock:
        _track_failures(run, result)
    return result


def _deliver(run: _Run, row) -> Result:
    """Send one row, retrying only what Twilio certainly did not create (runs in the pool)."""
    outcome = None
    for attempt in range(1, run.settings.max_attempts + 1):
        if run.stop.is_set():
            return Result("aborted", attempt - 1)
        if run.halted.is_set():
            return Result("halted", attempt - 1)
        run.limit.acquire()
        verdict = _gate(run, row)  # after the turn's wait: the state now, not at the claim
        if not verdict.go:
            return (
                Result("halted", attempt - 1)
                if verdict.halt
                else Result("skipped", attempt - 1, reason=verdict.reason)
            )
        try:
            message = run.messages.create(to=row.telefono, body=row.mensaje, **run.kwargs, **_validity(run))
            return Result("sent", attempt, message)
        except ratelimit.LimitUnavailable:
            raise  # the limit's storage failed before a byte left (its last check is in the client)
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


def _gate(run: _Run, row) -> gate.Verdict:
    """The departure gate for this row, now (panel/sms/gate.py). A halt stops this pass: a paused
    or cancelled campaign, or a closed window (then the campaign waits, ``programada``, for the
    next opening); the rows not sent go back to ``pendiente``."""
    now = clock.now()
    verdict = run.gate.check(row, now)
    if verdict.halt:
        if run.reglas is not None and not run.reglas.ventana.is_open(now):
            with run.engine.begin() as conn:
                lifecycle.postpone(conn, run.campana_id, _naive(run.reglas.ventana.next_opening(now)))
        run.halted.set()
    return verdict


def _validity(run: _Run) -> dict:
    """Twilio's ValidityPeriod up to the window's close: what it could not deliver by then is
    dropped, never delivered late (SPEC §15)."""
    if run.closes is None:
        return {}
    left = int((run.closes - clock.now()).total_seconds())
    return {"validity_period": max(1, min(left, MAX_VALIDITY))}


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
        return run.messages(row.twilio_sid).fetch()
    claimed = row.reclamado or getattr(row, "creado", None) or utcnow() - timedelta(days=1)
    since = claimed - timedelta(minutes=2)  # clock skew between us and Twilio
    with run.engine.connect() as conn:
        known = set(conn.scalars(sa.select(LOG.c.twilio_sid).where(LOG.c.telefono == row.telefono)))
    # No DateSent> filter: Twilio leaves date_sent empty while a message is queued, so a
    # message created a moment ago would be missed; the newest messages to the number suffice.
    for message in run.messages.list(to=row.telefono, limit=100):
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
        store(run, [(row, _reconciled(run, row, 0, None))])
