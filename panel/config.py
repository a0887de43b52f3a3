"""Settings read from the environment, validated once at start-up."""

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"
DEV_SECRET = "solo-para-desarrollo-no-usar-en-produccion"


class ConfigError(RuntimeError):
    """Bad configuration: start-up stops with this one-line message."""


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} debe ser un número, no {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} no puede ser negativo")
    return value


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


def from_environment(default_env: str = "production") -> dict:
    """Build the configuration mapping from environment variables."""
    env = os.environ.get("PANEL_ENV", default_env)
    if env not in ("production", "development", "testing"):
        raise ConfigError(f"PANEL_ENV debe ser production, development o testing, no {env!r}")
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if env == "production":
            raise ConfigError(
                "SECRET_KEY es obligatoria en producción "
                "(defínala, o use PANEL_ENV=development en una máquina de desarrollo)"
            )
        secret = DEV_SECRET
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "PANEL_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "SESSION_COOKIE_SECURE": env == "production",
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER") or None,
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "TWILIO_API_BASE": os.environ.get("TWILIO_API_BASE", "https://api.twilio.com"),
        "SMS_RATE_PER_SECOND": _env_float("SMS_RATE_PER_SECOND", 10.0),
        "SMS_SYNC_WAIT": _env_float("SMS_SYNC_WAIT", 5.0),
    }


class Defaults:
    """Values that do not come from the environment."""

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    BABEL_DEFAULT_LOCALE = "es"
    BABEL_DEFAULT_TIMEZONE = "America/Bogota"
    FLASK_ADMIN_SWATCH = "default"
    # Throttle failed logins; successful ones do not count.
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 5 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "20 per 5 minutes"
