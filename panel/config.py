"""Settings read from the environment, typed and validated once at start-up."""

import os
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .clock import BOGOTA

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
DEV_SECRET = "solo-para-desarrollo-no-usar-en-produccion"
# A production secret guessable in less than 2**128 tries would let anyone forge a session.
MIN_SECRET_KEY = 32


class ConfigError(RuntimeError):
    """Bad configuration: start-up stops with this one-line message."""


# --- typed settings: the one table of names, defaults and rules --------------------------

_TRUE, _FALSE = ("1", "true", "yes", "on", "si", "sí"), ("0", "false", "no", "off")


def _hash_method(value: str) -> bool:
    """A password method werkzeug can hash with, tried once at start-up: its own parser knows
    what each method takes (scrypt's N a power of 2, a digest pbkdf2 can use), a copy would not."""
    from werkzeug.security import generate_password_hash

    try:
        generate_password_hash("prueba", method=value)
    except ValueError:  # an unknown method, a wrong argument, too much memory for scrypt
        return False
    return True


_CHECKS = {  # rule: (test, the Spanish reason a value breaks it)
    "non-negative": (lambda v: v >= 0, "no puede ser negativo"),
    "positive": (lambda v: v > 0, "debe ser mayor que cero"),
    "at-least-one": (lambda v: v >= 1, "debe ser al menos 1"),
    "fraction": (lambda v: 0 <= v < 1, "debe estar entre 0 y 1 (p. ej. 0.04)"),
    "hash-method": (_hash_method, "debe ser scrypt, scrypt:N:r:p o pbkdf2:sha256:iteraciones"),
}


@dataclass(frozen=True)
class Setting:
    """One setting: its name (config key and environment variable), default, type and rule."""

    name: str
    default: object
    kind: str  # float | int | bool | str | url
    rule: str | None = None  # a key of _CHECKS

    def parse(self, raw: object) -> object:
        """The typed value of ``raw`` (text or already typed); unset gives the default."""
        if raw is None or raw == "":
            return self.default
        value = _KINDS[self.kind](self.name, raw)
        if self.rule:
            test, reason = _CHECKS[self.rule]
            if not test(value):
                raise ConfigError(f"{self.name} {reason}, no {raw!r}")
        return value


def _float(name: str, raw: object) -> float:
    if isinstance(raw, bool):
        raise ConfigError(f"{name} debe ser un número, no {raw!r}")
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} debe ser un número, no {raw!r}") from None


def _int(name: str, raw: object) -> int:
    value = _float(name, raw)  # "abc" is "not a number" before it is "not whole"
    if not value.is_integer():
        raise ConfigError(f"{name} debe ser un número entero, no {raw!r}")
    return int(value)


def _bool(name: str, raw: object) -> bool:
    text = str(raw).strip().lower()
    if isinstance(raw, bool) or text in _TRUE + _FALSE:
        return raw if isinstance(raw, bool) else text in _TRUE
    raise ConfigError(f"{name} debe ser 1 o 0 (true/false, yes/no, on/off), no {raw!r}")


def _url(name: str, raw: object) -> str:
    parts = urlsplit(str(raw).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} debe ser una URL http:// o https://, no {raw!r}")
    return str(raw).strip().rstrip("/")


def _currency(name: str, raw: object) -> str:
    """An ISO 4217 code Babel knows (COP, USD…): the estimated cost is written with it."""
    from babel.numbers import get_currency_name

    code = str(raw).strip().upper()
    if len(code) != 3 or get_currency_name(code, locale="es_CO") == code:
        raise ConfigError(f"{name} debe ser un código de moneda ISO 4217 (COP, USD…), no {raw!r}")
    return code


