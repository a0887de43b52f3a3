"""``GET /l/<codigo>``: a tracked link's visit (SPEC §20). Public: no login, no CSRF, no tenant.

The visit answers 302 to the original URL and counts the click (``enlaces.visit``); an unknown
or malformed code gets the Spanish 404 page (``error_pages``). Only a GET counts: a HEAD (link
checkers, some previewers) is answered the same way without counting. Nothing of the visitor
is read or kept — no IP, no user agent, no cookie — only the time of the click.
"""

from flask import Blueprint, Flask, redirect, request

from .error_pages import refuse
from .extensions import csrf
from .sms import enlaces

bp = Blueprint("enlaces", __name__)
NO_ENCONTRADO = "Este enlace no existe o está incompleto. Revise que lo haya copiado entero."


@bp.get(enlaces.RUTA + "<codigo>")
def visitar(codigo: str):
    """302 to the link's URL; a GET counts the click."""
    url = enlaces.visit(codigo, count=request.method == "GET")
    if url is None:
        refuse(404, NO_ENCONTRADO)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"  # every visit must reach us to be counted
    response.headers["Referrer-Policy"] = "no-referrer"  # the code is not passed on to the site
    return response


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # anyone with the link: no session, no form
    app.register_blueprint(bp)
