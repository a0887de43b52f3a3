"""Consent has one path (SPEC §10, §18): every change of ``Cliente.acepta_sms`` and of the
tenant's own exclusion list is written by :func:`record`, which keeps the Habeas Data evidence
(Ley 1581 de 2012: when, how — ``fuente`` — and who) and the exclusion list in step.

The ways in, all ending in :func:`record`:

- ORM writes (the panel form, the API, the demo data) are caught on flush: the source is the one
  set with :func:`using` (the API: "API"), else "formulario" in a request, else "sistema".
- An import writes its chunks with Core and calls :func:`record` itself (panel/importing/writing.py).
- A number's change outside the ORM — an SMS reply, Twilio's error 21610 on a send, a number
  added to or removed from Configuración → Exclusiones by hand — is :func:`record_number`.
- An opt-in by SMS (START, ALTA, ACEPTO) is :func:`record_opt_in_reply`: it undoes only what an
  SMS reply did; a withdrawal by form, API, import, Twilio or by hand stays until an admin
  changes it.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .clock import utcnow
from .models import Cliente, ConsentimientoSMS, NumeroExcluidoPropio
from .models.envio import (
    FUENTE_A_MANO,
    FUENTE_API,
    FUENTE_FORMULARIO,
    FUENTE_IMPORTACION,
    FUENTE_RESPUESTA_SMS,
    FUENTE_SISTEMA,
    FUENTE_TWILIO_21610,
    FUENTES,
)

__all__ = [
    "FUENTE_A_MANO",
    "FUENTE_API",
    "FUENTE_FORMULARIO",
    "FUENTE_IMPORTACION",
    "FUENTE_RESPUESTA_SMS",
    "FUENTE_SISTEMA",
    "FUENTE_TWILIO_21610",
]

CHUNK = 500  # numbers per IN (…): well under SQLite's bound-parameter limit
_source: ContextVar[str | None] = ContextVar("consent_source", default=None)


@contextmanager
def using(fuente: str) -> Iterator[None]:
    """Record the consent changes of this block with ``fuente`` (e.g. "API")."""
    token = _source.set(_known(fuente))
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str:
    if (fuente := _source.get()) is not None:
        return fuente
    return FUENTE_FORMULARIO if has_request_context() else FUENTE_SISTEMA


def _known(fuente: str) -> str:
    """A source the history knows how to show; a typo is a bug, not a new kind of evidence."""
    if fuente not in FUENTES:
        raise ValueError(f"Fuente de consentimiento desconocida: {fuente!r}")
    return fuente


def _actor() -> int | None:
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.id
    return None


# --- the one path ----------------------------------------------------------------------------


def record(
    conn,
    tenant: int,
    fuente: str,
    *,
    clientes: Iterable[tuple[int, bool]] = (),
    numeros: dict[str, bool] | None = None,
    actor: int | None = None,
    motivo: str = "",
) -> None:
    """Write the evidence of each client's change (``clientes``: (id, acepta) whose
    ``acepta_sms`` was just written) and move each of ``numeros`` ({E.164: acepta}) on or off the
    tenant's exclusion list: withdrawn consent puts the number on it, given consent takes it off."""
    fuente, now = _known(fuente), utcnow()
    rows = [
        {"id_cliente": i, "acepta": bool(a), "fuente": fuente, "id_usuario": actor, "fecha": now}
        for i, a in clientes
    ]
    if rows and conn.dialect.name == "postgresql":
        _insert_evidence(conn, tenant, fuente, actor, now, rows)
    elif rows:
        conn.execute(ConsentimientoSMS.__table__.insert(), [r | {"id_propietario": tenant} for r in rows])
    if numeros:
        _exclude(conn, tenant, [n for n, a in numeros.items() if not a], fuente, motivo, now)
        _include(conn, tenant, [n for n, a in numeros.items() if a])


def _insert_evidence(conn, tenant: int, fuente: str, actor: int | None, now: datetime, rows) -> None:
    """PostgreSQL: the evidence of many clients as one statement over two arrays. An
    executemany is a statement per client on the server (an import's 1,000-row chunk: about
    twice the server's time and as many round trips in the pipeline; issue #27)."""
    conn.exec_driver_sql(
        "INSERT INTO consentimiento_sms (id_cliente, acepta, fuente, id_usuario, fecha, id_propietario) "
        "SELECT id_cliente, acepta, CAST(%(fuente)s AS VARCHAR), CAST(%(actor)s AS INTEGER), "
        "CAST(%(fecha)s AS TIMESTAMP), CAST(%(tenant)s AS INTEGER) "
        "FROM unnest(CAST(%(ids)b AS INTEGER[]), CAST(%(acepta)b AS BOOLEAN[])) AS t(id_cliente, acepta)",
        {
            "fuente": fuente,
            "actor": actor,
            "fecha": now,
            "tenant": tenant,
            "ids": [r["id_cliente"] for r in rows],
            "acepta": [r["acepta"] for r in rows],
        },
    )


def _exclude(conn, tenant: int, numeros: list[str], fuente: str, motivo: str, now: datetime) -> None:
    """Put the numbers on the list; one already there keeps its first source and date (a later
    SALIR must not turn a withdrawal by hand into one that a START could undo)."""
    table = NumeroExcluidoPropio.__table__
    for start in range(0, len(numeros), CHUNK):
        chunk = numeros[start : start + CHUNK]
        there = set(conn.scalars(sa.select(table.c.numero).where(_on_list(tenant, chunk))))
        fresh = [n for n in dict.fromkeys(chunk) if n not in there]
        values = {"id_propietario": tenant, "fuente": fuente, "motivo": motivo[:120], "creado": now}
        if fresh:
            conn.execute(table.insert(), [values | {"numero": n} for n in fresh])


