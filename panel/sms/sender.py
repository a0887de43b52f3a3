"""The sender: one implementation for the embedded thread and the RQ workers.

Rows are claimed atomically (``pendiente`` → ``enviando``) in small batches and sent by a bounded
thread pool under the global rate limit. The calling thread claims the next batch as soon as the
pool's queue runs dry (not when the whole previous batch is done, so no thread idles at a batch's
tail), and writes the outcomes of the sends that have finished, together, the moment it sees
them. Only outcomes that guarantee Twilio created nothing are retried; an ambiguous one is
reconciled against Twilio's message list or flagged for review — never re-sent.
"""

import queue
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import clock, consent
from ..extensions import db
from ..models import CampanaSMS, Cliente, SMSLog, utcnow
from ..models.envio import FUENTE_TWILIO_21610
from . import elegibilidad, exclusions, gate, lifecycle, ratelimit, reglas, tope
from .client import make_twilio_client, sender_kwargs
from .twilio_errors import Outcome, classify, is_credentials_error

LOG = SMSLog.__table__
CAMPANA = CampanaSMS.__table__
_MORE = (LOG.c.twilio_sid, LOG.c.reclamado)
REVIEW = "Resultado incierto: revisar en Twilio antes de reenviar"
MAX_VALIDITY = 36_000  # seconds: Twilio's largest ValidityPeriod


@dataclass(frozen=True)
class Settings:
    """Tunables of one pass, from the app config (typed, with their defaults, in panel/config.py)."""

    batch: int
    concurrency: int
    max_attempts: int
    backoff: float
    claim_timeout: float
    abort_after: int

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(
            batch=config["SMS_BATCH_SIZE"],
            concurrency=config["SMS_CONCURRENCY"],
            max_attempts=config["SMS_MAX_ATTEMPTS"],
            backoff=config["SMS_RETRY_BACKOFF"],
            claim_timeout=config["SMS_CLAIM_TIMEOUT"],
            abort_after=config["SMS_ABORT_AFTER"],
        )


@dataclass
class Result:
    """What happened to one row: sent (with the Twilio message), failed, or uncertain."""

    kind: str  # sent | permanent | exhausted | credentials | aborted | review | halted | skipped
    attempts: int = 0
    message: object = None
    outcome: Outcome | None = None
    reason: tuple[str, str] | None = None  # skipped: the gate's (kind, text)
    at: datetime = field(default_factory=utcnow)  # when it was known (the row's actualizado)


class _Run:
    """State of one pass over a campaign in this process."""

    def __init__(self, campana_id: int):
        app = current_app._get_current_object()
        self.campana_id = campana_id
        self.settings = Settings.from_config(app.config)
        # Touching .messages imports the SDK's message modules here, before the pool starts: in the
        # first send, the import would hold the import lock while the other threads' turns passed.
        self.messages = make_twilio_client(app.config).messages
        self.kwargs = sender_kwargs(app.config) | _callback(app.config)
        self.limit = ratelimit.from_config(app.config)
        self.engine = db.engine
        self.stop = threading.Event()
        self.halted = threading.Event()  # paused or cancelled: the queued rows go back unsent
        self.lock = threading.Lock()  # pool threads share the failure count and the reason
        self.reason = ""
        self.failures = 0  # consecutive rows that exhausted their retries
        with self.engine.connect() as conn:
            # What binds this campaign (None: transactional or a test send — no window, no cap).
            self.reglas = reglas.of_campaign(conn, campana_id)
        self.gate = gate.Gate(campana_id, self.reglas, self.engine)  # judges each row right before it leaves
        # A commercial campaign sends until its window closes (now, if it is already closed).
        now = clock.now()
        self.closes = (self.reglas.ventana.closing(now) or now) if self.reglas else None


def _opening(conn, campana_id: int):
    """None when the campaign may send now; else its window's next opening (naive UTC)."""
    rules = reglas.of_campaign(conn, campana_id)
    now = clock.now()
    if rules is None or rules.ventana.is_open(now):
        return None
    return _naive(rules.ventana.next_opening(now))


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _callback(config) -> dict:
    base = config["PUBLIC_BASE_URL"]
    return {"status_callback": base.rstrip("/") + "/twilio/status"} if base else {}


def run_campaign(campana_id: int) -> dict:
    """Send what is pending of a campaign (needs an app context); returns the row counts."""
    if not lifecycle.begin(campana_id, opening=_opening):
        return lifecycle.counts(campana_id)
    run = _Run(campana_id)
    recover_stale(run)
    _pump(run)
    if run.stop.is_set():
        _abort(campana_id, run.reason)
    with db.engine.begin() as conn:
        counts = lifecycle.refresh_totals(campana_id, conn=conn)
        lifecycle.settle_cancelled(conn, campana_id)
        return counts


