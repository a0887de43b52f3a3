"""Login and logout pages, throttled against guessing; sessions the server can end."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import tenancy
from ..extensions import db, login_manager
from ..models import Usuario
from ..models.users import check_no_password
from . import sessions, throttle
from .login_form import LoginForm

bp = Blueprint("auth", __name__)

WRONG_LOGIN = "Correo o contraseña incorrectos."
TOO_MANY = "Demasiados intentos fallidos. Espere unos minutos e inténtelo de nuevo."


def safe_next(target: str | None) -> str | None:
    """Only a path of this site: never another host, never a scheme-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def authenticate(email: str, password: str) -> Usuario | None:
    """The user for these credentials, if they may log in to the panel."""
    user = db.session.scalar(sa.select(Usuario).where(Usuario.email == email.strip().lower()))
    if user is None:
        check_no_password(password)  # both paths cost one hash check
        return None
    if not user.check_password(password) or not user.can_log_in:
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; only failed attempts count towards the throttle (panel/auth/throttle.py)."""
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("admin.index"))
    email = request.form.get("email", "")
    if request.method == "POST" and throttle.blocked(email):
        return _throttled()  # the same answer whether the account exists or not
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            sessions.start(user)
            return redirect(next_url or url_for("admin.index"))
        error = WRONG_LOGIN
    elif request.method == "POST":
        error = "Revise el formulario: " + " ".join(e for errs in form.errors.values() for e in errs)
    if error:
        throttle.failed(email)
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """POST (CSRF-checked) logs out; GET only asks, so a link elsewhere cannot log anyone out."""
    if request.method == "GET" and current_user.is_authenticated:
        return render_template("auth/logout.html")
    if current_user.is_authenticated:
        end_sessions(current_user.id)  # a copy of this cookie, or any other session, ends too
    logout_user()
    return redirect(url_for("auth.login"))


def end_sessions(user_id: int) -> None:
    """Bump the user's session generation (a Core UPDATE: a logout is no row change of Historial)."""
    table = Usuario.__table__
    with db.engine.begin() as conn:
        conn.execute(
            table.update().where(table.c.id == user_id).values(sesion_version=table.c.sesion_version + 1)
        )


def _throttled():
    form = LoginForm()
    return render_template("auth/login.html", form=form, error=TOO_MANY, next_url=None), 429


@login_manager.user_loader
def _load_user(user_id: str) -> Usuario | None:
    """The session's user, if the session is still valid on the server (panel/auth/sessions.py)."""
    try:
        user = tenancy.load_user(int(user_id))
    except (TypeError, ValueError):
        return None
    return user if sessions.valid(user) else None


def init_app(app: Flask) -> None:
    hops = app.config.get("PROXY_FIX_HOPS") or 0
    if hops:  # behind N proxies: the client address is the one they vouch for
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Inicie sesión para continuar."
    login_manager.login_message_category = "warning"
    app.register_blueprint(bp)
