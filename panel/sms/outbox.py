"""The durable outbox: a campaign and all its SMSLog rows, written in one transaction.

``dry_run`` and ``create_campaign`` share one plan: which recipients get which text, who is
skipped and why. The plan reads plain column rows (no ORM objects); every recipient's row points
at one shared ``Salida`` (the text, its encoding and segments, or the skip reason), computed once
per distinct text or reason; the log rows are written with one Core insert per chunk that sends
each distinct ``Salida`` once (docs/decisions/outbox.md).
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from .. import audit, clock, formatting, tenancy
from ..extensions import db
from ..models import CampanaSMS, Cliente, SMSLog, Usuario, utcnow
from . import exclusions, lifecycle, reglas, tope, ventana
from .elegibilidad import MOTIVOS, cap_reason, countries, planned_reason, skip_reason
from .encoding import analyze
from .render import TemplateError, personalizer

CHUNK = 10_000
# A moment this close to now is "now" (a start computed a few milliseconds ago).
GRACE = timedelta(seconds=1)
# Historial says when a campaign was exempt from the window and the cap (SPEC §10).
TIPO_RESUMEN = {"comercial": "", "transaccional": " transaccional (sin ventana ni tope)"}
PREVIEW = 3


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a plan is built and written: its 100,000 rows and
    tuples hold no cycles (reference counting frees them), yet allocating them set off two full
    collections of the whole heap, ~0.5 s of a 100,000-recipient outbox. Collection resumes
    after (if it was on: another caller may have paused it)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class OutboxError(ValueError):
    """Bad input for a campaign; nothing was created. The message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Salida(NamedTuple):
    """What a log row says: shared by every recipient with the same text (or the same reason)."""

    mensaje: str
    estado: str
    motivo: str | None
    error_mensaje: str | None
    segmentos: int | None
    codificacion: str | None
    non_gsm: tuple[str, ...] = ()


# The columns a Salida fills, in its field order (the rest of a row is the recipient's or fixed).
SALIDA_KEYS = Salida._fields[:6]


class Fila(NamedTuple):
    """One recipient of the plan: the client's column row, the phone written and its Salida."""

    cliente: object
    telefono: str | None
    salida: Salida

    @property
    def id_cliente(self) -> int:
        return self.cliente.id_cliente

    @property
    def nombre(self) -> str:
        c = self.cliente
        return f"{c.nombre_cliente} {c.apellido_cliente}" if c.apellido_cliente else c.nombre_cliente


@dataclass
class Plan:
    """Every recipient's row: the text to send, or the reason it is skipped; and when sending
    starts (``inicio``, aware UTC) under which rules (``reglas``: None when exempt)."""

    rows: list[Fila] = field(default_factory=list)
    tipo: str = "comercial"
    rules: reglas.Reglas | None = None
    inicio: datetime | None = None

    @property
    def sendable(self) -> list[Fila]:
        return [r for r in self.rows if r.salida.estado == "pendiente"]

    @property
    def skipped(self) -> list[Fila]:
        return [r for r in self.rows if r.salida.estado == "omitido"]


def _recipients(cliente_query):
    """The selected clients as plain rows (the tenancy hook scopes the query); the phone comes
    already in E.164 (``telefono_e164``, derived on save by panel/phones.py)."""
    stmt = cliente_query.with_only_columns(
        Cliente.id_cliente,
        Cliente.id_propietario,
        Cliente.nombre_cliente,
        Cliente.apellido_cliente,
        Cliente.telefono,
        Cliente.telefono_e164,
        Cliente.estado,
        Cliente.acepta_sms,
        Cliente.id_pais,
    )
    return db.session.execute(stmt.order_by(None).order_by(Cliente.id_cliente)).all()


def _memo(personalise):
    """The Salida of a sendable row per (nombre, apellido): names repeat across a campaign (many
    clients share a first name), so each distinct one is personalised once, and each distinct
    text analysed once (two names may give one text: a message without {apellido})."""
    by_name: dict[tuple, Salida] = {}
    by_text: dict[str, Salida] = {}

    def salida_of(nombre, apellido) -> Salida:
        key = (nombre, apellido)
        if key not in by_name:
            text = personalise(nombre, apellido)
            if text not in by_text:
                info = analyze(text)
                by_text[text] = Salida(
                    text, "pendiente", None, None, info.segments, info.encoding, tuple(info.non_gsm)
                )
            by_name[key] = by_text[text]
        return by_name[key]

    return salida_of


