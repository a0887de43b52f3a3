"""The durable outbox: a campaign and all its SMSLog rows, written in one transaction.

``dry_run`` and ``create_campaign`` share one plan: which recipients get which text, who is
skipped and why. The plan reads plain column rows (no ORM objects) and the log rows are
written with batched Core inserts, so a campaign of thousands of clients stays cheap.
"""

import operator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from .. import audit, clock, formatting, tenancy
from ..extensions import db
from ..models import CampanaSMS, Cliente, Pais, SMSLog, Usuario, utcnow
from . import exclusions, lifecycle, reglas, tope, ventana
from .encoding import analyze
from .render import TemplateError, personalizer

CHUNK = 10_000
# A moment this close to now is "now" (a start computed a few milliseconds ago).
GRACE = timedelta(seconds=1)
# Historial says when a campaign was exempt from the window and the cap (SPEC §10).
TIPO_RESUMEN = {"comercial": "", "transaccional": " transaccional (sin ventana ni tope)"}
PREVIEW = 3
MOTIVOS = {
    "inactivo": "Cliente inactivo",
    "deshabilitado": "Cliente deshabilitado",
    "opt_out": "El cliente no acepta SMS (se dio de baja)",
    "sin_telefono": "Sin teléfono",
    "telefono_invalido": "Teléfono inválido para su país",
    "duplicado": "Teléfono duplicado en la campaña",
    "fijo": "Teléfono fijo: no recibe SMS",
    "excluido": "En la lista de exclusión de la empresa (se dio de baja)",
    "rne": "Inscrito en el Registro de Números Excluidos",
    "tope": tope.MOTIVO["dia"],
    "tope_semana": tope.MOTIVO["semana"],
}


def cap_reason(tope_: str) -> tuple[str, str]:
    """The skip reason of the daily (or weekly) cap, as (kind, text)."""
    kind = "tope" if tope_ == "dia" else "tope_semana"
    return kind, MOTIVOS[kind]


class OutboxError(ValueError):
    """Bad input for a campaign; nothing was created. The message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Plan:
    """Every recipient's row: the text to send, or the reason it is skipped; and when sending
    starts (``inicio``, aware UTC) under which rules (``reglas``: None when exempt)."""

    rows: list[dict] = field(default_factory=list)
    tipo: str = "comercial"
    rules: reglas.Reglas | None = None
    inicio: datetime | None = None

    @property
    def sendable(self) -> list[dict]:
        return [r for r in self.rows if r["estado"] == "pendiente"]

    @property
    def skipped(self) -> list[dict]:
        return [r for r in self.rows if r["estado"] == "omitido"]


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


def skip_reason(
    c, seen: dict[str, int] | None = None, iso: dict | None = None, blocked: dict[str, str] | None = None
) -> tuple[str, str] | None:
    """Why a client gets no SMS, as (kind, text), or None when it does: the one rule of the plan
    at confirmation and of the sender's check at send time (``blocked``: exclusions.blocked)."""
    phone, seen = c.telefono_e164, seen if seen is not None else {}
    if c.estado != 1:
        kind = "deshabilitado" if c.estado == 3 else "inactivo"
        return kind, MOTIVOS[kind]
    if not c.acepta_sms:
        return "opt_out", MOTIVOS["opt_out"]
    if not (c.telefono or "").strip():
        return "sin_telefono", MOTIVOS["sin_telefono"]
    if phone is None:
        pais = (iso if iso is not None else _iso()).get(c.id_pais, "?")
        return "telefono_invalido", f"{MOTIVOS['telefono_invalido']} ({pais}): {c.telefono}"
    if blocked and phone in blocked:
        return blocked[phone], MOTIVOS[blocked[phone]]
    if phone in seen:
        return "duplicado", f"{MOTIVOS['duplicado']} (igual al del cliente #{seen[phone]})"
    return None


def _iso() -> dict:
    return {i: code for i, code in db.session.execute(sa.select(Pais.id, Pais.codigo_iso))}


def _memo(personalise):
    """The text and its encoding per (nombre, apellido): names repeat across a campaign (many
    clients share a first name), so each distinct one is personalised and analysed once."""
    cache: dict[tuple, tuple] = {}

    def text_of(nombre, apellido) -> tuple:
        key = (nombre, apellido)
        if key not in cache:
            text = personalise(nombre, apellido)
            cache[key] = (text, analyze(text))
        return cache[key]

    return text_of


