"""``/api/openapi.json`` (the OpenAPI 3 document) and ``/api/docs`` (the same, as a page)."""

from flask import Blueprint, jsonify, render_template

from .openapi import ID, LIST_PARAMS, ref, schemas

bp = Blueprint("api_docs", __name__, url_prefix="/api")

JSON = "application/json"
BAD_INPUT = (
    "Entrada no válida: errores de campo (ValidationError…) o un mensaje, p. ej. JSON mal formado (Error…)"
)
ERRORS = {
    401: "Sin credenciales, o «Token inválido.»",
    403: "Su rol no lo permite, o falta el token CSRF en una sesión",
    404: "No existe o es de otro propietario",
    409: "Conflicto: cédula o cuenta ya usadas por un cambio simultáneo",
    415: "El cuerpo no es JSON",
}


def error(code: int, sms: bool) -> dict:
    """The response of an error status: 400 is either kind of body, the others a message."""
    message, fields = ("ErrorSMS", "ValidationErrorSMS") if sms else ("Error", "ValidationError")
    if code == 400:  # the message first: a client tries the kinds in order, and fields accept more
        return response(BAD_INPUT, {"anyOf": [ref(message), ref(fields)]})
    return response(ERRORS[code], ref(message))


def response(description: str, schema: dict | None = None) -> dict:
    out = {"description": description}
    if schema is not None:
        out["content"] = {JSON: {"schema": schema}}
    return out


def op(
    operation_id: str,
    summary: str,
    ok: dict,
    errors: tuple[int, ...],
    *,
    body=None,
    params=(),
    sms=False,
    tag="Clientes",
):
    """One operation; ``operation_id`` names the function a generated client gets (keep it stable)."""
    operation = {"operationId": operation_id, "summary": summary, "tags": [tag], "responses": {**ok}}
    operation["responses"] |= {str(code): error(code, sms) for code in errors if str(code) not in ok}
    if body:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(body)}}}
    if params:
        operation["parameters"] = list(params)
    return operation


# The Idempotency-Key header of the two creating POSTs (panel/api/idempotent.py).
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$",
    },
    "description": (
        "Opcional. La misma clave del mismo usuario durante 24 h responde lo que respondió la primera "
        "petición (mismo código y mismo recurso), sin repetirla; con otro cuerpo, 409. Un 5xx no se guarda."
    ),
}
IDEMPOTENCY_409 = (
    "Idempotency-Key ya usada con otro cuerpo, o la primera petición con esa clave sigue en curso"
)


def idempotent(operation: dict, also: str | None = None) -> dict:
    """Document the Idempotency-Key header and its 409 on a creating POST."""
    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    message = ref("ErrorSMS") if operation["tags"] == ["SMS"] else ref("Error")
    text = f"{also}; o: {IDEMPOTENCY_409}" if also else IDEMPOTENCY_409
    operation["responses"]["409"] = response(text, message)
    return operation


def path_id(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID, "description": what}


