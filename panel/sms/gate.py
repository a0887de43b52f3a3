"""The departure gate (SPEC §18): the last word on whether one row's message may leave, asked by
the sender right before the request to Twilio is written — where the rate limit has granted the
row its turn, after any wait. Claiming a batch only shares rows between senders; it promises
nothing: a row claimed a minute ago, under a rate of one message a second, is judged now.

One statement reads what decides it, at that moment: the campaign is still ``procesando``; and,
for the row's client, its estado, consent, the tenant's exclusion list, the RNE (commercial only)
and the cap (commercial only) — the same definitions as the plan's (``elegibilidad``,
``exclusions``, ``rne``, ``tope``). The window is the clock's. The answer:

- ``GO``: send it;
- ``HALT``: the campaign was paused or cancelled, or the window closed: the row goes back to
  ``pendiente`` (cancelled rows then become ``cancelado``), unsent;
- a reason (kind, text): the row becomes ``omitido`` with it, unsent.

The embedded sender and every RQ worker run the same ``sender.run_campaign``, so they share it.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .. import tenancy
from ..models import CampanaSMS, Cliente
from . import elegibilidad, exclusions, rne, tope
from .reglas import Reglas

CAMPANA = CampanaSMS.__table__
CLIENTE = Cliente.__table__


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one row: go, halt (back to pendiente), or skip with a reason."""

    halt: bool = False
    reason: tuple[str, str] | None = None

    @property
    def go(self) -> bool:
        return not self.halt and self.reason is None


GO = Verdict()
HALT = Verdict(halt=True)


class Gate:
    """The gate of one sender's pass over a campaign: its statements are compiled once and each
    row's check is one round trip on a pooled DBAPI connection (B4 measures the cost: the
    unthrottled rate with the gate and without it; SQLAlchemy's Connection and result objects
    cost three times the read itself)."""

    def __init__(self, campana_id: int, rules: Reglas | None, engine):
        self.campana_id, self.rules, self.engine = campana_id, rules, engine
        self.test_send = _Compiled(_statement(rules, client=False), engine.dialect)
        self.client = _Compiled(_statement(rules, client=True), engine.dialect)

    def check(self, row, now: datetime) -> Verdict:
        """May ``row`` (an SMSLog row: id, id_cliente, id_propietario, telefono) leave now?
        ``now``: the clock's aware time, read once by the caller for the window and the cap."""
        rules = self.rules
        if rules is not None and not rules.ventana.is_open(now):
            return HALT
        params = {"campana": self.campana_id}
        if row.id_cliente is None:  # a test send: the staff member's own verified phone (SPEC §15)
            state = _read(self.engine, self.test_send, params, row.id_propietario)
            return GO if state["campana"] == "procesando" else HALT
        params |= {"cliente": row.id_cliente, "tenant": row.id_propietario, "phone": row.telefono}
        if rules is not None:
            since, until = tope.period(rules.tope, now)
            params |= {"since": since, "until": until, "row": row.id}
        state = _read(self.engine, self.client, params, row.id_propietario)
        if state["campana"] != "procesando":
            return HALT
        return _client_verdict(state, row, rules)


class _Compiled:
    """A statement compiled once for a dialect, with its parameters' bind processors (how
    SQLAlchemy would pass each value: e.g. SQLite's datetime text)."""

    def __init__(self, stmt, dialect):
        self.compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = str(self.compiled)
        self.positions = self.compiled.positiontup  # None for a named paramstyle (psycopg)
        self.fixed = dict(self.compiled.params)  # the statement's own values (e.g. an IN list)
        binds = self.compiled.binds.items()
        self.processors = {name: bind.type.bind_processor(dialect) for name, bind in binds}

    def parameters(self, values: dict):
        full = self.fixed | values
        for name, process in self.processors.items():
            if process is not None and full.get(name) is not None:
                full[name] = process(full[name])
        return full if self.positions is None else tuple(full[name] for name in self.positions)


def _read(engine, compiled: _Compiled, values: dict, tenant: int) -> dict:
    """One row of ``compiled``, read now in a transaction of its own. On PostgreSQL the read is
    scoped to the row's tenant for the RLS policies (what tenancy's hook does for the ORM)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            if engine.dialect.name == "postgresql":
                cursor.execute("SELECT set_config(%s, %s, true)", (tenancy.PG_SETTING, str(tenant)))
            cursor.execute(compiled.sql, compiled.parameters(values))
            names = [column[0] for column in cursor.description]
            state = dict(zip(names, cursor.fetchone(), strict=True))
        finally:
            cursor.close()
        raw.rollback()  # the read ends here: the next one sees what was committed since
    finally:
        raw.close()
    return state


def _statement(rules: Reglas | None, client: bool):
    """The campaign's estado and, for a client's row, what may stop it: one SELECT of scalar
    subqueries, with bind parameters (campana, cliente, tenant, phone; since, until, row)."""
    p = functools.partial(sa.bindparam, value=None, required=False)  # bound per row
    estado = sa.select(CAMPANA.c.estado).where(CAMPANA.c.id == p("campana")).scalar_subquery()
    columns = [estado.label("campana")]
    if client:
        this = CLIENTE.c.id_cliente == p("cliente")
        columns += [
            sa.select(CLIENTE.c.estado).where(this).scalar_subquery().label("estado"),
            sa.select(CLIENTE.c.acepta_sms).where(this).scalar_subquery().label("acepta_sms"),
            exclusions.own_clause(p("tenant"), p("phone")).label("excluido"),
        ]
        if rules is not None:
            used = tope.used_clause(p("tenant"), p("phone"), p("since"), p("until"), p("campana"), p("row"))
            columns += [rne.listed_clause(p("phone")).label("rne"), used.label("tope")]
    return sa.select(*columns)


def _client_verdict(state, row, rules: Reglas | None) -> Verdict:
    """The client's own rule (elegibilidad.skip_reason), then the exclusions and the cap."""
    if state["estado"] is None:  # the client was deleted after the claim: nobody to send to
        return Verdict(reason=elegibilidad.reason("inactivo"))
    blocked = {}
    if exclusions.is_landline(row.telefono):
        blocked[row.telefono] = "fijo"
    elif state["excluido"]:
        blocked[row.telefono] = "excluido"
    elif rules is not None and state["rne"]:
        blocked[row.telefono] = "rne"
    client = _Client(state["estado"], bool(state["acepta_sms"]), row.telefono)
    found = elegibilidad.skip_reason(client, blocked=blocked)
    if found is None and rules is not None and state["tope"]:
        found = elegibilidad.cap_reason(rules.tope)
    return GO if found is None else Verdict(reason=found)


@dataclass(frozen=True)
class _Client:
    """What ``skip_reason`` reads of a client, as the gate knows it: the number the row goes to."""

    estado: int
    acepta_sms: bool
    telefono: str
    id_pais: int | None = None

    @property
    def telefono_e164(self) -> str:
        return self.telefono
