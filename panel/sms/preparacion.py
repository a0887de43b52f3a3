"""A campaign to many recipients, prepared in the background (``preparando``).

The confirmation freezes the recipients (their ids, ordered and compressed, in the campaign row)
and answers at once; a preparer (``runners.prepare_in_app``: an RQ job or a thread, the
dispatcher's choice) writes the outbox in chunks, each committed with a checkpoint, then moves
the campaign to ``pendiente`` or ``programada`` exactly as a campaign written at confirmation
starts, and dispatches it. Nothing sends while ``preparando``: the claim takes rows only from a
campaign ``procesando`` (lifecycle.sending_clause), and no transition leads there from
``preparando`` but ``finish_preparing``.

A preparer that dies mid-way leaves committed chunks and a checkpoint that ages: a poller
(``lifecycle.stale_preparations``) resumes it; the rows already written are skipped (one row per
client: ``uq_sms_log_campana_cliente``) and the phones already planned carry over, so each
client gets exactly one row. Each checkpoint is conditional on the preparer's own token, so a
preparer that lost the campaign to a resumer (or to "Cancelar") rolls its chunk back and stops.
"""

import zlib
from array import array
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from .. import ahead, audit, tenancy
from ..extensions import db
from ..models import CampanaSMS, Cliente, SMSLog, Usuario, utcnow
from . import lifecycle, writers
from .planning import OutboxError, plan
from .render import TemplateError, personalizer

# Recipients planned and written per checkpoint. 10,000 rather than 20,000: the first chunk's plan
# and the last chunk's insert run alone, so smaller chunks overlap more (B3, docs/performance.md).
CHUNK = 10_000
WRITERS = 2  # PostgreSQL: chunks inserted at once, each through its own connection (writers.py)
LOG = SMSLog.__table__
CAMPANA = CampanaSMS.__table__
# Historial says when a campaign was exempt from the window and the cap (SPEC §10).
TIPO_RESUMEN = {"comercial": "", "transaccional": " transaccional (sin ventana ni tope)"}
# Tests pause a preparer between two chunks (a real pause, to watch what a sender does meanwhile).
after_chunk: Callable[[int, int], None] | None = None


def freeze(ids: list[int]) -> bytes:
    """Ascending ids as their differences, 32-bit, compressed: a tenant's million clients are
    mostly close together, so this is a few hundred kilobytes at most."""
    deltas = array("I", (b - a for a, b in zip([0, *ids], ids, strict=False)))
    return zlib.compress(deltas.tobytes(), 1)


def thaw(blob: bytes) -> list[int]:
    deltas = array("I")
    deltas.frombytes(zlib.decompress(blob))
    out, total = [], 0
    append = out.append
    for d in deltas:
        total += d
        append(total)
    return out


def recipient_ids(cliente_query, limit: int | None = None) -> list[int]:
    """The selected clients' ids in order (the tenancy hook scopes the query). On PostgreSQL,
    without a limit, one row holding one array: a million result rows cost the driver and the
    ORM several times more than one array its C loader parses."""
    stmt = cliente_query.order_by(None)
    if limit is None and db.session.get_bind().dialect.name == "postgresql":
        ordered = aggregate_order_by(Cliente.id_cliente, Cliente.id_cliente)
        return db.session.scalar(stmt.with_only_columns(sa.func.array_agg(ordered))) or []
    stmt = stmt.with_only_columns(Cliente.id_cliente).order_by(Cliente.id_cliente)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def create_preparing(
    user: Usuario, tenant: int, ids: list[int], *, mensaje: str, nombre: str, siguiente, **fields
) -> CampanaSMS:
    """The campaign ``preparando`` with its recipients frozen (committed): what the confirmation
    writes instead of the whole outbox. A bad template is refused here, before anything is written
    (the preparer could only fail on it later)."""
    try:
        personalizer(mensaje)
    except TemplateError as exc:
        raise OutboxError(str(exc), field="mensaje") from None
    campana = CampanaSMS(
        nombre=nombre,
        mensaje=mensaje,
        estado=lifecycle.PREPARING,
        siguiente_envio=siguiente,
        id_usuario=user.id,
        id_propietario=tenant,
        preparacion=freeze(ids),
        preparacion_total=len(ids),
        preparacion_latido=utcnow(),  # a preparation never taken is resumed from here
        **fields,
    )
    db.session.add(campana)
    db.session.commit()
    return campana