def _include(conn, tenant: int, numeros: list[str]) -> None:
    table = NumeroExcluidoPropio.__table__
    for start in range(0, len(numeros), CHUNK):
        conn.execute(table.delete().where(_on_list(tenant, numeros[start : start + CHUNK])))


def _on_list(tenant: int, numeros: list[str]):
    table = NumeroExcluidoPropio.__table__
    return sa.and_(table.c.id_propietario == tenant, table.c.numero.in_(numeros))


# --- ORM writes: the panel form, the API ---------------------------------------------------------


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
    """Each changed client through :func:`record`, on the flush's connection, once the clients
    have their ids and tenant."""
    by_tenant: dict[int, list[Cliente]] = {}
    for c in _changed(session):
        by_tenant.setdefault(c.id_propietario, []).append(c)
    if not by_tenant:
        return
    conn, fuente, actor = session.connection(), current_source(), _actor()
    for tenant, changed in by_tenant.items():
        clientes = [(c.id_cliente, bool(c.acepta_sms)) for c in changed]
        numeros = {c.telefono_e164: bool(c.acepta_sms) for c in changed if c.telefono_e164}
        record(conn, tenant, fuente, clientes=clientes, numeros=numeros, actor=actor)


# --- a number's change outside the ORM ----------------------------------------------------------


def record_number(
    conn, tenant: int, numero: str, acepta: bool, fuente: str, actor: int | None = None, motivo: str = ""
) -> int:
    """A number opts out (or back in) for one tenant: its clients of ``tenant`` change
    ``acepta_sms``, each change has its evidence, and the exclusion list follows. Returns how
    many clients changed."""
    return record_numbers(conn, tenant, [numero], acepta, fuente, actor, motivo)


def record_numbers(
    conn,
    tenant: int,
    numeros: list[str],
    acepta: bool,
    fuente: str,
    actor: int | None = None,
    motivo: str = "",
) -> int:
    """:func:`record_number` for many numbers at once (a file of them), a chunk at a time."""
    cliente, changed = Cliente.__table__, 0
    for start in range(0, len(numeros), CHUNK):
        chunk = numeros[start : start + CHUNK]
        stmt = sa.select(cliente.c.id_cliente).where(
            cliente.c.id_propietario == tenant,
            cliente.c.telefono_e164.in_(chunk),
            cliente.c.acepta_sms.is_(not acepta),
        )
        ids = list(conn.scalars(stmt))
        _set_acepta(conn, ids, acepta)
        clientes, said = [(i, acepta) for i in ids], dict.fromkeys(chunk, acepta)
        record(conn, tenant, fuente, clientes=clientes, numeros=said, actor=actor, motivo=motivo)
        changed += len(ids)
    return changed


def record_opt_out(conn, tenant: int, numero: str, fuente: str = FUENTE_RESPUESTA_SMS) -> int:
    """A withdrawal outside the ORM: a SALIR reply, Twilio's error 21610 on a send
    (``FUENTE_TWILIO_21610``). Returns how many clients changed."""
    return record_number(conn, tenant, numero, False, fuente)


def record_opt_in_reply(conn, tenant: int, numero: str) -> int:
    """START, ALTA or ACEPTO: undo what an SMS reply did, and nothing else. A client opts back
    in only when its latest evidence is an SMS reply; the number leaves the list only when an SMS
    reply put it there and none of its clients stays withdrawn. Returns how many clients changed."""
    cliente = Cliente.__table__
    withdrawn = sa.select(cliente.c.id_cliente).where(
        cliente.c.id_propietario == tenant,
        cliente.c.telefono_e164 == numero,
        cliente.c.acepta_sms.is_(False),
    )
    ids = list(conn.scalars(withdrawn))
    latest = latest_sources(conn, ids)
    undo = [i for i in ids if latest.get(i) == FUENTE_RESPUESTA_SMS]
    _set_acepta(conn, undo, True)
    by_reply = excluded_by(conn, tenant, numero) == FUENTE_RESPUESTA_SMS
    numeros = {numero: True} if by_reply and len(undo) == len(ids) else {}
    record(conn, tenant, FUENTE_RESPUESTA_SMS, clientes=[(i, True) for i in undo], numeros=numeros)
    return len(undo)


def latest_sources(conn, ids: list[int]) -> dict[int, str]:
    """{client: the source of its latest consent evidence} (ids grow with time; dates may tie)."""
    consent, out = ConsentimientoSMS.__table__, {}
    for start in range(0, len(ids), CHUNK):
        stmt = sa.select(consent.c.id_cliente, consent.c.fuente).where(
            consent.c.id_cliente.in_(ids[start : start + CHUNK])
        )
        out |= {i: f for i, f in conn.execute(stmt.order_by(consent.c.id))}
    return out


def excluded_by(conn, tenant: int, numero: str) -> str | None:
    """The source that put the number on the tenant's list, or None when it is not on it."""
    table = NumeroExcluidoPropio.__table__
    return conn.scalar(sa.select(table.c.fuente).where(_on_list(tenant, [numero])))


def _set_acepta(conn, ids: list[int], acepta: bool) -> None:
    cliente = Cliente.__table__
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        conn.execute(cliente.update().where(cliente.c.id_cliente.in_(chunk)).values(acepta_sms=acepta))
