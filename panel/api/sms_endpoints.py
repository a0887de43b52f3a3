"""The SMS app's JSON endpoints, with the shapes of its document (``success`` first)."""

import time

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, url_for
from flask_login import current_user

from .. import formatting
from ..extensions import db
from ..forms.binding import bind
from ..forms.enviar_sms_form import EnviarSMSForm, active_templates
from ..idempotency import Stored
from ..ids import MAX_ID
from ..models import CampanaSMS, Cliente, SMSLog
from ..models.users import can_steer, can_write
from ..sms import lifecycle, outbox, resultados, runners
from .caller import protect_blueprint, requires
from .cliente_data import DEFAULTS, FORM_FIELDS, bind_form, form_errors, write
from .error_responses import ApiError
from .idempotent import idempotent
from .payload import REQUIRED, UNKNOWN, check_type, is_int, json_object, too_long
from .schema import bound_fields

bp = Blueprint("api_sms", __name__, url_prefix="/clientes")
protect_blueprint(bp)

MAX_RECIPIENTS = 10_000
# ClienteForm's fields under the names of the SMS app's document.
AJAX_NAMES = {"nombre_cliente": "nombre", "apellido_cliente": "nombre", "cedula_cliente": "documento"}
AJAX_NAMES |= {"estado": "activo"}


def fail(errors: dict, status: int = 400):
    raise ApiError(status, errors=errors)


def split_nombre(nombre: str) -> tuple[str, str | None]:
    """First and last names: «Carlos Ruiz» → Carlos / Ruiz; four words or more → two and the rest."""
    words = nombre.split()
    if len(words) < 2:
        return nombre.strip(), None
    first = 2 if len(words) >= 4 else 1
    return " ".join(words[:first]), " ".join(words[first:])


def _ajax_values(body: dict) -> dict:
    """Type-check the document's fields and map them onto ClienteForm's."""
    kinds = {"nombre": "str", "telefono": "str", "documento": "str"}
    errors = {k: [UNKNOWN] for k in body if k not in (*kinds, "activo")}
    errors |= {k: [p] for k, kind in kinds.items() if (p := check_type(body.get(k), kind, True))}
    if "activo" in body and not isinstance(body["activo"], bool):
        errors["activo"] = ["Debe ser true o false."]
    if "nombre" not in errors and not (body.get("nombre") or "").strip():
        errors["nombre"] = [REQUIRED]
    errors = too_long({"telefono": FORM_FIELDS["telefono"]}, body) | errors
    if errors:
        fail(errors)
    return DEFAULTS | document_fields(body)


def document_fields(values: dict) -> dict:
    """The document's client fields present in ``values``, under ClienteForm's names: ``nombre``
    split into names, ``documento`` the cédula, ``activo`` the estado (also for its HTML pages,
    panel/documento.py, where a field left out keeps its value)."""
    fields = {}
    if "nombre" in values:
        fields["nombre_cliente"], fields["apellido_cliente"] = split_nombre(values["nombre"] or "")
    if "documento" in values:
        fields["cedula_cliente"] = values["documento"]
    if "telefono" in values:
        fields["telefono"] = values["telefono"]
    if "activo" in values:
        fields["estado"] = 1 if values["activo"] else 0
    return fields


def ajax_json(c: Cliente) -> dict:
    return {
        "id": c.id_cliente,
        "nombre": c.nombre_completo,
        "telefono": c.telefono,
        "documento": c.cedula_cliente,
        "activo": c.estado == 1,
        "creado": formatting.iso(c.creado),
    }


@bp.post("/crear/ajax/")
@requires(can_write)
def crear_ajax():
    """Create a client from ``nombre`` (split), ``telefono``, ``documento`` and ``activo``."""
    if current_user.tenant_id is None:
        raise ApiError(403, "Un superadministrador crea clientes con POST /Database/Database/clientes/.")
    form = bind_form(_ajax_values(json_object()), None, require_usuario=False)
    if not form.validate():
        errors: dict[str, list[str]] = {}
        for name, msgs in form_errors(form).items():
            errors.setdefault(AJAX_NAMES.get(name, name), []).extend(msgs)
        fail(errors)
    cliente = write(form, None)
    response = jsonify(success=True, cliente=ajax_json(cliente))
    response.status_code = 201
    return response


@bp.get("/plantillas-sms/")
def plantillas():
    """The tenant's active templates (the tenancy hook scopes the query)."""
    rows = active_templates()
    return jsonify(
        success=True, plantillas=[{"id": p.id, "nombre": p.nombre, "mensaje": p.mensaje} for p in rows]
    )


