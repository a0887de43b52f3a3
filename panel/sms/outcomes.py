"""The sender's outcomes: each finished row written in one transaction with the campaign's
totals (only if still ``enviando``), Twilio's 21610 as an opt-out through ``consent``, the
campaign stopped on bad credentials or when Twilio keeps failing, and a stopped campaign's
pending rows failed with the reason (safe to retry)."""

from collections import defaultdict

import sqlalchemy as sa

from .. import consent
from ..extensions import db
from ..models import SMSLog, utcnow
from ..models.envio import FUENTE_TWILIO_21610
from . import elegibilidad, lifecycle
from .send_run import Result, _Run

LOG = SMSLog.__table__


REVIEW = "Resultado incierto: revisar en Twilio antes de reenviar"


def store(run: _Run, finished: list[tuple]) -> None:
    """Write the outcomes of finished rows in one transaction, each only if still ours (``enviando``).

    Rows of the same shape go in one ``executemany``: an outcome costs a few statements per
    batch instead of a transaction of its own, and is still written the moment it is known."""
    if not finished:
        return
    updates, queued = defaultdict(list), []
    for row, result in finished:
        values = _values(result, run.reason) | {"actualizado": result.at}
        updates[tuple(sorted(values))].append({"row_id": row.id, "n": result.attempts} | _params(values))
        if result.kind == "sent":
            queued.append({"row_id": row.id, "p_estado_entrega": getattr(result.message, "status", None)})
    with run.engine.begin() as conn:
        for columns, params in updates.items():
            conn.execute(_outcome_update(columns), params)
        if queued:  # a status callback may have arrived first: keep the later status
            first = LOG.update().where(LOG.c.id == sa.bindparam("row_id"), LOG.c.estado_entrega.is_(None))
            conn.execute(first.values(estado_entrega=sa.bindparam("p_estado_entrega")), queued)
        for row, result in finished:
            if result.outcome is not None and result.outcome.opt_out and row.id_cliente is not None:
                consent.record_opt_out(conn, row.id_propietario, row.telefono, fuente=FUENTE_TWILIO_21610)
        # The totals move with the outcomes, in their transaction: a reader never sees them apart.
        lifecycle.refresh_totals(run.campana_id, finish=False, conn=conn)
        lifecycle.settle_cancelled(conn, run.campana_id)


def _params(values: dict) -> dict:
    """Bind names for an outcome's values (SQLAlchemy reserves the plain column names)."""
    return {f"p_{name}": value for name, value in values.items()}


def _outcome_update(columns: tuple[str, ...]):
    """UPDATE of one row's outcome, guarded by ``estado = 'enviando'``, for executemany."""
    mine = LOG.update().where(LOG.c.id == sa.bindparam("row_id"), LOG.c.estado == "enviando")
    values = {name: sa.bindparam(f"p_{name}") for name in columns}
    return mine.values(**values, intentos=LOG.c.intentos + sa.bindparam("n"))


def _values(result: Result, reason: str) -> dict:
    """Column values for a row's outcome."""
    o = result.outcome
    code, text = (o.code, o.message) if o else (None, "")
    if result.kind == "halted":  # never reached Twilio: sent later, or cancelled
        return {"estado": "pendiente", "reclamado": None, "enviado_en": None}
    if result.kind == "skipped":  # the gate stopped it: never reached Twilio
        kind, detail = result.reason
        motivo = elegibilidad.MOTIVOS[kind]
        return {
            "estado": "omitido",
            "motivo": motivo,
            "error_mensaje": detail,
            "reclamado": None,
            "enviado_en": None,
        }
    if result.kind == "sent":
        m = result.message
        segments = getattr(m, "num_segments", None)
        values = {"estado": "enviado", "twilio_sid": m.sid, "error_codigo": None, "error_mensaje": None}
        return values | ({"segmentos": int(segments)} if str(segments or "").isdigit() else {})
    failed = {"estado": "fallido", "error_codigo": code}
    if result.kind == "permanent":
        return failed | {"error_mensaje": text}
    if result.kind == "review":
        return failed | {"requiere_revision": True, "error_mensaje": f"{REVIEW}. {text}".strip()}
    if result.kind == "exhausted":
        text = f"No se pudo enviar tras {result.attempts} intentos: {text}"
    elif result.kind == "credentials":
        text = reason
    elif result.kind == "aborted":
        text = f"No enviado: {reason or 'la campaña se detuvo'}"
    return failed | {"reintentable": True, "error_mensaje": text}


def _track_failures(run: _Run, result: Result) -> None:
    """Stop the campaign on bad credentials, or when Twilio keeps failing (it is down)."""
    if result.kind == "credentials":
        run.reason = f"Credenciales de Twilio inválidas ({result.outcome.code}): {result.outcome.message}"
        run.stop.set()
    elif result.kind == "exhausted":
        run.failures += 1
        if run.failures >= run.settings.abort_after:
            run.reason = f"Twilio no disponible: {result.outcome.message if result.outcome else ''}".strip()
            run.stop.set()
    elif result.kind == "sent":
        run.failures = 0


def _abort(campana_id: int, reason: str) -> None:
    """The campaign cannot run: every row still pending fails with the reason (safe to retry)."""
    now = utcnow()
    with db.engine.begin() as conn:
        pending = LOG.update().where(LOG.c.id_campana == campana_id, LOG.c.estado == "pendiente")
        conn.execute(
            pending.values(estado="fallido", reintentable=True, error_mensaje=reason, actualizado=now)
        )
        lifecycle.fail(conn, campana_id, reason)
        lifecycle.refresh_totals(campana_id, finish=False, conn=conn)
