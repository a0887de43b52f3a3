"""Error pages: JSON on the API's paths, the panel's own layout (in Spanish, with a way back)
everywhere else. One handler for every HTTP error, so no Werkzeug page in English is ever shown."""

from typing import NoReturn

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, default_exceptions

from .api import error_responses

PAGES = {
    400: ("Petición no válida", "La petición no se pudo procesar. Revise los datos e inténtelo de nuevo."),
    403: ("Sin permiso", "Su usuario no tiene permiso para ver esta página o hacer esta acción."),
    404: ("Página no encontrada", "La página o el registro que busca no existe o no está a su alcance."),
    405: ("Método no permitido", "Esta dirección no admite esa operación."),
    413: ("Archivo demasiado grande", "El archivo o los datos enviados superan el tamaño permitido."),
    429: ("Demasiados intentos", "Espere unos minutos antes de volver a intentarlo."),
    500: ("Error interno", "Algo falló de nuestro lado. El equipo técnico puede revisarlo en el registro."),
}
CSRF = (
    "Formulario caducado",
    "El formulario caducó o no es válido. Vuelva atrás, recargue la página e inténtelo de nuevo.",
)


def refuse(code: int, mensaje: str) -> NoReturn:
    """Abort with ``code`` and a Spanish ``mensaje`` of our own, which the page shows instead
    of the code's general one (Werkzeug's descriptions are English: never shown)."""
    exc = default_exceptions[code](mensaje)
    exc.mensaje = mensaje
    raise exc


def _texts(exc: HTTPException) -> tuple[str, str]:
    if isinstance(exc, CSRFError):
        return CSRF
    titulo, mensaje = PAGES.get(exc.code or 500, (f"Error {exc.code}", "No se pudo completar la petición."))
    return titulo, getattr(exc, "mensaje", mensaje)


def _page(exc: HTTPException):
    """The error in the panel's layout, through the admin index view (menu, banner, logout)."""
    titulo, mensaje = _texts(exc)
    context = {"codigo": exc.code, "titulo": titulo, "mensaje": mensaje}
    admin = current_app.extensions.get("panel_admin")
    try:
        body = admin.index_view.render("errors/error.html", **context) if admin else None
    except Exception:  # a broken layout must not hide the original error
        body = None
    if body is None:
        body = render_template("errors/plain.html", **context)
    return body, exc.code


def handle_http_error(exc: HTTPException):
    """API paths answer JSON; other errors get a page; redirects pass through untouched."""
    if exc.code is None or exc.code < 400:
        return exc
    if error_responses.is_api_path():
        return error_responses.http_error(exc)
    return _page(exc)


def init_app(app: Flask) -> None:
    """An unhandled exception reaches the HTTPException handler as Flask's InternalServerError
    (outside tests, which propagate it), so one handler serves every error."""
    app.register_error_handler(error_responses.ApiError, error_responses.api_error)
    app.register_error_handler(HTTPException, handle_http_error)