def _decimal(name: str, raw: object) -> Decimal:
    """Money: exact (a price of 0.0500 per segment times 100,000 segments must not drift)."""
    try:
        value = Decimal(str(_float(name, raw))) if not isinstance(raw, str) else Decimal(raw.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ConfigError(f"{name} debe ser un número, no {raw!r}")
    return value


def _fernet_keys(name: str, raw: object) -> str:
    """One or more Fernet keys (comma-separated, newest first): each 32 url-safe base64 bytes."""
    import base64
    import binascii

    keys = [k.strip() for k in str(raw).split(",") if k.strip()]
    for key in keys:
        try:
            ok = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ConfigError(
                f"{name} debe ser una clave Fernet (32 bytes en base64 url-safe); genere una con: "
                "python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
    return ",".join(keys)


_KINDS = {
    "currency": _currency,
    "fernet": _fernet_keys,
    "decimal": _decimal,
    "float": _float,
    "int": _int,
    "bool": _bool,
    "str": lambda _name, raw: str(raw),
    "url": _url,
}

SETTINGS = (
    # The sender (panel/sms): pace, batches, retries, where it runs.
    Setting("SMS_RATE_PER_SECOND", 10.0, "float", "non-negative"),  # 0: no limit
    Setting("SMS_RATE_HEADROOM", 0.04, "float", "fraction"),  # pace this fraction under the rate
    Setting("SMS_RATE_KEY", "panel:sms", "str"),  # senders with one key share one budget
    Setting("SMS_RATE_STORAGE_URI", None, "str"),  # the limit's storage; default REDIS_URL, else memory
    Setting("SMS_SYNC_WAIT", 5.0, "float", "non-negative"),  # the API's wait before a 202
    Setting("SMS_EMBEDDED_SENDER", True, "bool"),  # the sender thread of a web process (no REDIS_URL)
    Setting("SMS_QUEUE", "sms", "str"),  # RQ queue name
    Setting("SMS_JOBS_PER_CAMPAIGN", 2, "int", "at-least-one"),  # claim-loop jobs per campaign
    Setting("SMS_JOB_TIMEOUT", 3600, "int", "at-least-one"),  # seconds before RQ stops a job
    Setting("SMS_BATCH_SIZE", 16, "int", "at-least-one"),  # rows per claim
    Setting("SMS_CONCURRENCY", 16, "int", "at-least-one"),  # Twilio calls in flight per sender
    Setting("SMS_MAX_ATTEMPTS", 4, "int", "at-least-one"),  # attempts for a retryable failure
    Setting("SMS_RETRY_BACKOFF", 0.5, "float", "non-negative"),  # first backoff, doubled per attempt
    Setting("SMS_CLAIM_TIMEOUT", 300.0, "float", "non-negative"),  # seconds before enviando is abandoned
    Setting("SMS_ABORT_AFTER", 3, "int", "at-least-one"),  # rows exhausting retries that stop a campaign
    Setting(
        "SMS_PREPARE_FROM", 20000, "int", "at-least-one"
    ),  # recipients from which the outbox is written in the background
    Setting(
        "SMS_PREPARE_STALE", 120.0, "float", "positive"
    ),  # seconds without a checkpoint before a preparation is resumed
    Setting("SMS_POLL_SECONDS", 5.0, "float", "positive"),  # how often senders and RQ pollers look for work
    # Imports of clients (panel/importing): the RQ queue and how long one may run.
    Setting("IMPORT_QUEUE", "import", "str"),
    Setting("IMPORT_JOB_TIMEOUT", 3600, "int", "at-least-one"),
    Setting("IMPORT_HEARTBEAT_SECONDS", 120.0, "float", "positive"),  # a silent worker is dead after this
    Setting("IMPORT_MAX_BYTES", 20 * 1024 * 1024, "int", "positive"),  # an uploaded file (SPEC §17)
    Setting("IMPORT_PROCESOS", 2, "int", "at-least-one"),  # processes validating a large preview
    Setting("IMPORT_PROCESOS_DESDE", 5000, "int", "at-least-one"),  # rows from which they are used
    # The Twilio boundary (panel/sms/client.py) and the app's public address (webhooks).
    Setting("TWILIO_API_BASE", "https://api.twilio.com", "url"),
    Setting("TWILIO_TIMEOUT", 10.0, "float", "positive"),  # read timeout of a Twilio call
    Setting("PUBLIC_BASE_URL", None, "url"),  # status callbacks and signature checks behind a proxy
    # Confirmation and test sends (panel/idempotency.py, "Enviar prueba"), the review's cost.
    Setting("IDEMPOTENCY_WAIT", 10.0, "float", "non-negative"),  # a duplicate waits this long for the first
    Setting("SMS_TEST_SENDS_PER_HOUR", 10, "int", "at-least-one"),  # "Enviar prueba" per user and hour
    Setting("SMS_TEST_SENDS_PER_DAY", 50, "int", "at-least-one"),  # "Enviar prueba" per tenant and Bogotá day
    Setting("SMS_VERIFY_CODES_PER_HOUR", 5, "int", "at-least-one"),  # codes of "Verificar" per user and hour
    Setting("SMS_TEST_OTHER_COUNTRIES", False, "bool"),  # test phones abroad (operator decides)
    # Pesos by default: a typical Colombian bulk-SMS price per segment (docs/decisions.md, "staff").
    Setting("SMS_PRICE_PER_SEGMENT", Decimal("25"), "decimal", "non-negative"),
    Setting("SMS_PRICE_CURRENCY", "COP", "currency"),  # ISO 4217 code of SMS_PRICE_PER_SEGMENT
    Setting("TWILIO_SIMULATION_TOKEN", None, "str"),  # simulation: the webhooks' secret; unset: off
    # Fernet key(s) that encrypt each tenant's own Twilio Auth Token (panel/secretos.py), newest
    # first, comma-separated while rotating; required once a tenant stores a token.
    Setting("PANEL_ENCRYPTION_KEY", None, "fernet"),
    # Sessions and logins (panel/auth). Passwords are hashed with werkzeug's method (scrypt,
    # N = 2¹⁵ by default); the tests set a lighter one, so their logins cost no ~0.1 s each.
    Setting("PASSWORD_HASH_METHOD", "scrypt", "str", "hash-method"),
    Setting("PROXY_FIX_HOPS", 0, "int", "non-negative"),  # proxies whose X-Forwarded-For is trusted
    # Hostile input (panel/security.py): the largest request body, in bytes; bigger is a 413
    # before it is parsed (the client import's larger upload has its own, panel/security.py).
    Setting("MAX_CONTENT_LENGTH", 25 * 1024 * 1024, "int", "positive"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def defaults() -> dict:
    """Every typed setting at its default."""
    return {setting.name: setting.default for setting in SETTINGS}


def typed(values: dict) -> dict:
    """``values`` with each typed setting parsed and checked (other keys pass as they are)."""
    return {k: BY_NAME[k].parse(v) if k in BY_NAME else v for k, v in values.items()}


def from_typed_environment() -> dict:
    """Every typed setting from its environment variable, else its default."""
    return {setting.name: setting.parse(os.environ.get(setting.name)) for setting in SETTINGS}


def is_simulation(config) -> bool:
    """True when no real Twilio credentials are configured: no SMS leaves the machine."""
    return not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"))


# --- the rest of the environment ---------------------------------------------------------


def database_url(raw: str | None) -> str:
    """Validate DATABASE_URL and give psycopg 3 to plain postgresql:// URLs."""
    if not raw:
        INSTANCE.mkdir(exist_ok=True)
        return f"sqlite:///{INSTANCE / 'panel.db'}"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL mal formada: {raw!r}") from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL: base de datos no soportada ({url.drivername})")
    return url.render_as_string(hide_password=False)


def _secret_key(env: str) -> str:
    """SECRET_KEY, required in production; a fixed development key elsewhere."""
    secret = os.environ.get("SECRET_KEY")
    if env == "production" and not secret:
        raise ConfigError(
            "SECRET_KEY es obligatoria en producción "
            "(defínala, o use PANEL_ENV=development en una máquina de desarrollo)"
        )
    return secret or DEV_SECRET


def check_secret(values: dict) -> None:
    """In production the final SECRET_KEY (environment or explicit mapping) is long enough."""
    secret = values.get("SECRET_KEY") or ""
    if values.get("PANEL_ENV") == "production" and len(secret) < MIN_SECRET_KEY:
        raise ConfigError(
            f"SECRET_KEY debe tener al menos {MIN_SECRET_KEY} caracteres en producción "
            f"(tiene {len(secret)}); genere una con: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def from_environment(default_env: str = "production") -> dict:
    """Build the configuration mapping from environment variables."""
    env = os.environ.get("PANEL_ENV", default_env)
    if env not in ("production", "development", "testing"):
        raise ConfigError(f"PANEL_ENV debe ser production, development o testing, no {env!r}")
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "PANEL_ENV": env,
        "SECRET_KEY": _secret_key(env),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        "REDIS_URL": redis_url,
        "SESSION_COOKIE_SECURE": env == "production",
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER") or None,
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        **from_typed_environment(),
    }


def load(overrides: dict | None = None) -> dict:
    """The app's configuration: fixed values, the environment, then an explicit mapping (tests).

    An explicit mapping defaults PANEL_ENV to testing and wins over the environment; its typed
    settings are parsed and checked like the environment's."""
    values = {name: value for name, value in vars(Defaults).items() if name.isupper()}
    values |= from_environment(default_env="testing" if overrides else "production")
    values |= typed(overrides or {})
    check_secret(values)
    return values


class Defaults:
    """Values that do not come from the environment."""

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A session lasts at most 8 h from login (checked on the server, panel/auth/sessions.py);
    # its CSRF tokens expire with it.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    BABEL_DEFAULT_LOCALE = "es"
    BABEL_DEFAULT_TIMEZONE = BOGOTA.key
    FLASK_ADMIN_SWATCH = "default"
    # Throttle failed logins; successful ones do not count.
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 5 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "100 per 5 minutes"
    LOGIN_THROTTLE_PREFIX = "panel:login"  # the Redis keys of the counters (with REDIS_URL)
