"""Usuarios (staff and client accounts) and their API tokens."""

import functools
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.local import LocalProxy
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..formatting import LABELS
from .base import NEVER_REUSE_IDS, utcnow

ROLES = ("superadmin", "admin", "vendedor", "cliente")
ROLE_LABELS = LABELS["rol"]

# Who may do what, in the spirit of Django's has_*_permission: the one home of permissions
# (SPEC §18). Every view, endpoint and template asks a function below; none tests ``rol`` itself.
STAFF = ("superadmin", "admin", "vendedor")  # may log in to the panel and the API
WRITERS = ("superadmin", "admin")  # may create, edit and delete the tenant's data
SUPERADMIN = ("superadmin",)
TENANT_ADMIN = ("admin",)

# The shortest password any account may have (the CLI, the user form, "Mi cuenta").
MIN_PASSWORD = 8
SHORT_PASSWORD = f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres."


def password_too_short(password: str | None) -> bool:
    return len(password or "") < MIN_PASSWORD


def hash_password(password: str) -> str:
    """The stored form of ``password``, with the configured method (PASSWORD_HASH_METHOD)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_no_password(password: str) -> None:
    """What a login with an unknown e-mail costs: one check of the same method, against a hash of
    a password nobody has, so the time does not tell whether the account exists."""
    check_password_hash(_unknown_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)


@functools.cache
def _unknown_hash(method: str) -> str:
    return generate_password_hash("contraseña-que-no-existe", method=method)


def has_role(user, roles) -> bool:
    """``user`` is logged in with one of ``roles`` (False for anonymous users)."""
    if isinstance(user, LocalProxy):  # current_user: looked up once, not once per attribute (a
        user = user._get_current_object()  # list page asks ~60 times)
    return bool(getattr(user, "is_authenticated", False)) and user.rol in roles


def is_staff(user) -> bool:
    """Staff get into the panel and the API; client accounts never do."""
    return has_role(user, STAFF)


def can_write(user) -> bool:
    """Create, edit and delete rows of the tenant (vendedores are read-only)."""
    return has_role(user, WRITERS)


def can_export(user) -> bool:
    """Export lists to CSV/XLSX (not vendedores)."""
    return has_role(user, WRITERS)


def can_send_transactional(user) -> bool:
    """Only an admin may exempt a campaign from the contact window and the cap (SPEC §10)."""
    return has_role(user, WRITERS)


def can_send_sms(user) -> bool:
    """Send SMS campaigns to the tenant's clients (every staff role)."""
    return has_role(user, STAFF)


def can_read(user) -> bool:
    """List, search and view the tenant's clients, templates and campaigns (every staff role)."""
    return has_role(user, STAFF)


def can_steer(user, campana) -> bool:
    """Pause, resume, cancel or retry a campaign (SPEC §15): an admin of its tenant, the
    superadmin, or the user who sent it. The tenant is the caller's lookup (the tenancy hook
    answers 404 for another tenant's campaign before this is asked)."""
    if not is_staff(user):
        return False
    return has_role(user, WRITERS) or campana.id_usuario == user.id


def can_manage_users(user) -> bool:
    """Create and edit accounts: an admin its vendedores and clientes, the superadmin all."""
    return has_role(user, WRITERS)


def can_manage_user(user, other) -> bool:
    """Change (edit, deactivate, delete) the account ``other``: the superadmin any, an admin
    only those it created (it may look at its own, not change it here)."""
    return has_role(user, SUPERADMIN) or (has_role(user, WRITERS) and other.creado_por == user.id)


def assignable_roles(user) -> tuple[str, ...]:
    """The roles ``user`` may give an account it creates or edits."""
    if has_role(user, SUPERADMIN):
        return ROLES
    return ("vendedor", "cliente") if has_role(user, WRITERS) else ()


def can_manage_tokens(user) -> bool:
    """Create and revoke API tokens (for the accounts the user sees)."""
    return has_role(user, WRITERS)


def may_hold_token(user) -> bool:
    """Whose account may carry an API token: staff, never a cliente account."""
    return bool(user is not None and user.rol in STAFF)


def can_see_historial(user) -> bool:
    """Read the Historial (the audit trail) of the tenant; vendedores do not."""
    return has_role(user, WRITERS)