def _omitted() -> Callable[[tuple[str, str]], Salida]:
    """The Salida of a skipped row per reason: most reasons are one text shared by many rows."""
    cache: dict[tuple[str, str], Salida] = {}

    def salida_of(reason: tuple[str, str]) -> Salida:
        if reason not in cache:
            cache[reason] = Salida("", "omitido", MOTIVOS[reason[0]], reason[1], None, None)
        return cache[reason]

    return salida_of


def start_of(rules: reglas.Reglas | None, programada_para: datetime | None) -> datetime:
    """When a campaign starts sending (aware UTC): its scheduled time or now, moved to the next
    opening of the contact window when the rules bind it."""
    start = programada_para.replace(tzinfo=UTC) if programada_para else clock.now()
    start = max(start, clock.now())
    return rules.ventana.next_opening(start).astimezone(UTC) if rules else start


def plan(
    cliente_query,
    mensaje: str,
    tipo: str = "comercial",
    programada_para: datetime | None = None,
    review: bool = False,
) -> Plan:
    """Personalise the message for every recipient (commercial ones end with the tenant's
    opt-out text, counted in the segments), or record why one is skipped. The ``review`` also
    skips the phones another campaign already plans to reach that day; the outbox leaves them to
    the check at send time (whichever campaign sends first takes the day)."""
    try:
        personalise = personalizer(mensaje)
    except TemplateError as exc:
        raise OutboxError(str(exc), field="mensaje") from None
    recipients = _recipients(cliente_query)
    tenant = recipients[0].id_propietario if recipients else None  # a campaign has one tenant
    rules = reglas.of_tenant(tenant) if reglas.binds(tipo) else None
    sent, omitted = _memo(_with_opt_out(personalise, rules)), _omitted()
    iso = countries()
    result, seen = Plan(tipo=tipo, rules=rules, inicio=start_of(rules, programada_para)), {}
    blocked = _blocked(recipients, rules, result.inicio, review)
    append = result.rows.append
    for c in recipients:
        phone = c.telefono_e164
        reason = skip_reason(c, seen, iso, blocked)
        if reason:
            append(Fila(c, phone or c.telefono or None, omitted(reason)))
        else:
            seen[phone] = c.id_cliente
            append(Fila(c, phone, sent(c.nombre_cliente, c.apellido_cliente)))
    return result


def _with_opt_out(personalise, rules: reglas.Reglas | None):
    return lambda nombre, apellido: reglas.with_opt_out(personalise(nombre, apellido), rules)


def _blocked(recipients, rules: reglas.Reglas | None, inicio: datetime, review: bool) -> dict[str, str]:
    """The excluded numbers among the recipients, per tenant (a campaign has one), and — for a
    commercial campaign — those the cap already used up on the day sending starts (and, in the
    review, those another campaign plans to reach that day)."""
    by_tenant: dict[int, set[str]] = {}
    for tenant in {c.id_propietario for c in recipients}:
        by_tenant[tenant] = {c.telefono_e164 for c in recipients if c.id_propietario == tenant}
    out: dict[str, str] = {}
    for tenant, numbers in by_tenant.items():
        if rules is not None:
            if review:
                kind = planned_reason(rules.tope)[0]
                out |= {n: kind for n in tope.planned(tenant, numbers, inicio, rules.tope)}
            kind = cap_reason(rules.tope)[0]
            out |= {n: kind for n in tope.capped(tenant, numbers, inicio, rules.tope)}
        out |= exclusions.blocked(tenant, numbers, comercial=rules is not None)
    return out


def dry_run(
    cliente_query, mensaje: str, tipo: str = "comercial", programada_para=None, rate: float = 0
) -> dict:
    """What sending would do, without writing: recipients, skipped and why, segments, UCS-2,
    and when it will start and end (``rate``: messages per second)."""
    with gc_paused():
        p = plan(cliente_query, mensaje, tipo, programada_para, review=True)
    sendable, skipped = p.sendable, p.skipped
    motivos: dict[str, int] = {}
    for r in skipped:
        motivos[r.salida.motivo] = motivos.get(r.salida.motivo, 0) + 1
    return {
        "total": len(p.rows),
        "enviables": len(sendable),
        "omitidos": [
            {"id_cliente": r.id_cliente, "nombre": r.nombre, "telefono": r.telefono}
            | {"error_mensaje": r.salida.error_mensaje}
            for r in skipped
        ],
        "motivos": motivos,
        "segmentos_total": sum(r.salida.segmentos for r in sendable),
        "ucs2": [
            {"id_cliente": r.id_cliente, "nombre": r.nombre, "caracteres": "".join(r.salida.non_gsm)}
            for r in sendable
            if r.salida.codificacion == "UCS-2"
        ],
        "vista_previa": [_preview(r) for r in sendable[:PREVIEW]],
        "envio": timing(p, len(sendable), rate),
    }


