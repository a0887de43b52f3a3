"""One pass of the sender over a campaign: its tunables (``Settings``), its state in this
process (``_Run``: the Twilio client, the rate limit, the campaign's rules and its departure
gate), and what happened to a row (``Result``)."""

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app

from .. import clock
from ..extensions import db
from ..models import utcnow
from . import cuentas_envio, gate, lifecycle, ratelimit, reglas
from .client import make_twilio_client, sender_kwargs
from .twilio_errors import Outcome


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
        self.engine = db.engine
        with self.engine.begin() as conn:
            # The tenant's own account or the platform's (SecretoError: its token cannot be opened).
            self.cuenta = cuentas_envio.of_campaign(conn, campana_id, app.config)
            lifecycle.record_account(conn, campana_id, self.cuenta.sid)
        # Touching .messages imports the SDK's message modules here, before the pool starts: in the
        # first send, the import would hold the import lock while the other threads' turns passed.
        self.messages = make_twilio_client(app.config, self.cuenta).messages
        self.kwargs = sender_kwargs(app.config, self.cuenta) | _callback(app.config)
        self.limit = ratelimit.from_config(app.config, self.cuenta.rate_key)  # per account (SPEC §20)
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


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _callback(config) -> dict:
    base = config["PUBLIC_BASE_URL"]
    return {"status_callback": base.rstrip("/") + "/twilio/status"} if base else {}
