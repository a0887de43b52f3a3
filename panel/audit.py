"""Historial: record who did what. One function every write path calls."""

from flask import has_request_context
from flask_login import current_user

from .extensions import db
from .models import Historial
from .tenancy import current_scope


def record(
    accion: str,
    modelo: str,
    *,
    filas: int = 1,
    objeto_id=None,
    resumen: str = "",
    detalle: dict | None = None,
    id_propietario: int | None = None,
    usuario_id: int | None = None,
) -> Historial:
    """Add a Historial row to the current transaction (the caller commits with its own change)."""
    if usuario_id is None and has_request_context() and current_user.is_authenticated:
        usuario_id = current_user.id
    if id_propietario is None:
        id_propietario = current_scope().tenant_id
    entry = Historial(
        accion=accion,
        modelo=modelo,
        filas=filas,
        resumen=resumen[:255],
        detalle=detalle,
        objeto_id=None if objeto_id is None else str(objeto_id),
        id_usuario=usuario_id,
        id_propietario=id_propietario,
    )
    db.session.add(entry)
    return entry
