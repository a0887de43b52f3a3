"""Creating user accounts: one function for the CLI, the demo data and the panel."""

import sqlalchemy as sa

from .extensions import db
from .models import ROLES, Usuario


class UserError(ValueError):
    """A user that cannot be created as asked; the message says why, in Spanish."""


def create_user(
    email: str, password: str, rol: str, creado_por: str | None = None, nombre: str = ""
) -> Usuario:
    """Create and commit a user; vendedores and clientes hang from an admin."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 120:
        raise UserError(f"Correo no válido: {email!r}")
    if rol not in ROLES:
        raise UserError(f"Rol desconocido {rol!r}; use uno de: {', '.join(ROLES)}")
    if len(password or "") < 8:
        raise UserError("La contraseña debe tener al menos 8 caracteres")
    if db.session.scalar(sa.select(Usuario.id).where(Usuario.email == email)):
        raise UserError(f"Ya existe un usuario con el correo {email}")
    user = Usuario(email=email, rol=rol, nombre=nombre or "", activo=True)
    user.set_password(password)
    user.creado_por = _creator_id(rol, creado_por)
    db.session.add(user)
    db.session.commit()
    return user


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
