"""The sender's claims: rows taken atomically (``pendiente`` → ``enviando``) in small batches,
only while the campaign is ``procesando``; a claimed row whose client no longer qualifies, or
that the cap or the RNE now forbid, becomes ``omitido`` in the claim's transaction. A claim only
shares rows between senders; it promises nothing (the departure gate decides each row)."""

import sqlalchemy as sa

from .. import clock
from ..extensions import db
from ..models import Cliente, SMSLog, utcnow
from . import elegibilidad, exclusions, lifecycle, reglas, tope

LOG = SMSLog.__table__
_MORE = (LOG.c.twilio_sid, LOG.c.reclamado)


def release(rows: list) -> None:
    """Claimed rows that never reached Twilio: back to ``pendiente``, for the next pass to send."""
    if not rows:
        return
    back = LOG.update().where(LOG.c.id.in_([r.id for r in rows]), LOG.c.estado == "enviando")
    with db.engine.begin() as conn:
        conn.execute(back.values(estado="pendiente", reclamado=None, enviado_en=None, actualizado=utcnow()))


UNSET = object()


def claim(campana_id: int, size: int, rules=UNSET) -> list:
    """Atomically take up to ``size`` pending rows: pendiente → enviando, stamped with the claim time.

    Only while the campaign is ``procesando`` (a paused or cancelled one yields nothing); rows
    whose client no longer qualifies (SPEC §9: checked again at send time) become ``omitido``,
    and so do those the cap or the RNE now forbid (``rules``: reglas.of_campaign)."""
    return _claim(campana_id, size, rules)[0]


def _claim(campana_id: int, size: int, rules=UNSET) -> tuple[list, int]:
    """The rows to send, and how many were taken (skipped ones included: a claim whose rows were
    all skipped is not the end of the campaign)."""
    now = utcnow()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # take the write lock first, so no other claimer reads the same rows
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        ids = sa.select(LOG.c.id).where(
            LOG.c.id_campana == campana_id, LOG.c.estado == "pendiente", lifecycle.sending_clause(campana_id)
        )
        ids = ids.order_by(LOG.c.id).limit(size)
        if not sqlite:
            ids = ids.with_for_update(skip_locked=True)
        # A CTE, not ``IN (subquery)``: PostgreSQL may run the subquery again for every row it
        # updates (a nested-loop semi-join), and each run took up to ``size`` more rows; a CTE
        # with FOR UPDATE runs once.
        picked = ids.cte("picked")
        stmt = (
            LOG.update()
            .where(LOG.c.id.in_(sa.select(picked.c.id)), LOG.c.estado == "pendiente")
            .values(estado="enviando", reclamado=now, enviado_en=now, actualizado=now)
            .returning(
                LOG.c.id, LOG.c.id_cliente, LOG.c.id_propietario, LOG.c.telefono, LOG.c.mensaje, *_MORE
            )
        )
        taken = conn.execute(stmt).all()
        if rules is UNSET:
            rules = reglas.of_campaign(conn, campana_id)
        rows = _recheck(conn, campana_id, taken, rules)
        conn.commit()
    return sorted(rows, key=lambda r: r.id), len(taken)


def _recheck(conn, campana_id: int, rows: list, rules) -> list:
    """Skip, as ``omitido`` with the reason, the claimed rows whose client no longer qualifies."""
    if not rows:
        return rows
    c = Cliente.__table__
    fields = (c.c.id_cliente, c.c.estado, c.c.acepta_sms, c.c.telefono, c.c.telefono_e164, c.c.id_pais)
    clients = {
        r.id_cliente: r
        for r in conn.execute(sa.select(*fields).where(c.c.id_cliente.in_([row.id_cliente for row in rows])))
    }
    tenant = rows[0].id_propietario  # a campaign has one tenant
    phones = [c.telefono_e164 for c in clients.values()]
    blocked = exclusions.blocked(tenant, phones, conn, comercial=rules is not None)
    capped = _capped(conn, campana_id, tenant, rows, rules)
    skipped = {}
    for row in rows:
        client = clients.get(row.id_cliente)
        reason = elegibilidad.skip_reason(client, blocked=blocked) if client is not None else None
        if reason is None and row.telefono in capped:
            reason = elegibilidad.cap_reason(rules.tope)
        if reason:
            skipped[row.id] = reason
    if skipped:
        _omit(conn, campana_id, skipped)
    return [row for row in rows if row.id not in skipped]


def _capped(conn, campana_id: int, tenant: int, rows: list, rules) -> set[str]:
    """The claimed phones this tenant already reached in the cap's period, by another campaign.

    Checked under a lock per phone: of two campaigns racing for one client, the second to take
    the lock sees the first's committed claim and skips the row (SPEC §10)."""
    if rules is None:
        return set()
    phones = [row.telefono for row in rows]
    tope.lock(conn, tenant, phones)
    return tope.capped(tenant, phones, clock.now(), rules.tope, conn, campana_id=campana_id)


def _omit(conn, campana_id: int, skipped: dict[int, tuple[str, str]]) -> None:
    """Write the skipped rows and the campaign's totals (in the claim's transaction)."""
    stmt = LOG.update().where(LOG.c.id == sa.bindparam("row_id"), LOG.c.estado == "enviando")
    stmt = stmt.values(
        estado="omitido",
        motivo=sa.bindparam("p_motivo"),
        error_mensaje=sa.bindparam("p_error"),
        reclamado=None,
        enviado_en=None,
        actualizado=utcnow(),
    )
    params = [
        {"row_id": i, "p_motivo": elegibilidad.MOTIVOS[kind], "p_error": text}
        for i, (kind, text) in skipped.items()
    ]
    conn.execute(stmt, params)
    lifecycle.refresh_totals(campana_id, finish=False, conn=conn)
