"""Historial: record who did what.

Two ways in: :func:`record` for what is not a row change (bulk actions, exports, SMS
campaigns), and an automatic capture of every ORM create, update (changed fields,
before → after) and delete of the audited models, for the panel and the API alike.
The capture runs in any web request and inside :func:`capturing` elsewhere (CLI, jobs);
set-based UPDATE/DELETE statements bypass it and are recorded by their caller.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from flask import g, has_request_context
from flask_login import current_user
from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect

from . import formatting
from .extensions import db
from .models import Historial, TenantScoped, Usuario
from .tenancy import current_scope

AUDITED = (
    "Cliente",
    "Empresa",
    "CampanaPublicitaria",
    "Vehiculo",
    "MovimientoCapital",
    "Venta",
    "PlantillaSMS",
    "Usuario",
    "Pais",
    "Departamento",
    "Ciudad",
)
SECRETS = {"password_hash"}
# Noise in the history: changes on every update, or derived from what the history already shows.
SKIPPED = {"actualizado", "sesion_version", "busqueda", "telefono_e164"}
# Phone verification writes its own entries (panel/sms/verificacion.py); its columns are noise here.
SKIPPED |= {"telefono_verificado", "codigo_hash", "codigo_expira", "codigo_intentos"}
SKIPPED |= {"codigos_enviados", "codigos_desde"}

_capture_as: ContextVar[int | None | bool] = ContextVar("audit_capture_as", default=False)


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
    if usuario_id is None:
        usuario_id = _actor()
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


@contextmanager
def capturing(usuario_id: int | None = None) -> Iterator[None]:
    """Capture row changes outside a web request too (e.g. a CLI command acting for a user)."""
    token = _capture_as.set(usuario_id)
    try:
        yield
    finally:
        _capture_as.reset(token)


def _actor() -> int | None:
    forced = _capture_as.get()
    if forced is not False:
        return forced
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def _enabled() -> bool:
    return _capture_as.get() is not False or (has_request_context() and not g.get("audit_off"))


def _plain(value):
    """A JSON-friendly version of a column value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _columns(obj) -> list[str]:
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in SKIPPED]


def _snapshot(obj) -> dict:
    return {k: ("***" if k in SECRETS else _plain(getattr(obj, k))) for k in _columns(obj)}


def _changes(obj) -> dict:
    """{campo: [antes, después]} of the columns that really changed."""
    state, changed = inspect(obj), {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before != after:
            changed[key] = ["***", "***"] if key in SECRETS else [_plain(before), _plain(after)]
    return changed


def _owner(obj) -> int | None:
    """The tenant an entry belongs to: the row's; accounts hang from their admin."""
    if isinstance(obj, TenantScoped):
        return obj.id_propietario
    if isinstance(obj, Usuario):
        return obj.creado_por
    return None


def _entry(accion: str, obj, detalle: dict, actor: int | None) -> dict:
    pk = inspect(obj).mapper.primary_key_from_instance(obj)  # set by now, even on new rows
    objeto_id = ",".join(str(p) for p in pk)
    return dict(
        accion=accion,
        modelo=type(obj).__name__,
        objeto_id=objeto_id,
        filas=1,
        resumen=f"{accion.capitalize()} {type(obj).__name__}: {formatting.row_name(obj, objeto_id)}"[:255],
        detalle=detalle,
        id_usuario=actor,
        id_propietario=_owner(obj),
    )


def _entries(session) -> list[dict]:
    actor, rows = _actor(), []
    audited = [o for o in (*session.new, *session.dirty, *session.deleted) if type(o).__name__ in AUDITED]
    for obj in audited:
        if obj in session.new:
            rows.append(_entry("crear", obj, {"valores": _snapshot(obj)}, actor))
        elif obj in session.deleted:
            rows.append(_entry("eliminar", obj, {"valores": _snapshot(obj)}, actor))
        elif changes := _changes(obj):
            rows.append(_entry("editar", obj, {"cambios": changes}, actor))
    return rows


@event.listens_for(Session, "after_flush")
def _capture(session, flush_context) -> None:
    """Write the history of this flush in the same transaction (a Core INSERT: no re-flush)."""
    if not _enabled():
        return
    rows = _entries(session)
    if rows:
        session.connection().execute(Historial.__table__.insert(), rows)