def _preview(r: Fila) -> dict:
    s = r.salida
    return {"id_cliente": r.id_cliente, "nombre": r.nombre, "telefono": r.telefono, "mensaje": s.mensaje} | {
        "segmentos": s.segmentos,
        "codificacion": s.codificacion,
    }


def timing(p: Plan, n: int, rate: float) -> dict:
    """When the campaign sends: its start and estimated end, and how many messages fit in the
    start day's window at the configured rate (for a commercial campaign)."""
    now = clock.now()
    waits = p.inicio > now + GRACE
    out = {
        "tipo": p.tipo,
        "inicio": p.inicio,
        "inicio_texto": ventana.describe_start(p.inicio) if waits else "se enviará de inmediato",
        "fin": None,
        "fin_texto": None,
        "caben_hoy": None,
    }
    if p.rules is not None and n:
        end = p.rules.ventana.finish(p.inicio, n, rate)
        out |= {
            "fin": end,
            "fin_texto": ventana.describe_end(end),
            "caben_hoy": p.rules.ventana.fits(p.inicio, rate),
        }
    return out


def tenant_of(user: Usuario, cliente_query) -> int | None:
    """The campaign's tenant: the user's, or (superadmin) the one tenant of the recipients."""
    if user.tenant_id is not None:
        return user.tenant_id
    stmt = cliente_query.with_only_columns(Cliente.id_propietario).distinct().order_by(None)
    owners = db.session.scalars(stmt.limit(2)).all()
    if len(owners) > 1:
        raise OutboxError("Los destinatarios pertenecen a varios propietarios: filtre por uno solo.")
    return owners[0] if owners else None


def sending_for(user: Usuario, cliente_query):
    """The scope a campaign is validated and written in: a superadmin sends for the recipients'
    tenant (``tenancy.writing_for``), so its templates and checks are that tenant's."""
    return tenancy.writing_for(user, tenant_of(user, cliente_query))


def create_campaign(
    *,
    user_id: int,
    cliente_query,
    mensaje: str,
    nombre=None,
    id_plantilla=None,
    filtros=None,
    programada_para=None,
    tipo: str = "comercial",
) -> CampanaSMS:
    """Write the campaign and all its log rows in one transaction; raise OutboxError on bad input.

    With ``programada_para`` (naive UTC), or outside the contact window for a commercial one,
    the campaign waits, ``programada``, for the pollers (``siguiente_envio``)."""
    try:
        with gc_paused():
            return _create(
                user_id, cliente_query, mensaje, nombre, id_plantilla, filtros, programada_para, tipo
            )
    except Exception:
        db.session.rollback()
        raise


def _create(
    user_id, cliente_query, mensaje, nombre, id_plantilla, filtros, programada_para, tipo
) -> CampanaSMS:
    user = db.session.get(Usuario, user_id)
    if user is None:
        raise OutboxError("Usuario desconocido.")
    p = plan(cliente_query, mensaje or "", tipo, programada_para)
    siguiente = p.inicio.replace(tzinfo=None) if p.inicio > clock.now() + GRACE else None
    tenant = tenant_of(user, cliente_query)
    if not p.sendable:
        raise OutboxError("Ningún destinatario puede recibir el SMS (revise los omitidos).")
    nombre = (nombre or "").strip() or f"Campaña SMS {formatting.date_time(utcnow())}"
    campana = CampanaSMS(
        nombre=nombre,
        mensaje=mensaje,
        id_plantilla=id_plantilla,
        filtros=filtros,
        estado=lifecycle.initial(siguiente),
        programada_para=programada_para,
        siguiente_envio=siguiente,
        tipo=tipo,
        id_usuario=user.id,
        id_propietario=tenant,
    )
    db.session.add(campana)
    db.session.flush()
    _insert_rows(campana.id, tenant, p.rows)
    lifecycle.refresh_totals(campana.id, finish=False)
    audit.record(
        "sms",
        "CampanaSMS",
        filas=len(p.rows),
        objeto_id=campana.id,
        resumen=f"Campaña SMS{TIPO_RESUMEN[tipo]} «{campana.nombre}»: {len(p.sendable)} por enviar, "
        f"{len(p.skipped)} omitidos",
        detalle={"filtros": filtros, "omitidos": len(p.skipped), "tipo": tipo},
        id_propietario=tenant,
        usuario_id=user.id,
    )
    db.session.commit()
    return campana


