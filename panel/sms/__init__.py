"""SMS: rendering, encoding, the Twilio boundary, the outbox, the sender and its runners."""

import os
import threading

from flask import Flask

# Sender tunables: app config first, else the environment, else the default beside the code.
SETTINGS = (
    "SMS_EMBEDDED_SENDER",  # 1/0: the resident sender thread of a web process (no REDIS_URL)
    "SMS_QUEUE",  # RQ queue name (default "sms")
    "SMS_JOBS_PER_CAMPAIGN",  # claim-loop jobs enqueued per campaign (default 2)
    "SMS_BATCH_SIZE",  # rows per claim (default 16)
    "SMS_CONCURRENCY",  # Twilio calls in flight per sender (default 16)
    "SMS_RATE_KEY",  # key of the shared rate limit: senders with one key share one budget
    "SMS_RATE_HEADROOM",  # pace this fraction under SMS_RATE_PER_SECOND (default 0.04)
    "SMS_MAX_ATTEMPTS",  # attempts for a retryable failure (default 4)
    "SMS_RETRY_BACKOFF",  # first backoff in seconds, doubled each attempt (default 0.5)
    "SMS_CLAIM_TIMEOUT",  # seconds before a row in enviando counts as abandoned (default 300)
    "SMS_ABORT_AFTER",  # rows in a row that exhaust their retries before the campaign stops (3)
    "SMS_POLL_SECONDS",  # how often the embedded thread looks for work (default 5)
    "PUBLIC_BASE_URL",  # the app's public URL: status callbacks and signature checks
)


def load_settings(app: Flask) -> None:
    """Take the SMS settings the app config does not set from the environment."""
    for name in SETTINGS:
        if name not in app.config and os.environ.get(name):
            app.config[name] = os.environ[name]


def embedded_enabled(app: Flask) -> bool:
    """The resident sender thread runs when there is no Redis, outside tests, unless switched off."""
    flag = app.config.get("SMS_EMBEDDED_SENDER", "1")
    on = str(flag).lower() not in ("0", "false", "no", "off", "")
    return on and not app.config.get("REDIS_URL") and not app.config.get("TESTING")


def init_app(app: Flask) -> None:
    """Register the Twilio webhooks and start the embedded sender where configured."""
    from ..extensions import csrf
    from .webhooks import bp

    load_settings(app)
    csrf.exempt(bp)  # Twilio cannot send a CSRF token; the request signature protects these
    app.register_blueprint(bp)
    if embedded_enabled(app):
        _start_on_first_request(app)


def _start_on_first_request(app: Flask) -> None:
    """Start the sender thread with the first request of a web process (not in CLI commands or
    RQ workers); its first pass resumes campaigns a restart interrupted."""
    lock = threading.Lock()

    @app.before_request
    def _ensure_sender() -> None:
        if "sms_embedded" in app.extensions:
            return
        with lock:
            if "sms_embedded" not in app.extensions:
                from .runners import start_embedded

                start_embedded(app)