# EnviarSMSForm's fields under the names of the SMS app's document.
SEND_NAMES = {
    "nombre": "nombre_campana",
    "mensaje": "mensaje",
    "programar_para": "programar_para",
    "tipo": "tipo",
    "acortar_enlaces": "acortar_enlaces",
}
# The JSON type of each field of the body (every one may be null or left out).
SEND_KINDS = {key: "str" for key in SEND_NAMES.values()} | {"acortar_enlaces": "bool"}
SEND_FIELDS = bound_fields(EnviarSMSForm, list(SEND_NAMES))


def _recipient_ids(body: dict) -> list[int]:
    """``cliente_ids``: a non-empty list of positive integer ids, deduplicated in order."""
    ids = body.get("cliente_ids")
    if not isinstance(ids, list) or not ids:
        fail({"cliente_ids": ["Debe ser una lista no vacía de ids de clientes."]})
    if len(ids) > MAX_RECIPIENTS or not all(is_int(i) and 0 < i <= MAX_ID for i in ids):
        fail({"cliente_ids": [f"Hasta {MAX_RECIPIENTS} ids, cada uno un entero positivo."]})
    return list(dict.fromkeys(ids))


def _send_form(body: dict) -> EnviarSMSForm:
    """``mensaje`` and ``nombre_campana`` validated by EnviarSMSForm, as the panel page does."""
    errors = {k: [UNKNOWN] for k in body if k not in ("cliente_ids", *SEND_NAMES.values())}
    errors |= {k: [p] for k, kind in SEND_KINDS.items() if (p := check_type(body.get(k), kind, True))}
    values = {name: body.get(key) for name, key in SEND_NAMES.items()}
    errors = too_long(SEND_FIELDS, values, SEND_NAMES) | errors
    if errors:
        fail(errors)
    form = bind(EnviarSMSForm, {name: body.get(key) for name, key in SEND_NAMES.items()})
    if form.tipo_refused(current_user):
        raise ApiError(403, "Solo un administrador puede enviar campañas transaccionales.")
    if not form.validate():
        fail({SEND_NAMES.get(name, name): msgs for name, msgs in form_errors(form).items()})
    return form


