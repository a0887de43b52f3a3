"""The cap of Ley 2300 de 2023 as we read it (SPEC §10, §15): at most one commercial SMS per phone
per Bogotá calendar day within a tenant (or per rolling 7 days, if the tenant chose it), across
campaigns. Rows ``enviado``, ``enviando`` and those flagged for review use up the day; failed rows
do not; test sends and transactional campaigns never count.

One SQL definition (``capped``) answers the dry run, the outbox and the sender's check at send
time. At send time two senders may race for the same phone: on PostgreSQL each takes a
transaction-scoped advisory lock per (tenant, phone) — in one global order, so they cannot
deadlock — before looking; SQLite's claim already holds the database's write lock.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from .. import clock
from ..clock import BOGOTA
from ..extensions import db
from ..formatting import local
from ..models import CampanaSMS, SMSLog

LOG = SMSLog.__table__
CAMPANA = CampanaSMS.__table__
USED = ("enviado", "enviando")
MOTIVO = {
    "dia": "Ya recibió un SMS comercial hoy",
    "semana": "Ya recibió un SMS comercial en los últimos 7 días",
}
MAX_IN = 1000
LOCK_SPACE = 2300  # the advisory-lock namespace of the cap (the law's number)


def period(tope: str, moment: datetime) -> tuple[datetime, datetime]:
    """The [since, until) naive-UTC span whose sends use up ``moment``'s allowance."""
    if tope == "semana":
        end = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        return end - timedelta(days=7), end + timedelta(seconds=1)
    day = local(moment).date()
    start = datetime.combine(day, time(0), BOGOTA)
    as_utc = lambda d: d.astimezone(UTC).replace(tzinfo=None)  # noqa: E731
    return as_utc(start), as_utc(start + timedelta(days=1))


def capped(
    tenant: int, phones: Iterable[str], moment: datetime, tope: str, conn=None, campana_id: int | None = None
) -> set[str]:
    """The phones among ``phones`` that already got this tenant's commercial SMS in the period of
    ``moment`` (the rows of ``campana_id`` itself left out: a campaign never caps itself)."""
    since, until = period(tope, moment)
    return _among(phones, lambda: _used(tenant, since, until, campana_id), conn)


def used_clause(tenant, phone, since, until, campana_id, row_id):
    """SQL true when ``phone`` already used up an allowance in [since, until) (the departure gate
    asks it per row, in its one statement; the same definition as ``capped``). ``row_id``: the
    row about to leave, which is ``enviando`` itself and must not count. Values or bind
    parameters alike: the gate builds its statement once and binds them per row."""
    used = _used(tenant, since, until, campana_id).where(LOG.c.telefono == phone, LOG.c.id != row_id)
    return sa.exists(used)


def _used(tenant: int, since: datetime, until: datetime, campana_id: int | None):
    """The phones of the tenant's commercial rows that use up an allowance in [since, until)."""
    commercial = sa.select(CAMPANA.c.id).where(
        CAMPANA.c.id == LOG.c.id_campana, CAMPANA.c.tipo == "comercial", CAMPANA.c.prueba.is_(False)
    )
    stmt = (
        sa.select(LOG.c.telefono)
        .distinct()
        .where(
            LOG.c.id_propietario == tenant,
            LOG.c.enviado_en >= since,
            LOG.c.enviado_en < until,
            sa.or_(LOG.c.estado.in_(USED), LOG.c.requiere_revision.is_(True)),
            sa.exists(commercial),
        )
    )
    return stmt if campana_id is None else stmt.where(LOG.c.id_campana != campana_id)


def planned(
    tenant: int, phones: Iterable[str], moment: datetime, tope: str, conn=None, campana_id: int | None = None
) -> set[str]:
    """The phones among ``phones`` that another commercial campaign of the tenant still plans to
    send to in the period of ``moment``: its rows ``pendiente``, the campaign ``programada`` (or
    still ``preparando``: the rows written so far) for a start in the period, or
    ``pendiente``/``procesando`` (sending now, when ``moment``'s period is the current one).
    The review counts them (SPEC §18); the gate decides at send time."""
    since, until = period(tope, moment)
    now = clock.utcnow()
    waits = sa.or_(
        CAMPANA.c.estado == "programada",
        sa.and_(CAMPANA.c.estado == "preparando", CAMPANA.c.siguiente_envio.is_not(None)),
    )
    starts = sa.case((waits, CAMPANA.c.siguiente_envio), else_=sa.literal(now))
    campaigns = sa.select(CAMPANA.c.id).where(
        CAMPANA.c.id == LOG.c.id_campana,
        CAMPANA.c.tipo == "comercial",
        CAMPANA.c.prueba.is_(False),
        CAMPANA.c.estado.in_(("preparando", "programada", "pendiente", "procesando")),
        starts >= since,
        starts < until,
    )
    stmt = sa.select(LOG.c.telefono).distinct()
    stmt = stmt.where(LOG.c.id_propietario == tenant, LOG.c.estado == "pendiente", sa.exists(campaigns))
    if campana_id is not None:
        stmt = stmt.where(LOG.c.id_campana != campana_id)
    return _among(phones, lambda: stmt, conn)


def _among(phones: Iterable[str], query, conn) -> set[str]:
    """The phones of ``query()`` among ``phones``. A claim asks about a few phones (by the index);
    a plan may ask about 100,000: then the tenant's phones of the period come in one query and are
    intersected here."""
    wanted = sorted({p for p in phones if p})
    if not wanted:
        return set()
    stmt = query()
    if len(wanted) <= MAX_IN:
        stmt = stmt.where(LOG.c.telefono.in_(wanted))
    reader = conn if conn is not None else db.session
    return set(reader.scalars(stmt)) & set(wanted)


def lock(conn, tenant: int, phones: Iterable[str]) -> None:
    """PostgreSQL: serialise the senders that are about to check the same phones (until commit)."""
    if conn.dialect.name != "postgresql":
        return
    for phone in sorted({p for p in phones if p}):
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
            {"space": LOCK_SPACE * 100_000 + tenant % 100_000, "key": phone},
        )
