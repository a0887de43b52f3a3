"""Who is calling the API: an API token, or the panel session (CSRF on unsafe methods).

An ``Authorization: Token <key>`` (or ``Bearer``) header on an API path decides the request's
user before anything else runs — before the tenancy hook reads ``current_user`` to set the
scope, and before the panel session is looked at: the credential a client sends explicitly
wins, and a bad one is a 401 even with a session cookie. The user is never logged in, so a
token request gets no session cookie.
"""

from collections.abc import Callable
from functools import wraps

from flask import Flask, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..extensions import csrf, login_manager
from ..models.users import is_staff
from .error_responses import ApiError, is_api_path
from .tokens import key_from_header, user_for_key

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PROTECTED: set[str] = set()  # the blueprints guard() protects (their OPTIONS: api/options.py)


def authenticate_token() -> None:
    """Before every request: a token header on an API path sets the user of the request."""
    if not is_api_path():
        return
    key = key_from_header(request.headers.get("Authorization"))
    if key is None:
        return
    g.api_auth = "token"
    # Flask-Login keeps the request's user in g._login_user; current_user reads it from there.
    g._login_user = user_for_key(key) or login_manager.anonymous_user()


def guard() -> None:
    """Before every API view: 401 without credentials, CSRF for session writes."""
    if not current_user.is_authenticated:
        raise ApiError(401, "Token inválido." if g.get("api_auth") == "token" else None)
    if not is_staff(current_user):
        raise ApiError(403)
    if g.get("api_auth") != "token" and request.method not in SAFE_METHODS:
        try:
            csrf.protect()
        except CSRFError as exc:
            raise ApiError(403, f"CSRF: {exc.description} Envíe la cabecera X-CSRFToken.") from None


def requires(permission: Callable) -> Callable:
    """Only users ``permission`` allows (e.g. ``can_write``) may call the view; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not permission(current_user):
                raise ApiError(403, "Su rol no permite esta acción.")
            return view(*args, **kwargs)

        wrapper.permission = permission  # what OPTIONS asks before listing a write (api/options.py)
        return wrapper

    return decorator


def protect_blueprint(bp) -> None:
    """Exempt ``bp`` from the global CSRF check (tokens need none) and guard it here instead."""
    csrf.exempt(bp)
    bp.before_request(guard)
    PROTECTED.add(bp.name)


def init_app(app: Flask) -> None:
    """Run the token check first of all before_request functions (the tenancy one included)."""
    app.before_request_funcs.setdefault(None, []).insert(0, authenticate_token)