def start_of(rules: reglas.Reglas | None, programada_para: datetime | None) -> datetime:
    """When a campaign starts sending (aware UTC): its scheduled time or now, moved to the next
    opening of the contact window when the rules bind it."""
    start = programada_para.replace(tzinfo=UTC) if programada_para else clock.now()
    start = max(start, clock.now())
    return rules.ventana.next_opening(start).astimezone(UTC) if rules else start


def plan(
    cliente_query, mensaje: str, tipo: str = "comercial", programada_para: datetime | None = None
) -> Plan:
    """Personalise the message for every recipient (commercial ones end with the tenant's
    opt-out text, counted in the segments), or record why one is skipped."""
    try:
        personalise = personalizer(mensaje)
    except TemplateError as exc:
        raise OutboxError(str(exc), field="mensaje") from None
    recipients = _recipients(cliente_query)
    tenant = recipients[0].id_propietario if recipients else None  # a campaign has one tenant
    rules = reglas.of_tenant(tenant) if reglas.binds(tipo) else None
    if rules is not None:
        personalise = _with_opt_out(personalise, rules.texto_baja)
    text_of = _memo(personalise)
    iso = {i: code for i, code in db.session.execute(sa.select(Pais.id, Pais.codigo_iso))}
    result, seen = Plan(tipo=tipo, rules=rules, inicio=start_of(rules, programada_para)), {}
    blocked = _blocked(recipients, rules, result.inicio)
    for c in recipients:
        phone = c.telefono_e164
        reason = skip_reason(c, seen, iso, blocked)
        row = {
            "id_cliente": c.id_cliente,
            "id_propietario": c.id_propietario,
            "nombre": f"{c.nombre_cliente} {c.apellido_cliente}" if c.apellido_cliente else c.nombre_cliente,
            "telefono": phone or c.telefono or None,
        }
        if reason:
            row |= {
                "estado": "omitido",
                "motivo": MOTIVOS[reason[0]],
                "error_mensaje": reason[1],
                "mensaje": "",
            }
            row |= {"segmentos": None, "codificacion": None}
        else:
            seen[phone] = c.id_cliente
            text, info = text_of(c.nombre_cliente, c.apellido_cliente)
            row |= {"estado": "pendiente", "motivo": None, "error_mensaje": None, "mensaje": text}
            row |= {"segmentos": info.segments, "codificacion": info.encoding, "non_gsm": info.non_gsm}
        result.rows.append(row)
    return result


def _with_opt_out(personalise, texto_baja: str):
    return lambda nombre, apellido: personalise(nombre, apellido) + texto_baja


def _blocked(recipients, rules: reglas.Reglas | None, inicio: datetime) -> dict[str, str]:
    """The excluded numbers among the recipients, per tenant (a campaign has one), and — for a
    commercial campaign — those the cap already used up on the day sending starts."""
    by_tenant: dict[int, set[str]] = {}
    for c in recipients:
        by_tenant.setdefault(c.id_propietario, set()).add(c.telefono_e164)
    out: dict[str, str] = {}
    for tenant, numbers in by_tenant.items():
        if rules is not None:
            kind = cap_reason(rules.tope)[0]
            out |= {n: kind for n in tope.capped(tenant, numbers, inicio, rules.tope)}
        out |= exclusions.blocked(tenant, numbers, comercial=rules is not None)
    return out


