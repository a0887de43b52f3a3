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

from ..extensions import db
from ..formatting import BOGOTA, local
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
    wanted = sorted({p for p in phones if p})
    if not wanted:
        return set()
    since, until = period(tope, moment)
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
    if campana_id is not None:
        stmt = stmt.where(LOG.c.id_campana != campana_id)
    # A claim asks about a few phones (by the index); a plan may ask about 100,000: then the
    # tenant's phones of the period come in one query and are intersected here.
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
