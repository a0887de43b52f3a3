"""The one owner of ``CampanaSMS.estado``: every transition, and how far a campaign is.

Each transition is one conditional UPDATE (``… WHERE estado IN (allowed)``): when two senders, a
poller and a person pressing "Pausar" race, the database lets exactly one of them win and the
others see ``rowcount == 0``. Nothing else in the app writes ``estado``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .. import audit, clock, formatting
from ..extensions import db
from ..models import CampanaSMS, SMSLog
from ..models.sms import ESTADOS_LOG

CAMPANA = CampanaSMS.__table__
LOG = SMSLog.__table__
ACTIVE = ("pendiente", "procesando")  # a sender has (or will have) work here
FINAL = ("completado", "cancelada")


class TransitionRefused(Exception):
    """The campaign's estado does not allow this action (the API answers 409)."""

    def __init__(self, action: str, estado: str | None):
        super().__init__(f"No se puede {VERBS[action]} una campaña en estado «{estado}».")
        self.action, self.estado = action, estado


@dataclass(frozen=True)
class Action:
    """A person's action on a campaign: from which estados it is allowed, and its Spanish verb."""

    desde: tuple[str, ...]
    verbo: str


# SPEC §15: pausar from programada/pendiente/procesando; reanudar from pausada and error (the
# retry); cancelar from every estado but completado and cancelada. A campaign ``preparando``
# (its outbox still being written) may be cancelled, not paused: it sends nothing yet.
ACTIONS = {
    "pausar": Action(("programada", "pendiente", "procesando"), "pausar"),
    "reanudar": Action(("pausada", "error"), "reanudar"),
    "cancelar": Action(
        ("preparando", "programada", "pendiente", "procesando", "pausada", "error"), "cancelar"
    ),
}
# "Reintentar fallidos" is reanudar from error (SPEC §18), under the same permission
# (users.can_steer). Not from pausada: there "Reanudar" sends the rows still pending, and a retry
# would also put back rows while nobody sends. Not from cancelada (stopped for good), nor from
# completado or procesando: reanudar is not allowed there (SPEC §15), and a sender still working
# could finish the campaign with the put-back rows left pendiente.
RETRY = Action(("error",), "reintentar los fallidos de")
VERBS = {**{name: a.verbo for name, a in ACTIONS.items()}, "reintentar": RETRY.verbo}


def _move(conn, campana_id: int, desde: tuple[str, ...], values: dict, *extra) -> bool:
    """The conditional UPDATE every transition is: True when this caller made it."""
    stmt = CAMPANA.update().where(CAMPANA.c.id == campana_id, CAMPANA.c.estado.in_(desde), *extra)
    return conn.execute(stmt.values(**values)).rowcount == 1


def _estado(conn, campana_id: int) -> str | None:
    return conn.scalar(sa.select(CAMPANA.c.estado).where(CAMPANA.c.id == campana_id))


# --- a person's actions --------------------------------------------------------------------


PAST = {"pausar": "pausada", "reanudar": "reanudada", "cancelar": "cancelada"}


def record(action: str, campana: CampanaSMS) -> None:
    """The action in the Historial (in the caller's transaction)."""
    audit.record(
        "sms",
        "CampanaSMS",
        filas=1,
        objeto_id=campana.id,
        id_propietario=campana.id_propietario,
        resumen=f"Campaña SMS «{campana.nombre}» {PAST[action]}",
    )


def apply(action: str, campana_id: int) -> None:
    """Pause, resume or cancel (in the caller's session transaction); raise TransitionRefused."""
    conn = db.session.connection()
    done = {"pausar": _pause, "reanudar": _resume, "cancelar": _cancel}[action](conn, campana_id)
    if not done:
        raise TransitionRefused(action, _estado(conn, campana_id))


def _pause(conn, campana_id: int) -> bool:
    """Nothing new starts once committed: the claim and each send check for ``procesando``."""
    return _move(conn, campana_id, ACTIONS["pausar"].desde, {"estado": "pausada"})


def retry(campana_id: int) -> int:
    """The panel's "Reintentar fallidos" (in the caller's session transaction): reanudar from error only;
    returns how many failed rows go back to pendiente. Raise TransitionRefused otherwise, with
    no row changed."""
    conn = db.session.connection()
    reopened = _back_to_sender(conn, campana_id, RETRY.desde)
    if reopened is None:
        raise TransitionRefused("reintentar", _estado(conn, campana_id))
    return reopened


def _resume(conn, campana_id: int) -> bool:
    """Reanudar: from pausada, or from error (the retry)."""
    return _back_to_sender(conn, campana_id, ACTIONS["reanudar"].desde) is not None