def paths() -> dict:
    one = path_id("id_cliente", "id del cliente")
    read, write = (401, 403, 404), (400, 401, 403, 404, 409, 415)
    cliente = {"200": response("El cliente", ref("Cliente"))}
    return {
        "/Database/Database/clientes/": {
            "get": op(
                "listClientes",
                "Lista de clientes",
                {"200": response("Una página", ref("PaginaClientes"))},
                (400, *read),
                params=LIST_PARAMS,
            ),
            "post": idempotent(
                op(
                    "createCliente",
                    "Crear un cliente (admin)",
                    {"201": response("Creado", ref("Cliente"))},
                    (400, 401, 403, 409, 415),
                    body="ClienteNuevo",
                ),
                also=ERRORS[409],
            ),
        },
        "/Database/Database/clientes/{id_cliente}/": {
            "get": op("getCliente", "Un cliente", cliente, read, params=[one]),
            "put": op(
                "replaceCliente",
                "Reemplazar un cliente (admin)",
                cliente,
                write,
                body="ClienteCompleto",
                params=[one],
            ),
            "patch": op(
                "updateCliente",
                "Modificar algunos campos (admin)",
                cliente,
                write,
                body="ClienteParcial",
                params=[one],
            ),
            "delete": op(
                "deleteCliente",
                "Eliminar un cliente (admin)",
                {
                    "204": response("Eliminado"),
                    "409": response("Protegido: nombra qué lo impide", ref("Protegido")),
                },
                read,
                params=[one],
            ),
        },
        "/clientes/crear/ajax/": {
            "post": op(
                "crearClienteAjax",
                "Crear un cliente (formulario rápido)",
                {"201": response("Creado", ref("ClienteAjax"))},
                (400, 401, 403, 415),
                body="ClienteAjaxNuevo",
                sms=True,
                tag="SMS",
            ),
        },
        "/clientes/plantillas-sms/": {
            "get": op(
                "listPlantillasSMS",
                "Plantillas SMS activas",
                {"200": response("Plantillas", ref("ListaPlantillas"))},
                (401, 403),
                sms=True,
                tag="SMS",
            ),
        },
        "/clientes/enviar-sms/": {
            "post": idempotent(
                op(
                    "enviarSMS",
                    "Enviar una campaña SMS",
                    {
                        "200": response("Terminada", ref("CampanaSMS")),
                        "202": response("En curso", ref("CampanaSMS")),
                    },
                    (400, 401, 403, 415),
                    body="EnvioSMS",
                    sms=True,
                    tag="SMS",
                )
            ),
        },
        **test_send_path(),
        "/clientes/campanas-sms/{campana_id}/": {
            "get": op(
                "getCampanaSMS",
                "Estado de una campaña SMS",
                {"200": response("La campaña", ref("CampanaSMS"))},
                read,
                params=[path_id("campana_id", "id de la campaña")],
                sms=True,
                tag="SMS",
            ),
        },
        **lifecycle_paths(),
    }


def test_send_path() -> dict:
    """POST /clientes/enviar-prueba/ (panel/api/prueba_endpoints.py): no Idempotency-Key, limits as 429."""
    answers = {
        "202": response("Prueba en curso, al teléfono verificado del usuario", ref("CampanaSMS")),
        "403": response(
            "«Teléfono no verificado.» (verifíquelo en Mi cuenta), o su rol no lo permite", ref("ErrorSMS")
        ),
        "429": response(
            "Límite de pruebas: SMS_TEST_SENDS_PER_HOUR por usuario y hora (10), "
            "SMS_TEST_SENDS_PER_DAY por empresa y día de Bogotá (50)",
            ref("ErrorSMS"),
        ),
    }
    operation = op(
        "enviarPruebaSMS",
        "Enviar una prueba al teléfono verificado del usuario",
        answers,
        (400, 401, 403, 415),
        body="EnvioPrueba",
        sms=True,
        tag="SMS",
    )
    return {"/clientes/enviar-prueba/": {"post": operation}}


LIFECYCLE = {
    "pausar": ("pausarCampanaSMS", "Pausar: ningún envío nuevo a Twilio tras la respuesta"),
    "reanudar": ("reanudarCampanaSMS", "Reanudar una campaña pausada o reintentar una en error"),
    "cancelar": ("cancelarCampanaSMS", "Cancelar: los mensajes no enviados quedan «cancelado»"),
}


def lifecycle_paths() -> dict:
    """POST /clientes/campanas-sms/{id}/pausar|reanudar|cancelar (also without the final slash)."""
    ok = {"200": response("La campaña", ref("CampanaSMS"))}
    params = [path_id("campana_id", "id de la campaña")]
    return {
        f"/clientes/campanas-sms/{{campana_id}}/{action}/": {
            "post": op(name, summary, ok, (401, 403, 404, 409), params=params, sms=True, tag="SMS")
        }
        for action, (name, summary) in LIFECYCLE.items()
    }


def document() -> dict:
    """The whole OpenAPI 3.0 document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Panel de Clientes — API JSON",
            "version": "1.0",
            "description": "Clientes de la plataforma publicitaria y campañas SMS. Errores siempre en JSON.",
        },
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "«Token <clave>» (cree la clave con `flask create-token` o en el panel).",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "La misma clave: «Bearer <clave>».",
                },
                "sesion": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "Sesión del panel; POST/PUT/PATCH/DELETE exigen la cabecera X-CSRFToken.",
                },
            },
        },
        "security": [{"token": []}, {"bearer": []}, {"sesion": []}],
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())


@bp.get("/docs")
def docs_page():
    return render_template("api/docs.html", doc=document())