def _check_found(ids: list[int]) -> None:
    """Every id must be a client the caller can see: another tenant's looks exactly like a missing one."""
    found = set(db.session.scalars(sa.select(Cliente.id_cliente).where(Cliente.id_cliente.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        fail({"cliente_ids": [f"Clientes inexistentes: {', '.join(map(str, missing[:20]))}."]})


def _replay_campaign(stored: Stored):
    """A repeated enviar-sms: the first status code, the same campaign, its current counts."""
    if stored.recurso_id is None:
        return jsonify(stored.cuerpo), stored.codigo
    return _campaign_response(stored.recurso_id, finished=stored.codigo == 200)


@bp.post("/enviar-sms/")
@idempotent("enviar-sms", resource=lambda body: body.get("campana_id"), replay=_replay_campaign)
def enviar_sms():
    """Write the campaign (outbox), start the sender, wait up to SMS_SYNC_WAIT for the result."""
    body = json_object()
    ids = _recipient_ids(body)
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    try:
        with outbox.sending_for(current_user, query):
            form = _send_form(body)
            _check_found(ids)
            campana_id = runners.create_and_start(
                outbox.create_campaign,
                user_id=current_user.id,
                cliente_query=query,
                mensaje=form.texto,
                nombre=form.nombre.data,
                filtros={"origen": "API", "clientes": len(ids)},
                programada_para=form.programada_para,
                tipo=form.tipo.data,
                acortar_enlaces=form.acortar_enlaces.data,
            ).id
    except outbox.OutboxError as exc:
        raise ApiError(400, errors={exc.field or "non_field_errors": [exc.message]}) from None
    return _campaign_response(campana_id, _wait(campana_id, current_app.config["SMS_SYNC_WAIT"]))


def _campaign_response(campana_id: int, finished: bool):
    """200 with the details once finished, else 202 pointing at the campaign to poll."""
    body = campaign_json(campana_id, detalles=finished)
    if finished:
        return jsonify(body)
    body["url"] = url_for(".campana", campana_id=campana_id, _external=True)
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = body["url"]
    return response


def _wait(campana_id: int, seconds: float) -> bool:
    """Poll the campaign row until it is finished or the time is up."""
    deadline, pause = time.monotonic() + seconds, 0.02
    while True:
        db.session.rollback()  # a fresh snapshot: see what the sender committed
        estado = db.session.scalar(sa.select(CampanaSMS.estado).where(CampanaSMS.id == campana_id))
        if estado in ("completado", "cancelada", "error"):
            return True
        if estado not in lifecycle.ACTIVE:  # waiting for its time or a person: answer 202 now
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, 0.25)


def _detalle(log: SMSLog, nombre: str) -> dict:
    item = {"cliente_id": log.id_cliente, "nombre": nombre, "estado": log.estado}
    if log.twilio_sid:
        item["twilio_sid"] = log.twilio_sid
    if log.estado in ("fallido", "omitido") or log.error_mensaje:
        item["error"] = log.error_mensaje or log.motivo or "Error desconocido"
    return item


def campaign_json(campana_id: int, detalles: bool = True) -> dict:
    """The campaign's counts (lifecycle.progress: always equal to its rows) and, if asked, one
    line per client."""
    c = db.session.scalar(sa.select(CampanaSMS).where(CampanaSMS.id == campana_id))
    p = lifecycle.progress(campana_id) if c is not None else None
    if p is None:
        raise ApiError(404, "Campaña no encontrada.")
    body = {"success": True, "campana_id": c.id, "nombre": c.nombre, "estado": p["estado"]}
    body |= {"total_clientes": p["total"], "enviados_exitosos": p["enviados"]}
    body |= {"enviados_fallidos": p["fallidos"], "pendientes": p["pendientes"]}
    body |= {"omitidos": p["omitidos"], "cancelados": p["cancelados"]}
    body |= {"creado": formatting.iso(c.creado), "completado": formatting.iso(c.completado)}
    body |= {"programada_para": formatting.iso(p["programada_para"])}
    body |= {"siguiente_envio": formatting.iso(p["siguiente_envio"]), "tipo": c.tipo}
    body["resultados"] = resultados.de_campana(c.id).api()
    if p["preparacion"] is not None:  # its outbox still being written: nothing sends yet
        body["preparacion"] = p["preparacion"]
    if detalles:
        rows = db.session.execute(
            sa.select(SMSLog, Cliente)
            .join(Cliente, Cliente.id_cliente == SMSLog.id_cliente)
            .where(SMSLog.id_campana == c.id)
            .order_by(SMSLog.id)
        ).all()
        body["detalles"] = [_detalle(log, cliente.nombre_completo) for log, cliente in rows]
    return body


@bp.get("/campanas-sms/<int:campana_id>/")
def campana(campana_id: int):
    """A campaign's state: what enviar-sms answers, for polling after a 202."""
    if not 0 < campana_id <= MAX_ID:
        raise ApiError(404, "Campaña no encontrada.")
    return jsonify(campaign_json(campana_id))


def _steerable(campana_id: int) -> CampanaSMS:
    """The campaign, if the caller may pause, resume or cancel it: 404 outside the tenant (the
    tenancy hook), 403 for a vendedor who did not send it."""
    c = db.session.get(CampanaSMS, campana_id) if 0 < campana_id <= MAX_ID else None
    if c is None:
        raise ApiError(404, "Campaña no encontrada.")
    if not can_steer(current_user, c):
        raise ApiError(403, "Solo un administrador o quien envió la campaña puede cambiarla.")
    return c


def _act(action: str, campana_id: int):
    """Apply a person's action; 409 when the campaign's estado does not allow it."""
    campana = _steerable(campana_id)
    try:
        lifecycle.apply(action, campana.id)
    except lifecycle.TransitionRefused as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from None
    lifecycle.record(action, campana)
    db.session.commit()
    if action == "reanudar":
        runners.dispatch(campana.id, current_app._get_current_object())
    return jsonify(campaign_json(campana.id))


@bp.post("/campanas-sms/<int:campana_id>/pausar/", strict_slashes=False)
def pausar(campana_id: int):
    """Pause: once answered, no new message of the campaign goes to Twilio."""
    return _act("pausar", campana_id)


@bp.post("/campanas-sms/<int:campana_id>/reanudar/", strict_slashes=False)
def reanudar(campana_id: int):
    """Resume a paused campaign, or retry one that ended in error."""
    return _act("reanudar", campana_id)


@bp.post("/campanas-sms/<int:campana_id>/cancelar/", strict_slashes=False)
def cancelar(campana_id: int):
    """Cancel for good: the messages not sent yet become cancelado."""
    return _act("cancelar", campana_id)
