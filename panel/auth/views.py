"""Login and logout pages, throttled against guessing."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, limiter, login_manager
from ..models import Usuario
from .forms import LoginForm

bp = Blueprint("auth", __name__)

WRONG_LOGIN = "Correo o contraseña incorrectos."
TOO_MANY = "Demasiados intentos fallidos. Espere unos minutos e inténtelo de nuevo."
# Compared against when the account does not exist, so both paths cost one hash check.
_DUMMY_HASH = generate_password_hash("contraseña-que-no-existe")


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


def _account_key() -> str:
    return "login-cuenta:" + (request.form.get("email") or "").strip().lower()


def _failed(response) -> bool:
    """Only failed attempts count towards the throttle."""
    return response.status_code != 302


def authenticate(email: str, password: str) -> Usuario | None:
    """The user for these credentials, if they may log in to the panel."""
    user = db.session.scalar(sa.select(Usuario).where(Usuario.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.can_log_in:
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed)
def login():
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("admin.index"))
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(next_url or url_for("admin.index"))
        error = WRONG_LOGIN
    elif request.method == "POST":
        error = "Revise el formulario: " + " ".join(e for errs in form.errors.values() for e in errs)
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """POST (CSRF-checked) logs out; GET only asks, so a link elsewhere cannot log anyone out."""
    if request.method == "GET" and current_user.is_authenticated:
        return render_template("auth/logout.html")
    logout_user()
    return redirect(url_for("auth.login"))


@bp.errorhandler(RateLimitExceeded)
def _throttled(exc):
    form = LoginForm()
    return render_template("auth/login.html", form=form, error=TOO_MANY, next_url=None), 429


@login_manager.user_loader
def _load_user(user_id: str) -> Usuario | None:
    try:
        return db.session.get(Usuario, int(user_id))
    except (TypeError, ValueError):
        return None


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Inicie sesión para continuar."
    login_manager.login_message_category = "warning"
    app.register_blueprint(bp)