def _back_to_sender(conn, campana_id: int, desde: tuple[str, ...]) -> int | None:
    """Back to waiting for a sender (or for its time); from error this is the retry. Outside the
    contact window the sender that takes it puts it back to wait for the next opening. None when
    the estado is not one of ``desde``, else how many failed rows were put back.

    The campaign moves first (one conditional UPDATE), then its rows: the rows are only ever put
    back on a campaign a sender will take, never on a paused or cancelled one."""
    now = clock.utcnow()
    later = sa.and_(CAMPANA.c.siguiente_envio.is_not(None), CAMPANA.c.siguiente_envio > now)
    target = sa.case((later, "programada"), else_="pendiente")
    values = {"estado": target, "completado": None, "error_mensaje": None}
    estado = _estado(conn, campana_id)
    if estado not in desde or not _move(conn, campana_id, (estado,), values):
        return None
    return _reopen_retryable(conn, campana_id) if estado == "error" else 0


def _reopen_retryable(conn, campana_id: int) -> int:
    """The rows an error left failed but certainly not at Twilio go back to pendiente (the
    sender checks each again before it goes: a client who no longer qualifies is omitido)."""
    stmt = LOG.update().where(
        LOG.c.id_campana == campana_id,
        LOG.c.estado == "fallido",
        LOG.c.reintentable.is_(True),
        LOG.c.requiere_revision.is_(False),
    )
    values = {"estado": "pendiente", "reintentable": False, "error_codigo": None, "error_mensaje": None}
    n = conn.execute(stmt.values(**values, reclamado=None, actualizado=clock.utcnow())).rowcount
    refresh_totals(campana_id, finish=False, conn=conn)
    return n


def _cancel(conn, campana_id: int) -> bool:
    """Stopped for good: the rows not handed to Twilio become ``cancelado``."""
    values = {"estado": "cancelada", "completado": clock.utcnow(), "preparacion": None}
    if not _move(conn, campana_id, ACTIONS["cancelar"].desde, values):
        return False
    settle_cancelled(conn, campana_id)
    return True


def settle_cancelled(conn, campana_id: int) -> None:
    """In a cancelled campaign no row stays ``pendiente`` (also rows a sender gives back late)."""
    cancelled = sa.select(CAMPANA.c.id).where(CAMPANA.c.id == campana_id, CAMPANA.c.estado == "cancelada")
    stmt = LOG.update().where(
        LOG.c.id_campana == campana_id, LOG.c.estado == "pendiente", sa.exists(cancelled)
    )
    values = {"estado": "cancelado", "error_mensaje": "Campaña cancelada", "reclamado": None}
    if conn.execute(stmt.values(**values, actualizado=clock.utcnow())).rowcount:
        refresh_totals(campana_id, finish=False, conn=conn)


# --- the senders' transitions --------------------------------------------------------------


def initial(siguiente_envio: datetime | None) -> str:
    """The estado a confirmed campaign is created in: waiting for its time, or for a sender."""
    return "programada" if siguiente_envio is not None else "pendiente"


PREPARING = "preparando"


def take_preparation(conn, campana_id: int, seen: datetime | None, token: datetime) -> bool:
    """A preparer takes a campaign ``preparando`` whose last checkpoint is ``seen``: of two
    racing for it (a late job and a resumer), exactly one wins."""
    return _move(conn, campana_id, (PREPARING,), {"preparacion_latido": token}, _latido_is(seen))


def checkpoint(conn, campana_id: int, token: datetime, new_token: datetime) -> bool:
    """A chunk of the outbox is written (in the caller's transaction): False when the campaign
    was cancelled or another preparer took it over meanwhile (the caller rolls back and stops)."""
    return _move(conn, campana_id, (PREPARING,), {"preparacion_latido": new_token}, _latido_is(token))


def finish_preparing(conn, campana_id: int, token: datetime, sendable: int) -> str | None:
    """The outbox is whole: preparando → programada or pendiente, exactly as a campaign written
    at confirmation starts (``siguiente_envio`` was set then); error when nobody can receive it.
    The new estado, or None when the campaign was cancelled or taken over meanwhile."""
    now = clock.utcnow()
    if sendable:
        later = sa.and_(CAMPANA.c.siguiente_envio.is_not(None), CAMPANA.c.siguiente_envio > now)
        values = {"estado": sa.case((later, "programada"), else_="pendiente")}
    else:
        reason = "Ningún destinatario puede recibir el SMS (revise los omitidos)."
        values = {"estado": "error", "error_mensaje": reason, "completado": now}
    values |= {"preparacion": None, "preparacion_latido": None}
    if not _move(conn, campana_id, (PREPARING,), values, _latido_is(token)):
        return None
    return _estado(conn, campana_id)


