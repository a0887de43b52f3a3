"""Consent evidence for ``Cliente.acepta_sms`` (Habeas Data, Ley 1581 de 2012): every change is
recorded with when, how (``fuente``) and who, and keeps the tenant's own exclusion list in step.

ORM writes (the panel form, the API, imports) are caught on flush: the source is the one set
with :func:`using` (the API: "API", an import: "importación"), else "formulario" in a request.
Core writes (the opt-out webhook, Twilio's error 21610) call :func:`record_opt_out`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .clock import utcnow
from .models import Cliente, ConsentimientoSMS, NumeroExcluidoPropio

_source: ContextVar[str | None] = ContextVar("consent_source", default=None)


@contextmanager
def using(fuente: str) -> Iterator[None]:
    """Record the consent changes of this block with ``fuente`` (e.g. "importación")."""
    token = _source.set(fuente)
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str:
    if (fuente := _source.get()) is not None:
        return fuente
    return "formulario" if has_request_context() else "sistema"


def _actor() -> int | None:
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.id
    return None


def _changed(session: Session) -> Iterator[Cliente]:
    """Clients whose consent is new (a new client) or was changed in this flush."""
    for obj in session.new:
        if isinstance(obj, Cliente):
            yield obj
    for obj in session.dirty:
        if isinstance(obj, Cliente) and inspect(obj).attrs.acepta_sms.history.has_changes():
            yield obj


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, flush_context) -> None:
    """One evidence row per change, and the tenant's exclusion list kept in step; written with
    Core on the flush's connection, once the clients have their ids and tenant."""
    changed = list(_changed(session))
    if not changed:
        return
    conn, fuente, actor, now = session.connection(), current_source(), _actor(), utcnow()
    rows = [
        {"id_cliente": c.id_cliente, "acepta": bool(c.acepta_sms), "fuente": fuente, "id_usuario": actor}
        | {"fecha": now, "id_propietario": c.id_propietario}
        for c in changed
    ]
    conn.execute(ConsentimientoSMS.__table__.insert(), rows)
    for c in changed:
        if c.telefono_e164:
            _sync_exclusion(conn, c.id_propietario, c.telefono_e164, bool(c.acepta_sms), fuente)


def _sync_exclusion(conn, tenant: int, numero: str, acepta: bool, motivo: str) -> None:
    """Withdrawn consent puts the number on the tenant's list; given consent takes it off."""
    table = NumeroExcluidoPropio.__table__
    conn.execute(table.delete().where(table.c.id_propietario == tenant, table.c.numero == numero))
    if not acepta:
        values = {
            "id_propietario": tenant,
            "numero": numero,
            "motivo": f"Baja ({motivo})",
            "creado": utcnow(),
        }
        conn.execute(table.insert().values(**values))


def record_reply(conn, tenant: int, numero: str, acepta: bool, fuente: str = "respuesta SMS") -> int:
    """A number opted out (or back in) outside the ORM, e.g. by an SMS reply: its clients of
    ``tenant`` change ``acepta_sms``, each change is recorded, and the tenant's exclusion list
    follows. Returns how many clients changed."""
    cliente, consent = Cliente.__table__, ConsentimientoSMS.__table__
    stmt = sa.select(cliente.c.id_cliente).where(
        cliente.c.id_propietario == tenant,
        cliente.c.telefono_e164 == numero,
        cliente.c.acepta_sms.is_(not acepta),
    )
    ids = list(conn.scalars(stmt))
    if ids:
        conn.execute(cliente.update().where(cliente.c.id_cliente.in_(ids)).values(acepta_sms=acepta))
        row = {"acepta": acepta, "fuente": fuente, "fecha": utcnow(), "id_propietario": tenant}
        conn.execute(consent.insert(), [row | {"id_cliente": i} for i in ids])
    _sync_exclusion(conn, tenant, numero, acepta, fuente)
    return len(ids)


def record_opt_out(conn, tenant: int, numero: str, fuente: str = "respuesta SMS") -> int:
    """:func:`record_reply` for a withdrawal (Twilio's error 21610, a SALIR reply)."""
    return record_reply(conn, tenant, numero, False, fuente)