def dry_run(
    cliente_query, mensaje: str, tipo: str = "comercial", programada_para=None, rate: float = 0
) -> dict:
    """What sending would do, without writing: recipients, skipped and why, segments, UCS-2,
    and when it will start and end (``rate``: messages per second)."""
    p = plan(cliente_query, mensaje, tipo, programada_para)
    sendable, skipped = p.sendable, p.skipped
    motivos: dict[str, int] = {}
    for r in skipped:
        motivos[r["motivo"]] = motivos.get(r["motivo"], 0) + 1
    pick = ("id_cliente", "nombre", "telefono", "mensaje", "segmentos", "codificacion")
    return {
        "total": len(p.rows),
        "enviables": len(sendable),
        "omitidos": [
            {k: r[k] for k in ("id_cliente", "nombre", "telefono", "error_mensaje")} for r in skipped
        ],
        "motivos": motivos,
        "segmentos_total": sum(r["segmentos"] for r in sendable),
        "ucs2": [
            {"id_cliente": r["id_cliente"], "nombre": r["nombre"], "caracteres": "".join(r["non_gsm"])}
            for r in sendable
            if r["codificacion"] == "UCS-2"
        ],
        "vista_previa": [{k: r[k] for k in pick} for r in sendable[:PREVIEW]],
        "envio": timing(p, len(sendable), rate),
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
    tenant (``tenancy.using``), so its templates and checks are that tenant's."""
    tenant = tenant_of(user, cliente_query)
    if user.tenant_id is not None or tenant is None:
        return nullcontext()
    return tenancy.using(tenant)


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
        return _create(user_id, cliente_query, mensaje, nombre, id_plantilla, filtros, programada_para, tipo)
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


ROW_KEYS = (
    "id_cliente",
    "telefono",
    "mensaje",
    "estado",
    "motivo",
    "error_mensaje",
    "segmentos",
    "codificacion",
)


def _insert_rows(campana_id: int, tenant: int, rows: list[dict]) -> None:
    """Write the log rows set-based, never one ORM object per row."""
    fixed = {"id_campana": campana_id, "id_propietario": tenant, "intentos": 0}
    fixed |= {"requiere_revision": False, "reintentable": False, "creado": utcnow(), "actualizado": utcnow()}
    write = _insert_unnest if db.session.get_bind().dialect.name == "postgresql" else _insert_many
    for start in range(0, len(rows), CHUNK):
        write(rows[start : start + CHUNK], fixed)


def _insert_many(batch: list[dict], fixed: dict) -> None:
    """SQLite: one executemany per batch, of plain tuples. The statement is compiled once and
    the constant values go through their column types once; the per-row values are ints,
    texts and NULLs, which need no conversion — SQLAlchemy's per-row parameter processing
    would double the time of a 100,000-row campaign."""
    table, conn = SMSLog.__table__, db.session.connection()
    compiled = sa.insert(table).compile(dialect=conn.dialect, column_keys=[*ROW_KEYS, *fixed])
    constants = {k: _bound(table.c[k], v, conn.dialect) for k, v in fixed.items()}
    as_tuple = operator.itemgetter(*compiled.positiontup)  # the statement's parameter order
    conn.exec_driver_sql(compiled.string, [as_tuple(r | constants) for r in batch])


def _bound(column, value, dialect):
    """``value`` as the driver receives it for ``column`` (e.g. a datetime as SQLite's text)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)  # SQLite's DATETIME, say
    return process(value) if process else value


def _insert_unnest(batch: list[dict], fixed: dict) -> None:
    """PostgreSQL: one INSERT … SELECT FROM unnest(<one array per column>) per batch. psycopg
    would send an executemany as one INSERT per row, and COPY is refused on tables under row
    level security."""
    table = SMSLog.__table__
    arrays = [sa.bindparam(k, [r[k] for r in batch], type_=ARRAY(table.c[k].type)) for k in ROW_KEYS]
    source = sa.func.unnest(*arrays).table_valued(*ROW_KEYS).render_derived()
    constants = [sa.literal(v, table.c[k].type) for k, v in fixed.items()]
    select = sa.select(*(source.c[k] for k in ROW_KEYS), *constants)
    db.session.execute(table.insert().from_select([*ROW_KEYS, *fixed], select))


def retry_failed(campana_id: int) -> int:
    """Put back to ``pendiente`` the failed rows Twilio certainly never got, for clients that
    still accept SMS; the campaign waits for a sender again. Returns how many rows."""
    t, c = SMSLog.__table__, Cliente.__table__
    still_ok = sa.select(c.c.id_cliente).where(c.c.estado == 1, c.c.acepta_sms.is_(True))
    stmt = t.update().where(
        t.c.id_campana == campana_id,
        t.c.estado == "fallido",
        t.c.reintentable.is_(True),
        t.c.requiere_revision.is_(False),
        t.c.id_cliente.in_(still_ok),
    )
    values = dict(
        estado="pendiente", reintentable=False, error_codigo=None, error_mensaje=None, reclamado=None
    )
    n = db.session.execute(stmt.values(**values, actualizado=clock.utcnow())).rowcount
    if n:
        lifecycle.reopen(db.session.connection(), campana_id)
        lifecycle.refresh_totals(campana_id, finish=False)
    return n