def _pump(run: _Run) -> None:
    """Claim and send until nothing is pending, keeping the pool fed; write outcomes as they come.

    At most ``concurrency + batch`` rows of this process are in ``enviando`` at any time: what a
    crash can leave behind for ``recover_stale``.
    """
    inflight: dict[Future, object] = {}
    finished: queue.SimpleQueue = queue.SimpleQueue()
    more = True
    with ThreadPoolExecutor(max_workers=run.settings.concurrency) as pool:
        try:
            while True:
                more = more and _feed(run, pool, inflight, finished)
                if not inflight:
                    return
                error = _store_done(run, inflight, _drain(finished))
                if error is not None:
                    raise error
        finally:
            _wind_down(run, inflight)


def _feed(run: _Run, pool: ThreadPoolExecutor, inflight: dict, finished: queue.SimpleQueue) -> bool:
    """Claim more rows while the pool's queue is empty; False once nothing is left to claim."""
    while not run.stop.is_set() and len(inflight) <= run.settings.concurrency:
        rows, taken = _claim(run.campana_id, run.settings.batch, run.reglas)
        for row in rows:
            future = pool.submit(_send, run, row)
            inflight[future] = row
            future.add_done_callback(finished.put)
        if taken < run.settings.batch:  # a short claim means no row was left pending
            return False
    return not run.stop.is_set()


def _drain(finished: queue.SimpleQueue) -> list[Future]:
    """The sends finished so far: wait for one, then take every other already done with it."""
    done = [finished.get()]
    while True:
        try:
            done.append(finished.get_nowait())
        except queue.Empty:
            return done


def _store_done(run: _Run, inflight: dict, done: list[Future]) -> BaseException | None:
    """Write the finished sends' outcomes in one transaction; return a send's unexpected error.

    A row leaves ``inflight`` only once written, so an error cutting the write short leaves it to
    ``_wind_down``. A send that raised (e.g. the rate-limit storage is down) leaves its row in
    ``enviando``: nothing is known about it, so ``recover_stale`` reconciles it later."""
    ok = [f for f in done if not f.cancelled() and f.exception() is None]
    store(run, [(inflight[f], f.result()) for f in ok])
    for future in done:
        del inflight[future]
    return next((f.exception() for f in done if not f.cancelled() and f.exception()), None)


def _wind_down(run: _Run, inflight: dict) -> None:
    """After an error (or a job timeout): rows not handed to Twilio yet go back to ``pendiente``;
    the sends under way end, and their outcomes are written."""
    release([row for future, row in inflight.items() if future.cancel()])
    wait(list(inflight))
    _store_done(run, inflight, list(inflight))


def release(rows: list) -> None:
    """Claimed rows that never reached Twilio: back to ``pendiente``, for the next pass to send."""
    if not rows:
        return
    back = LOG.update().where(LOG.c.id.in_([r.id for r in rows]), LOG.c.estado == "enviando")
    with db.engine.begin() as conn:
        conn.execute(back.values(estado="pendiente", reclamado=None, enviado_en=None, actualizado=utcnow()))


UNSET = object()


def claim(campana_id: int, size: int, rules=UNSET) -> list:
    """Atomically take up to ``size`` pending rows: pendiente → enviando, stamped with the claim time.

    Only while the campaign is ``procesando`` (a paused or cancelled one yields nothing); rows
    whose client no longer qualifies (SPEC §9: checked again at send time) become ``omitido``,
    and so do those the cap or the RNE now forbid (``rules``: reglas.of_campaign)."""
    return _claim(campana_id, size, rules)[0]


def _claim(campana_id: int, size: int, rules=UNSET) -> tuple[list, int]:
    """The rows to send, and how many were taken (skipped ones included: a claim whose rows were
    all skipped is not the end of the campaign)."""
    now = utcnow()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # take the write lock first, so no other claimer reads the same rows
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        ids = sa.select(LOG.c.id).where(
            LOG.c.id_campana == campana_id, LOG.c.estado == "pendiente", lifecycle.sending_clause(campana_id)
        )
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
            .values(estado="enviando", reclamado=now, enviado_en=now, actualizado=now)
            .returning(
                LOG.c.id, LOG.c.id_cliente, LOG.c.id_propietario, LOG.c.telefono, LOG.c.mensaje, *_MORE
            )
        )
        taken = conn.execute(stmt).all()
        if rules is UNSET:
            rules = reglas.of_campaign(conn, campana_id)
        rows = _recheck(conn, campana_id, taken, rules)
        conn.commit()
    return sorted(rows, key=lambda r: r.id), len(taken)


