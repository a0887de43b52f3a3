"""Creating user accounts: one function for the CLI, the demo data and the panel, and the one
list of the tenants' admins (who a superadmin writes for, whom vendedores and clients hang from)."""

import sqlalchemy as sa

from .extensions import db
from .models import ROLES, Usuario
from .models.users import SHORT_PASSWORD, password_too_short


class UserError(ValueError):
    """A user that cannot be created as asked; the message says why, in Spanish."""


def admins_select(*columns):
    """SELECT ``columns`` (else the accounts) of the tenants' admins: one admin, one tenant."""
    return sa.select(*(columns or (Usuario,))).where(Usuario.rol == "admin")


def tenant_admins() -> list[Usuario]:
    """The tenants' admins the current scope sees, by email (a superadmin sees every one)."""
    return list(db.session.scalars(admins_select().order_by(Usuario.email)))


def create_user(
    email: str, password: str, rol: str, creado_por: str | None = None, nombre: str = ""
) -> Usuario:
    """Create and commit a user; vendedores and clientes hang from an admin (by its email)."""
    user = new_user(email, password, rol, creador=lambda: _creator_id(rol, creado_por), nombre=nombre)
    db.session.commit()
    return user


def new_user(
    email: str, password: str, rol: str, *, creador, nombre: str = "", activo: bool = True
) -> Usuario:
    """The one account creation: check the account, hash its password, add it to the session (the
    caller commits). ``creador()`` answers the id of the admin it hangs from (None for admins),
    asked after the account's own checks."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 120:
        raise UserError(f"Correo no válido: {email!r}")
    if rol not in ROLES:
        raise UserError(f"Rol desconocido {rol!r}; use uno de: {', '.join(ROLES)}")
    if password_too_short(password):
        raise UserError(SHORT_PASSWORD)
    if email_taken(email):
        raise UserError(f"Ya existe un usuario con el correo {email}")
    user = Usuario(email=email, rol=rol, nombre=nombre or "", activo=activo)
    user.set_password(password)
    user.creado_por = creador()
    db.session.add(user)
    return user


def email_taken(email: str, other_than: int | None = None) -> bool:
    """Whether another account has ``email``. Accounts of other tenants are invisible through the
    ORM: the table itself is asked."""
    table = Usuario.__table__
    query = sa.select(table.c.id).where(table.c.email == email)
    if other_than is not None:
        query = query.where(table.c.id != other_than)
    return db.session.connection().execute(query.limit(1)).first() is not None


def _creator_id(rol: str, creado_por: str | None) -> int | None:
    if rol in ("superadmin", "admin"):
        if creado_por:
            raise UserError(f"Un {rol} no depende de otro usuario (no use --creado-por)")
        return None
    if not creado_por:
        raise UserError(f"Un {rol} necesita --creado-por con el correo de su administrador")
    admin = db.session.scalar(sa.select(Usuario).where(Usuario.email == creado_por.strip().lower()))
    if admin is None or admin.rol != "admin":
        raise UserError(f"--creado-por debe ser el correo de un admin existente: {creado_por}")
    return admin.id
