"""JSON errors for the API: one helper, and the answers panel/error_pages.py gives on API paths."""

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException

# Every API URL starts with one of these; errors there are JSON even before routing.
API_PREFIXES = ("/Database/", "/clientes/", "/api/")
SMS_PREFIX = "/clientes/"
# The blueprint of the SMS document's HTML pages: their errors are pages, their users sessions.
PAGES_BLUEPRINT = "documento"

MESSAGES = {
    400: "Petición no válida.",
    401: "Se requieren credenciales: inicie sesión o envíe «Authorization: Token <clave>».",
    403: "No tiene permiso para realizar esta acción.",
    404: "No encontrado.",
    405: "Método no permitido.",
    409: "Conflicto con el estado actual del recurso.",
    413: "La petición es demasiado grande.",
    415: "Tipo de contenido no soportado: envíe «Content-Type: application/json».",
    429: "Demasiadas peticiones.",
    500: "Error interno del servidor.",
}


class ApiError(Exception):
    """Raised anywhere in an API view to answer ``status`` with a JSON body."""

    def __init__(self, status: int, detail: str | None = None, errors: dict | None = None, **extra):
        super().__init__(detail or MESSAGES.get(status, ""))
        self.status, self.detail, self.errors, self.extra = status, detail, errors, extra


def is_api_path(path: str | None = None) -> bool:
    """JSON errors and token authentication: the API's paths, but for the document's HTML pages."""
    path = path if path is not None else request.path
    return path.startswith(API_PREFIXES) and not is_page_path(path)


def is_page_path(path: str) -> bool:
    """One of the SMS document's HTML pages (panel/documento.py), which share /clientes/ with its
    JSON endpoints. Asked of the URL map, so the pages' own rules are the one list of them."""
    if not path.startswith(SMS_PREFIX):
        return False
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:  # no such page (a JSON endpoint, an unknown path, a redirect)
        return False
    return endpoint.startswith(PAGES_BLUEPRINT + ".")


def error_response(status: int, detail: str | None = None, errors: dict | None = None, **extra):
    """``{"detail": …}`` (or the field errors), with ``success: false`` on the SMS app's URLs."""
    if errors is not None:
        body = {"success": False, "errors": errors} if request.path.startswith(SMS_PREFIX) else errors
    else:
        body = {"detail": detail or MESSAGES.get(status, "Error.")}
        if request.path.startswith(SMS_PREFIX):
            body = {"success": False, **body}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Token realm="api"'
    return response


def http_error(exc: HTTPException):
    """An HTTP error on an API path, as JSON (panel/error_pages.py routes it here)."""
    response = error_response(exc.code or 500, MESSAGES.get(exc.code or 500, exc.description))
    if exc.code == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def api_error(exc: ApiError):
    return error_response(exc.status, exc.detail, exc.errors, **exc.extra)
