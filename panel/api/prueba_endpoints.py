"""``POST /clientes/enviar-prueba/``: "Enviar prueba" over the API (SPEC §18).

The same act as the panel's button (panel/sms/pruebas.py): a written message or one of the
tenant's templates, personalised with the user's own name, to the user's verified phone. It
answers 202 with the test campaign's JSON (as ``GET /clientes/campanas-sms/<id>/``), 403
«Teléfono no verificado.» until the phone is verified, 429 past the hour's or the day's limit.
No Idempotency-Key: a test send is its own small act and the limits bound any repetition.
"""

from flask import Blueprint, current_app, jsonify, url_for
from flask_login import current_user

from ..extensions import db
from ..ids import MAX_ID
from ..models import PlantillaSMS
from ..sms import outbox, pruebas, runners
from ..sms.render import TemplateError, validate_template
from .caller import protect_blueprint
from .error_responses import ApiError
from .payload import UNKNOWN, check_type, is_int, json_object
from .sms_endpoints import campaign_json

bp = Blueprint("api_pruebas", __name__, url_prefix="/clientes")
protect_blueprint(bp)

FIELDS = ("mensaje", "id_plantilla")
UNO_DE_LOS_DOS = "Envíe «mensaje» o «id_plantilla» (uno de los dos)."


def _fail(field: str, message: str):
    raise ApiError(400, errors={field: [message]})


def _mensaje(body: dict) -> str:
    """A written message: text, not blank, within Twilio's length, only known placeholders."""
    mensaje = body["mensaje"]
    if problem := check_type(mensaje, "str", False):
        _fail("mensaje", problem)
    if not mensaje.strip():
        _fail("mensaje", "Escriba un mensaje.")
    try:
        validate_template(mensaje)
    except TemplateError as exc:
        _fail("mensaje", str(exc))
    return mensaje


def _plantilla(body: dict) -> PlantillaSMS:
    """One of the caller's tenant's active templates (another tenant's looks like a missing one)."""
    plantilla_id = body["id_plantilla"]
    if not is_int(plantilla_id) or not 0 < plantilla_id <= MAX_ID:
        _fail("id_plantilla", "Debe ser el id (entero positivo) de una plantilla.")
    plantilla = db.session.get(PlantillaSMS, plantilla_id)  # the tenancy hook scopes it
    if plantilla is None or not plantilla.activo:
        _fail("id_plantilla", "Plantilla inexistente o inactiva.")
    return plantilla


def _what(body: dict) -> tuple[str, PlantillaSMS | None]:
    """The text to test, and its template if it came from one."""
    errors = {k: [UNKNOWN] for k in body if k not in FIELDS}
    if errors:
        raise ApiError(400, errors=errors)
    given = [k for k in FIELDS if k in body]  # as the document says: one key, neither null
    if len(given) != 1:
        _fail("non_field_errors", UNO_DE_LOS_DOS)
    if given == ["mensaje"]:
        return _mensaje(body), None
    plantilla = _plantilla(body)
    return plantilla.mensaje, plantilla


@bp.post("/enviar-prueba/")
def enviar_prueba():
    """The message (or template) with the user's name, to the user's verified phone: 202."""
    mensaje, plantilla = _what(json_object())
    tenant = plantilla.id_propietario if plantilla is not None else current_user.tenant_id
    if tenant is None:
        _fail("id_plantilla", "Un superadministrador prueba una plantilla: envíe «id_plantilla».")
    try:
        campana = runners.create_and_start(
            pruebas.create_test_send,
            user_id=current_user.id,
            mensaje=mensaje,
            muestra=pruebas.sample_of_user(current_user),
            tenant=tenant,
            limit=current_app.config["SMS_TEST_SENDS_PER_HOUR"],
            id_plantilla=plantilla.id if plantilla is not None else None,
            nombre=plantilla.nombre if plantilla is not None else None,
        )
    except pruebas.NoVerificado:
        raise ApiError(403, pruebas.NO_VERIFICADO) from None
    except pruebas.LimiteDePruebas as exc:
        raise ApiError(429, exc.message) from None
    except outbox.OutboxError as exc:
        raise ApiError(400, errors={exc.field or "non_field_errors": [exc.message]}) from None
    return _accepted(campana.id)


def _accepted(campana_id: int):
    """202 with the campaign's JSON (as enviar-sms answers while sending) and where to poll it."""
    body = campaign_json(campana_id, detalles=False)
    body["url"] = url_for("api_sms.campana", campana_id=campana_id, _external=True)
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = body["url"]
    return response
