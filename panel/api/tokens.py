"""API tokens: created for staff users, shown once, stored as SHA-256, revocable."""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import ApiToken, Usuario, utcnow
from ..models.users import may_hold_token

# ultimo_uso is a hint, not an audit trail: write it at most once a minute per token.
LAST_USE_PRECISION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be created as asked; the message says why, in Spanish."""


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: Usuario, nombre: str = "") -> tuple[ApiToken, str]:
    """Add (not commit) a token for ``user``; returns it with the clear key, never stored."""
    if not may_hold_token(user):
        raise TokenError(f"Los usuarios con rol {user.rol} no pueden tener token de API.")
    if not user.activo:
        raise TokenError("El usuario está inactivo.")
    key = secrets.token_urlsafe(32)
    token = ApiToken(
        id_usuario=user.id, nombre=(nombre or "").strip()[:100], prefijo=key[:8], token_hash=hash_token(key)
    )
    db.session.add(token)
    db.session.flush()  # its id, for the Historial
    _record("crear", token, user, "creado")
    return token, key


def revoke_token(token: ApiToken) -> None:
    """Revoke (not commit) ``token``: the key stops working at once; recorded in the Historial."""
    if token.revocado:
        return
    token.revocado = True
    _record("editar", token, db.session.get(Usuario, token.id_usuario), "revocado")


def _record(accion: str, token: ApiToken, owner: Usuario, verbo: str) -> None:
    """The Historial entry of a token (SPEC §18): its name and the prefix the tokens page shows,
    whose it is and (the entry's user) who acted, never the key nor its hash."""
    audit.record(
        accion,
        "ApiToken",
        objeto_id=token.id,
        id_propietario=owner.tenant_id,
        resumen=f"Token de API «{token.nombre}» ({token.prefijo}…) de {owner.email} {verbo}",
        detalle={"valores": {"nombre": token.nombre, "prefijo": f"{token.prefijo}…", "id_usuario": owner.id}},
    )


def user_for_key(key: str) -> Usuario | None:
    """The active staff user owning a live token with this key; records its use."""
    if not key or len(key) > 200:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(key)))
    if token is None or token.revocado:
        return None
    user = db.session.get(Usuario, token.id_usuario)
    if user is None or not user.activo or not may_hold_token(user):
        return None
    now = utcnow()
    if token.ultimo_uso is None or now - token.ultimo_uso >= LAST_USE_PRECISION:
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(ultimo_uso=now))
        db.session.commit()
    return user


def key_from_header(value: str | None) -> str | None:
    """The key of ``Token <key>`` or ``Bearer <key>``; None for anything else."""
    parts = (value or "").split()
    if len(parts) != 2 or parts[0].lower() not in ("token", "bearer"):
        return None
    return parts[1]