def _latido_is(value: datetime | None):
    column = CAMPANA.c.preparacion_latido
    return column.is_(None) if value is None else column == value


def stale_preparations(stale_seconds: float) -> list[int]:
    """Campaigns ``preparando`` whose preparer made no checkpoint for ``stale_seconds``: its
    process died (or its job was lost); a resumer writes the rest."""
    limit = clock.utcnow() - timedelta(seconds=stale_seconds)
    stale = sa.or_(CAMPANA.c.preparacion_latido.is_(None), CAMPANA.c.preparacion_latido < limit)
    stmt = sa.select(CAMPANA.c.id).where(CAMPANA.c.estado == PREPARING, stale).order_by(CAMPANA.c.id)
    return list(db.session.scalars(stmt))


def start_due(conn, campana_id: int | None = None) -> list[int]:
    """programada → pendiente for the campaigns whose time has come; each started exactly once."""
    now = clock.utcnow()
    is_due = CAMPANA.c.siguiente_envio <= now
    due = sa.select(CAMPANA.c.id).where(CAMPANA.c.estado == "programada", is_due)
    if campana_id is not None:
        due = due.where(CAMPANA.c.id == campana_id)
    started = []
    for cid in conn.scalars(due.order_by(CAMPANA.c.siguiente_envio)).all():
        if _move(conn, cid, ("programada",), {"estado": "pendiente"}, is_due):
            started.append(cid)
    return started


def begin(campana_id: int, opening=None) -> bool:
    """A sender takes the campaign (pendiente → procesando); False when there is nothing to do.

    ``opening(conn, campana_id)`` answers None when the campaign may send now, else the next
    opening of its contact window: then it waits, ``programada``, until that moment."""
    with db.engine.begin() as conn:
        start_due(conn, campana_id)
        later = opening(conn, campana_id) if opening is not None else None
        if later is not None:
            postpone(conn, campana_id, later, desde=("pendiente",))
            return False
        _move(conn, campana_id, ("pendiente",), {"estado": "procesando"})
        return _estado(conn, campana_id) == "procesando"


def postpone(conn, campana_id: int, until: datetime, desde: tuple[str, ...] = ("procesando",)) -> bool:
    """The contact window closed (or is closed): wait, ``programada``, for its next opening
    (naive UTC). The claim and each send check for ``procesando``, so nothing new starts."""
    return _move(conn, campana_id, desde, {"estado": "programada", "siguiente_envio": until})


def sending_clause(campana_id):
    """SQL true while the campaign may send: claims and each Twilio call check it."""
    return sa.exists(
        sa.select(CAMPANA.c.id).where(CAMPANA.c.id == campana_id, CAMPANA.c.estado == "procesando")
    )


def is_sending(conn, campana_id: int) -> bool:
    """Whether a new Twilio call may start for this campaign now."""
    return _estado(conn, campana_id) == "procesando"


def finish_if_done(conn, campana_id: int, counts: dict) -> None:
    """Completed when no row is left to send (only from the estados a sender works in)."""
    if counts["pendiente"] == 0 and counts["enviando"] == 0:
        _move(conn, campana_id, ACTIVE, {"estado": "completado", "completado": clock.utcnow()})


def fail(conn, campana_id: int, reason: str) -> None:
    """The campaign could not run (credentials, Twilio down): error, which may be retried."""
    values = {"estado": "error", "error_mensaje": reason, "completado": clock.utcnow()}
    _move(conn, campana_id, ACTIVE, values)


def record_account(conn, campana_id: int, account_sid: str) -> None:
    """The Twilio account the campaign's pass sends through (SPEC §20; its page shows it); a
    pass after the tenant changed its account records the new one."""
    changed = sa.or_(CAMPANA.c.cuenta_twilio.is_(None), CAMPANA.c.cuenta_twilio != account_sid)
    conn.execute(
        CAMPANA.update().where(CAMPANA.c.id == campana_id, changed).values(cuenta_twilio=account_sid)
    )


def campaigns_with_work() -> list[int]:
    """Campaigns a sender should run: active ones and scheduled ones that are due."""
    with db.engine.begin() as conn:
        start_due(conn)
    stmt = sa.select(CAMPANA.c.id).where(CAMPANA.c.estado.in_(ACTIVE)).order_by(CAMPANA.c.id)
    return list(db.session.scalars(stmt))


