"""The durable outbox: a campaign and all its SMSLog rows, written in one transaction.

``dry_run`` and ``create_campaign`` share one plan: which recipients get which text, who is
skipped and why (``planning.py``: every recipient's row points at one shared ``Contenido``, the
text, its encoding and segments, or the skip reason, computed once per distinct text or reason);
the log rows are written with one Core insert per chunk that sends each distinct ``Contenido``
once (``log_rows.py``; docs/decisions/outbox.md).
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app

from .. import audit, clock, formatting, tenancy
from ..extensions import db
from ..models import CampanaSMS, Cliente, Usuario, utcnow
from . import enlaces, lifecycle, preparacion, reglas, ventana
from .log_rows import _insert_rows
from .planning import Destinatario, OutboxError, Plan, plan, start_of
from .preparacion import TIPO_RESUMEN

# A moment this close to now is "now" (a start computed a few milliseconds ago).
GRACE = timedelta(seconds=1)
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


def dry_run(
    cliente_query,
    mensaje: str,
    tipo: str = "comercial",
    programada_para=None,
    rate: float = 0,
    acortar_enlaces: bool = False,
) -> dict:
    """What sending would do, without writing: recipients, skipped and why, segments, UCS-2,
    and when it will start and end (``rate``: messages per second)."""
    with gc_paused():
        p = plan(cliente_query, mensaje, tipo, programada_para, review=True, acortar_enlaces=acortar_enlaces)
    sendable, skipped = p.sendable, p.skipped
    motivos: dict[str, int] = {}
    for r in skipped:
        motivos[r.contenido.motivo] = motivos.get(r.contenido.motivo, 0) + 1
    return {
        "total": len(p.rows),
        "enviables": len(sendable),
        "omitidos": [
            {"id_cliente": r.id_cliente, "nombre": r.nombre, "telefono": r.telefono}
            | {"error_mensaje": r.contenido.error_mensaje}
            for r in skipped
        ],
        "motivos": motivos,
        "segmentos_total": sum(r.contenido.segmentos for r in sendable),
        "ucs2": [
            {"id_cliente": r.id_cliente, "nombre": r.nombre, "caracteres": "".join(r.contenido.non_gsm)}
            for r in sendable
            if r.contenido.codificacion == "UCS-2"
        ],
        "vista_previa": [_preview(r) for r in sendable[:PREVIEW]],
        "envio": timing(p, len(sendable), rate),
    }


def _preview(r: Destinatario) -> dict:
    s = r.contenido
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
    acortar_enlaces: bool = False,
) -> CampanaSMS:
    """Write the campaign and all its log rows in one transaction; raise OutboxError on bad input.

    With ``programada_para`` (naive UTC), or outside the contact window for a commercial one,
    the campaign waits, ``programada``, for the pollers (``siguiente_envio``). With
    ``acortar_enlaces`` each recipient's URLs become its own tracked short links. From
    ``SMS_PREPARE_FROM`` recipients the campaign is written ``preparando`` with its recipients
    frozen, and its outbox is written in the background (preparacion.py; the caller dispatches)."""
    try:
        with gc_paused():
            fields = (user_id, cliente_query, mensaje, nombre, id_plantilla, filtros, programada_para, tipo)
            threshold = current_app.config["SMS_PREPARE_FROM"]
            ids = preparacion.recipient_ids(cliente_query, limit=threshold)
            if len(ids) >= threshold:
                return _create_preparing(*fields, acortar_enlaces)
            return _create(*fields, acortar_enlaces)
    except Exception:
        db.session.rollback()
        raise


def _create_preparing(
    user_id, cliente_query, mensaje, nombre, id_plantilla, filtros, programada_para, tipo, acortar_enlaces
) -> CampanaSMS:
    """The campaign ``preparando``: its recipients frozen, its outbox left to a preparer."""
    user = db.session.get(Usuario, user_id)
    if user is None:
        raise OutboxError("Usuario desconocido.")
    if acortar_enlaces and not current_app.config.get("PUBLIC_BASE_URL"):
        # The preparer writes the links outside this request: it cannot borrow the request's address.
        raise OutboxError(
            "Para acortar los enlaces de una campaña tan grande falta PUBLIC_BASE_URL, la dirección "
            "pública del panel.",
            field="acortar_enlaces",
        )
    tenant = tenant_of(user, cliente_query)
    rules = reglas.of_tenant(tenant) if reglas.binds(tipo) else None
    inicio = start_of(rules, programada_para)
    siguiente = inicio.replace(tzinfo=None) if inicio > clock.now() + GRACE else None
    return preparacion.create_preparing(
        user,
        tenant,
        preparacion.recipient_ids(cliente_query),
        mensaje=mensaje,
        nombre=_name(nombre),
        siguiente=siguiente,
        id_plantilla=id_plantilla,
        filtros=filtros,
        programada_para=programada_para,
        tipo=tipo,
        acortar_enlaces=acortar_enlaces,
    )


def _name(nombre) -> str:
    return (nombre or "").strip() or f"Campaña SMS {formatting.date_time(utcnow())}"


def _create(
    user_id, cliente_query, mensaje, nombre, id_plantilla, filtros, programada_para, tipo, acortar_enlaces
) -> CampanaSMS:
    user = db.session.get(Usuario, user_id)
    if user is None:
        raise OutboxError("Usuario desconocido.")
    p = plan(cliente_query, mensaje or "", tipo, programada_para, acortar_enlaces=acortar_enlaces)
    siguiente = p.inicio.replace(tzinfo=None) if p.inicio > clock.now() + GRACE else None
    tenant = tenant_of(user, cliente_query)
    if not p.sendable:
        raise OutboxError("Ningún destinatario puede recibir el SMS (revise los omitidos).")
    nombre = _name(nombre)
    campana = CampanaSMS(
        nombre=nombre,
        mensaje=mensaje,
        id_plantilla=id_plantilla,
        filtros=filtros,
        estado=lifecycle.initial(siguiente),
        programada_para=programada_para,
        siguiente_envio=siguiente,
        tipo=tipo,
        acortar_enlaces=acortar_enlaces,
        id_usuario=user.id,
        id_propietario=tenant,
    )
    db.session.add(campana)
    db.session.flush()
    _insert_rows(campana.id, tenant, enlaces.assign(campana.id, tenant, p.rows))
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