def _insert_rows(campana_id: int, tenant: int, rows: list[Fila]) -> None:
    """Write the log rows set-based, never one ORM object per row."""
    fixed = {"id_campana": campana_id, "id_propietario": tenant, "intentos": 0}
    fixed |= {"requiere_revision": False, "reintentable": False, "creado": utcnow(), "actualizado": utcnow()}
    write = _insert_joined if db.session.get_bind().dialect.name == "postgresql" else _insert_many
    for start in range(0, len(rows), CHUNK):
        write(rows[start : start + CHUNK], fixed)


def _insert_many(batch: list[Fila], fixed: dict) -> None:
    """SQLite: one executemany per batch, of plain tuples in the statement's column order. The
    constant values go through their column types once; the per-row values are ints, texts and
    NULLs, which need no conversion — SQLAlchemy's per-row parameter processing would double
    the time of a 100,000-row campaign."""
    table, conn = SMSLog.__table__, db.session.connection()
    columns = ("id_cliente", "telefono", *SALIDA_KEYS, *fixed)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    constants = tuple(_bound(table.c[k], v, conn.dialect) for k, v in fixed.items())
    conn.exec_driver_sql(sql, [(r.cliente.id_cliente, r.telefono, *r.salida[:6], *constants) for r in batch])


def _bound(column, value, dialect):
    """``value`` as the driver receives it for ``column`` (e.g. a datetime as SQLite's text)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)  # SQLite's DATETIME, say
    return process(value) if process else value


def _insert_joined(batch: list[Fila], fixed: dict) -> None:
    """PostgreSQL: one INSERT … SELECT per batch that sends each distinct Salida once (a few
    hundred texts for 10,000 rows, instead of 10,000 texts psycopg would quote one by one) and,
    per row, the client, the phone and the number of its Salida; the rows go in plan order.
    psycopg would send an executemany as one INSERT per row, and COPY is refused on tables
    under row level security."""
    table = SMSLog.__table__
    numbers: dict[Salida, int] = {}
    which = [numbers.setdefault(r.salida, len(numbers) + 1) for r in batch]  # 1-based: ORDINALITY
    salidas = list(numbers)
    params = {
        # Integers travel as one comma-separated text: no per-element quoting or escaping.
        "ids": ",".join(str(r.cliente.id_cliente) for r in batch),
        "salida": ",".join(map(str, which)),
        "telefonos": [r.telefono for r in batch],
    }
    params |= {k: [s[i] for s in salidas] for i, k in enumerate(SALIDA_KEYS)}
    params |= {f"k_{k}": v for k, v in fixed.items()}
    binds = [sa.bindparam("telefonos", type_=ARRAY(table.c.telefono.type))]
    binds += [sa.bindparam(k, type_=ARRAY(table.c[k].type)) for k in SALIDA_KEYS]
    binds += [sa.bindparam(f"k_{k}", type_=table.c[k].type) for k in fixed]
    columns = ("id_cliente", "telefono", *SALIDA_KEYS, *fixed)
    stmt = sa.text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT f.id_cliente, f.telefono, {', '.join(f's.{k}' for k in SALIDA_KEYS)}, "
        f"{', '.join(f':k_{k}' for k in fixed)} "
        "FROM unnest(string_to_array(:ids, ',')::integer[], :telefonos,"
        " string_to_array(:salida, ',')::integer[])"
        " WITH ORDINALITY AS f(id_cliente, telefono, salida, orden) "
        f"JOIN unnest({', '.join(f':{k}' for k in SALIDA_KEYS)}) WITH ORDINALITY"
        f" AS s({', '.join(SALIDA_KEYS)}, numero) ON s.numero = f.salida "
        "ORDER BY f.orden"
    ).bindparams(*binds)
    db.session.execute(stmt, params)
