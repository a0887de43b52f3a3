"""The API's ``Idempotency-Key`` header: the same key from the same user gets the first answer.

The keys themselves (claim, wait, expiry, purge) are panel/idempotency.py's, shared with the
panel's confirmation form; this module only reads the header and turns answers into JSON.
"""

from collections.abc import Callable
from functools import wraps

from flask import make_response, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ..idempotency import MAX_KEY, KeyConflict, Stored, claim, fingerprint, finish, forget
from .error_responses import ApiError, error_response

HEADER = "Idempotency-Key"


def _request_body():
    """The body as JSON when it is JSON, else its text (so a non-JSON body also fingerprints)."""
    body = request.get_json(silent=True)
    return body if body is not None else request.get_data(as_text=True)


def idempotent(scope: str, resource: Callable[[dict], int | None], replay: Callable[[Stored], object]):
    """Decorate an API view: ``resource`` picks the id created from a 2xx body; ``replay``
    answers a duplicate from what was stored (re-reading the resource, so counts are current)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            clave = request.headers.get(HEADER)
            if clave is None:
                return view(*args, **kwargs)
            return _once(scope, _checked(clave), resource, replay, lambda: view(*args, **kwargs))

        return wrapper

    return decorator


def _checked(clave: str) -> str:
    clave = clave.strip()
    if not clave or len(clave) > MAX_KEY or not clave.isprintable():
        raise ApiError(
            400, f"La cabecera {HEADER} debe ser un texto de 1 a {MAX_KEY} caracteres imprimibles."
        )
    return clave


def _once(scope: str, clave: str, resource, replay, run):
    """Run the view once per key; store a 2xx or 4xx answer, free the key on a 5xx."""
    try:
        row_id, stored = claim(current_user.id, clave, fingerprint(scope, _request_body()))
    except KeyConflict as exc:
        raise ApiError(409, exc.message) from None
    if stored is not None:
        return replay(stored)
    try:
        response = make_response(run())
    except ApiError as exc:
        response = error_response(exc.status, exc.detail, exc.errors, **exc.extra)
    except HTTPException as exc:
        response = exc.get_response()
    except BaseException:
        forget(row_id)
        raise
    _store(row_id, response, resource)
    return response


def _store(row_id: int, response, resource) -> None:
    """2xx: the resource's id (re-read on a replay); 4xx: the error body itself; 5xx: nothing."""
    if response.status_code >= 500:
        forget(row_id)
        return
    body = response.get_json(silent=True)
    if response.status_code < 400:
        finish(row_id, response.status_code, recurso_id=resource(body or {}))
    else:
        finish(row_id, response.status_code, cuerpo=body)