def prepare(campana_id: int) -> str | None:
    """Write the rest of the campaign's outbox; the estado it left ``preparando`` for, or None
    when it did not (cancelled, finished or taken over by another preparer)."""
    row = db.session.execute(
        sa.select(CAMPANA.c.estado, CAMPANA.c.preparacion, CAMPANA.c.preparacion_latido).where(
            CAMPANA.c.id == campana_id
        )
    ).first()
    if row is None or row.estado != lifecycle.PREPARING or row.preparacion is None:
        return None
    token = utcnow()
    with db.engine.begin() as conn:
        if not lifecycle.take_preparation(conn, campana_id, row.preparacion_latido, token):
            return None
    campana = db.session.get(CampanaSMS, campana_id)
    with tenancy.using(campana.id_propietario):
        token = _write_rest(campana, thaw(row.preparacion), token)
        if token is None:
            return None
        return _finish(campana, token)


def _write_rest(campana: CampanaSMS, ids: list[int], token):
    """The chunks not yet written, each committed behind its checkpoint (writers.py); the last
    token, or None when a checkpoint was refused (that chunk rolled back: it wrote nothing)."""
    written, seen = _already_written(campana.id)
    remaining = [i for i in ids if i not in written]
    del written
    chunks = [remaining[start : start + CHUNK] for start in range(0, len(remaining), CHUNK)]
    fence = writers.Fence(campana.id, campana.id_propietario, token, after_chunk)
    plans = _plans(campana, chunks, seen)
    try:
        if db.session.get_bind().dialect.name == "postgresql" and len(chunks) > 1:
            db.session.rollback()  # this session's read is done; the writers have their own
            whole = writers.at_once(fence, plans, WRITERS)
        else:
            whole = writers.one_by_one(fence, plans)
        return fence.token if whole else None
    finally:
        plans.close()  # a planner thread still ahead stops


def _plans(campana: CampanaSMS, chunks: list[list[int]], seen: dict[str, int]) -> Iterator:
    """Each chunk's plan, in order. On PostgreSQL a planner thread plans the next chunk while
    chunks are inserted (the database's work and Python's overlap, on two CPUs); it only reads,
    so a refused checkpoint or a crash leaves nothing of it behind. The phones planned so far
    (``seen``) are the planner's alone, chunk after chunk as before. The campaign's fields are
    read here, in the caller's thread: the plans may be taken in a writer's."""
    args = (campana.mensaje or "", campana.tipo, campana.programada_para)
    kwargs = {"acortar_enlaces": campana.acortar_enlaces, "seen": seen}

    def make(chunk: list[int]):
        return plan(_chunk_query(chunk), *args, **kwargs)

    if db.session.get_bind().dialect.name != "postgresql":
        return (make(chunk) for chunk in chunks)
    return ahead.ahead(make, chunks, name="sms-plan")


def _already_written(campana_id: int) -> tuple[set[int], dict[str, int]]:
    """The clients a previous preparer wrote, and the phones they already planned to send to."""
    stmt = sa.select(LOG.c.id_cliente, LOG.c.telefono, LOG.c.estado).where(LOG.c.id_campana == campana_id)
    written, seen = set(), {}
    for id_cliente, telefono, estado in db.session.execute(stmt):
        written.add(id_cliente)
        if estado == "pendiente" and telefono:
            seen[telefono] = id_cliente
    return written, seen


def _chunk_query(chunk: list[int]):
    """The chunk's clients: on PostgreSQL one parameter, the ids as one comma-separated text made
    an array by the server (psycopg dumps an int list element by element: ~15 % of a chunk's
    plan), elsewhere an expanding IN."""
    if db.session.get_bind().dialect.name == "postgresql":
        text = sa.bindparam("ids_chunk", ",".join(map(str, chunk)), type_=sa.Text)
        ids = sa.cast(sa.func.string_to_array(text, ","), ARRAY(sa.Integer))
        return sa.select(Cliente).where(Cliente.id_cliente == sa.any_(ids))
    return sa.select(Cliente).where(Cliente.id_cliente.in_(chunk))


def _finish(campana: CampanaSMS, token) -> str | None:
    """The outbox is whole: its totals, the Historial line the confirmation writes for a small
    campaign, and the estado a sender takes it in."""
    conn = db.session.connection()
    c = lifecycle.refresh_totals(campana.id, finish=False, conn=conn)
    estado = lifecycle.finish_preparing(conn, campana.id, token, c["pendiente"])
    if estado is None:
        db.session.rollback()
        return None
    resumen = f"{c['pendiente']} por enviar, {c['omitido']} omitidos"
    audit.record(
        "sms",
        "CampanaSMS",
        filas=c["total"],
        objeto_id=campana.id,
        resumen=f"Campaña SMS{TIPO_RESUMEN[campana.tipo]} «{campana.nombre}»: {resumen}",
        detalle={"filtros": campana.filtros, "omitidos": c["omitido"], "tipo": campana.tipo},
        id_propietario=campana.id_propietario,
        usuario_id=campana.id_usuario,
    )
    db.session.commit()
    return estado