def can_import(user) -> bool:
    """Import clients from a file (it creates and updates rows: a writer's act)."""
    return has_role(user, WRITERS)


def can_configure_sending(user) -> bool:
    """The tenant's settings (Configuración → Envío de SMS): its own admin, since they are the
    tenant's (the superadmin has none)."""
    return has_role(user, TENANT_ADMIN)


def can_read_catalogs(user) -> bool:
    """Look at the shared reference data (países, departamentos, ciudades): admins too (SPEC §16)."""
    return has_role(user, WRITERS)


def can_manage_catalogs(user) -> bool:
    """Change the shared reference data (países, departamentos, ciudades): the superadmin only (SPEC §3)."""
    return has_role(user, SUPERADMIN)


def can_load_rne(user) -> bool:
    """Load the Registro de Números Excluidos: it binds every tenant, so the superadmin only."""
    return has_role(user, SUPERADMIN)


def sees_every_tenant(user) -> bool:
    """The superadmin has no tenant of its own: it sees every one and, to write, picks one."""
    return has_role(user, SUPERADMIN)


class Usuario(UserMixin, db.Model):
    __tablename__ = "usuario"
    __table_args__ = (
        CheckConstraint("rol IN ('superadmin', 'admin', 'vendedor', 'cliente')", name="rol"),
        # Only vendedores and clientes hang from an admin; admins and superadmins from no one.
        CheckConstraint(
            "(rol IN ('vendedor', 'cliente')) = (creado_por IS NOT NULL)",
            name="creado_por",
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    nombre: Mapped[str] = mapped_column(String(120), default="")
    rol: Mapped[str] = mapped_column(String(20), index=True)
    creado_por: Mapped[int | None] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True)
    activo: Mapped[bool] = mapped_column(default=True)
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    # Where "Enviar prueba" sends (edited in "Mi cuenta"): as typed, a Colombian mobile or E.164.
    telefono: Mapped[str | None] = mapped_column(String(20))
    # Phone verification (panel/sms/verificacion.py): the E.164 number the user proved is theirs
    # (NULL: none); the pending code, only as an HMAC, with its expiry and wrong tries; and the
    # codes sent in the hour that started at codigos_desde (the limit on "Verificar").
    telefono_verificado: Mapped[str | None] = mapped_column(String(20))
    codigo_hash: Mapped[str | None] = mapped_column(String(64))
    codigo_expira: Mapped[datetime | None]
    codigo_intentos: Mapped[int] = mapped_column(default=0, server_default="0")
    codigos_enviados: Mapped[int] = mapped_column(default=0, server_default="0")
    codigos_desde: Mapped[datetime | None]
    # The generation of the user's sessions: a session carries the one it was opened with, and
    # bumping it (logout, new password, deactivation) ends every session of the user at once.
    sesion_version: Mapped[int] = mapped_column(default=0, server_default="0")

    creador: Mapped["Usuario | None"] = relationship(remote_side=[id])

    def set_password(self, password: str) -> None:
        """Store the new password hashed; every open session of the user ends."""
        self.password_hash = hash_password(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Bump the session generation: every session cookie of this user stops working."""
        self.sesion_version = (self.sesion_version or 0) + 1

    @validates("activo")
    def _deactivating_ends_sessions(self, key, activo):
        if self.activo and not activo:
            self.end_sessions()
        return activo

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def tenant_id(self) -> int | None:
        """The admin whose data this user works on; None for superadmin (all tenants)."""
        if self.rol == "superadmin":
            return None
        if self.rol == "admin":
            return self.id
        return self.creado_por

    @property
    def can_log_in(self) -> bool:
        return self.activo and self.rol != "cliente"

    @property
    def is_active(self) -> bool:  # Flask-Login: clientes and inactive users never get a session
        return self.can_log_in

    def __str__(self) -> str:
        return f"{self.nombre} <{self.email}>" if self.nombre else self.email


class ApiToken(db.Model):
    """An API key: only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_usuario: Mapped[int] = mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True)
    nombre: Mapped[str] = mapped_column(String(100), default="")
    prefijo: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    creado: Mapped[datetime] = mapped_column(default=utcnow)
    ultimo_uso: Mapped[datetime | None]
    revocado: Mapped[bool] = mapped_column(default=False)

    usuario: Mapped[Usuario] = relationship()