def _recheck(conn, campana_id: int, rows: list, rules) -> list:
    """Skip, as ``omitido`` with the reason, the claimed rows whose client no longer qualifies."""
    if not rows:
        return rows
    c = Cliente.__table__
    fields = (c.c.id_cliente, c.c.estado, c.c.acepta_sms, c.c.telefono, c.c.telefono_e164, c.c.id_pais)
    clients = {
        r.id_cliente: r
        for r in conn.execute(sa.select(*fields).where(c.c.id_cliente.in_([row.id_cliente for row in rows])))
    }
    tenant = rows[0].id_propietario  # a campaign has one tenant
    phones = [c.telefono_e164 for c in clients.values()]
    blocked = exclusions.blocked(tenant, phones, conn, comercial=rules is not None)
    capped = _capped(conn, campana_id, tenant, rows, rules)
    skipped = {}
    for row in rows:
        client = clients.get(row.id_cliente)
        reason = elegibilidad.skip_reason(client, blocked=blocked) if client is not None else None
        if reason is None and row.telefono in capped:
            reason = elegibilidad.cap_reason(rules.tope)
        if reason:
            skipped[row.id] = reason
    if skipped:
        _omit(conn, campana_id, skipped)
    return [row for row in rows if row.id not in skipped]


def _capped(conn, campana_id: int, tenant: int, rows: list, rules) -> set[str]:
    """The claimed phones this tenant already reached in the cap's period, by another campaign.

    Checked under a lock per phone: of two campaigns racing for one client, the second to take
    the lock sees the first's committed claim and skips the row (SPEC §10)."""
    if rules is None:
        return set()
    phones = [row.telefono for row in rows]
    tope.lock(conn, tenant, phones)
    return tope.capped(tenant, phones, clock.now(), rules.tope, conn, campana_id=campana_id)


def _omit(conn, campana_id: int, skipped: dict[int, tuple[str, str]]) -> None:
    """Write the skipped rows and the campaign's totals (in the claim's transaction)."""
    stmt = LOG.update().where(LOG.c.id == sa.bindparam("row_id"), LOG.c.estado == "enviando")
    stmt = stmt.values(
        estado="omitido",
        motivo=sa.bindparam("p_motivo"),
        error_mensaje=sa.bindparam("p_error"),
        reclamado=None,
        enviado_en=None,
        actualizado=utcnow(),
    )
    params = [
        {"row_id": i, "p_motivo": elegibilidad.MOTIVOS[kind], "p_error": text}
        for i, (kind, text) in skipped.items()
    ]
    conn.execute(stmt, params)
    lifecycle.refresh_totals(campana_id, finish=False, conn=conn)


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


def store(run: _Run, finished: list[tuple]) -> None:
    """Write the outcomes of finished rows in one transaction, each only if still ours (``enviando``).

    Rows of the same shape go in one ``executemany``: an outcome costs a few statements per
    batch instead of a transaction of its own, and is still written the moment it is known."""
    if not finished:
        return
    updates, queued = defaultdict(list), []
    for row, result in finished:
        values = _values(result, run.reason) | {"actualizado": result.at}
        updates[tuple(sorted(values))].append({"row_id": row.id, "n": result.attempts} | _params(values))
        if result.kind == "sent":
            queued.append({"row_id": row.id, "p_estado_entrega": getattr(result.message, "status", None)})
    with run.engine.begin() as conn:
        for columns, params in updates.items():
            conn.execute(_outcome_update(columns), params)
        if queued:  # a status callback may have arrived first: keep the later status
            first = LOG.update().where(LOG.c.id == sa.bindparam("row_id"), LOG.c.estado_entrega.is_(None))
            conn.execute(first.values(estado_entrega=sa.bindparam("p_estado_entrega")), queued)
        for row, result in finished:
            if result.outcome is not None and result.outcome.opt_out and row.id_cliente is not None:
                consent.record_opt_out(conn, row.id_propietario, row.telefono, fuente=FUENTE_TWILIO_21610)
        # The totals move with the outcomes, in their transaction: a reader never sees them apart.
        lifecycle.refresh_totals(run.campana_id, finish=False, conn=conn)
        lifecycle.settle_cancelled(conn, run.campana_id)


def _params(values: dict) -> dict:
    """Bind names for an outcome's values (SQLAlchemy reserves the plain column names)."""
    return {f"p_{name}": value for name, value in values.items()}


def _outcome_update(columns: tuple[str, ...]):
    """UPDATE of one row's outcome, guarded by ``estado = 'enviando'``, for executemany."""
    mine = LOG.update().where(LOG.c.id == sa.bindparam("row_id"), LOG.c.estado == "enviando")
    values = {name: sa.bindparam(f"p_{name}") for name in columns}
    return mine.values(**values, intentos=LOG.c.intentos + sa.bindparam("n"))


def _values(result: Result, reason: str) -> dict:
    """Column values for a row's outcome."""
    o = result.outcome
    code, text = (o.code, o.message) if o else (None, "")
    if result.kind == "halted":  # never reached Twilio: sent later, or cancelled
        return {"estado": "pendiente", "reclamado": None, "enviado_en": None}
    if result.kind == "skipped":  # the gate stopped it: never reached Twilio
        kind, detail = result.reason
        motivo = elegibilidad.MOTIVOS[kind]
        return {
            "estado": "omitido",
            "motivo": motivo,
            "error_mensaje": detail,
            "reclamado": None,
            "enviado_en": None,
        }
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
        lifecycle.fail(conn, campana_id, reason)
        lifecycle.refresh_totals(campana_id, finish=False, conn=conn)