def any_scheduled() -> bool:
    """Whether some campaign still waits for its time, or for its outbox (the RQ poller keeps
    going while so: it also resumes a preparation whose worker died)."""
    stmt = sa.select(CAMPANA.c.id).where(CAMPANA.c.estado.in_(("programada", PREPARING))).limit(1)
    return db.session.scalar(stmt) is not None


def next_due() -> datetime | None:
    """The earliest time a scheduled campaign waits for."""
    stmt = sa.select(sa.func.min(CAMPANA.c.siguiente_envio)).where(CAMPANA.c.estado == "programada")
    return db.session.scalar(stmt)


# --- how far a campaign is -----------------------------------------------------------------


def counts(campana_id: int, conn=None) -> dict[str, int]:
    """Row counts of a campaign by estado, plus those flagged for review (one statement)."""
    t = SMSLog.__table__
    stmt = sa.select(t.c.estado, sa.func.count(), sa.func.sum(sa.case((t.c.requiere_revision, 1), else_=0)))
    stmt = stmt.where(t.c.id_campana == campana_id).group_by(t.c.estado)
    result = dict.fromkeys(ESTADOS_LOG, 0)
    revision = 0
    for estado, n, rev in (conn or db.session).execute(stmt):
        result[estado] = n
        revision += rev or 0
    result["total"] = sum(result.values())
    result["revision"] = revision
    return result


def refresh_totals(campana_id: int, *, finish: bool = True, conn=None) -> dict[str, int]:
    """Recompute the campaign's aggregates from its rows, in the caller's transaction; complete
    it when nothing is left (and ``finish``).

    On PostgreSQL the campaign row is locked first: two senders writing outcomes at once then
    count one after the other, each seeing the other's committed rows, so the stored totals are
    never overwritten by a count that missed a batch. ``FOR NO KEY UPDATE``, not ``FOR UPDATE``:
    every ``sms_log`` write holds a key-share lock on the campaign (its foreign key), which
    FOR UPDATE would wait for — two senders then deadlock (tests/test_sms_totals_lock.py).
    On SQLite a count is no lock: the campaign row is written first (to itself), which takes the
    database's one write lock, so no other sender commits between this count and its update
    (tests/test_sms_totals_race.py)."""
    conn = conn or db.session.connection()
    t = CampanaSMS.__table__
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(t.c.id).where(t.c.id == campana_id).with_for_update(key_share=True))
    else:
        conn.execute(sa.update(t).where(t.c.id == campana_id).values(total_clientes=t.c.total_clientes))
    c = counts(campana_id, conn)
    values = {
        "total_clientes": c["total"],
        "enviados_exitosos": c["enviado"],
        "enviados_fallidos": c["fallido"],
    }
    conn.execute(sa.update(t).where(t.c.id == campana_id).values(**values))
    if finish:
        finish_if_done(conn, campana_id, c)
    return c


def progress(campana_id: int) -> dict | None:
    """The one answer to "how far is this campaign", for the page, its JSON, the API and the
    dashboard: every count from the rows in one statement, so they always add up to the total.

    Skipped rows (``omitido``) are not progress: ``porcentaje`` is done / sendable."""
    columns = (CAMPANA.c.estado, CAMPANA.c.programada_para, CAMPANA.c.siguiente_envio)
    campana = db.session.execute(
        sa.select(*columns, CAMPANA.c.preparacion_total).where(CAMPANA.c.id == campana_id)
    ).first()
    if campana is None:
        return None
    c = counts(campana_id)
    enviables = c["total"] - c["omitido"]
    hechos = c["enviado"] + c["fallido"] + c["cancelado"]
    return {
        "estado": campana.estado,
        "total": c["total"],
        "enviados": c["enviado"],
        "fallidos": c["fallido"],
        "omitidos": c["omitido"],
        "cancelados": c["cancelado"],
        "pendientes": c["pendiente"] + c["enviando"],
        "enviando": c["enviando"],
        "revision": c["revision"],
        "enviables": enviables,
        "hechos": hechos,
        "porcentaje": round(100 * hechos / enviables) if enviables else 100,
        "programada_para": campana.programada_para,
        "siguiente_envio": campana.siguiente_envio if campana.estado == "programada" else None,
        "preparacion": _preparation(campana, c["total"]),
    }


def _preparation(campana, escritos: int) -> dict | None:
    """While ``preparando``: the outbox rows written of the recipients frozen at confirmation."""
    if campana.estado != PREPARING:
        return None
    total = campana.preparacion_total or 0
    porcentaje = min(100, round(100 * escritos / total)) if total else 0
    texto = f"Preparando el envío: {formatting.number(escritos)} de {formatting.number(total)} destinatarios"
    return {"escritos": escritos, "total": total, "porcentaje": porcentaje, "texto": texto}
