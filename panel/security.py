"""Security headers on every response: a Content-Security-Policy with a per-request nonce, no
framing, no MIME sniffing, same-origin referrers (explicit ``after_request``, see decisions.md);
no browser cache of anything but static files, HSTS in production over HTTPS; and the request's
own limits: its body size (``MAX_CONTENT_LENGTH``), no NUL in its values or file names."""

import base64
import hashlib
import secrets

from flask import Flask, abort, current_app, g, request

# Inline handlers our own templates write (templates/api/tokens.html); allowed by exact hash only.
OUR_HANDLERS = (
    "return confirm('¿Revocar este token?');",
    "return confirm('¿Quitar la cuenta propia y volver a la de la plataforma?');",
)
# Flask-Admin's bootstrap4 templates write these inline handlers (layout.html, actions.html,
# row_actions.html); the action names and the translated confirmation are filled in below.
FLASK_ADMIN_HANDLERS = ("return false;",)
DELETE_CONFIRM = "Are you sure you want to delete this record?"

NO_STORE = "no-store"
HSTS = "max-age=31536000; includeSubDomains"
FORM_ROOM = 1024 * 1024  # an upload's form: its CSRF token, its options, the multipart framing
NUL_FILENAME = (
    "El nombre del archivo contiene caracteres no permitidos: cámbiele el nombre y vuelva a subirlo."
)

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def csp_nonce() -> str:
    """The nonce of this request (one per request, shared by every inline script of the page)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def sha256_source(js: str) -> str:
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    return f"'sha256-{digest}'"


def allowed_handlers(app: Flask) -> list[str]:
    """Every inline handler text the app's pages may carry (computed in a request: it is translated)."""
    from flask_admin.babel import gettext

    admin = app.extensions.get("panel_admin")
    views = admin._views if admin else []
    actions = sorted({name for view in views for name in getattr(view, "_actions_data", {}) or {}})
    return [
        *OUR_HANDLERS,
        *FLASK_ADMIN_HANDLERS,
        *(f"return modelActions.execute('{name}');" for name in actions),
        f"return faHelpers.safeConfirm('{gettext(DELETE_CONFIRM)}');",
    ]


def _handler_sources() -> list[str]:
    cache = current_app.extensions.setdefault("panel_security", {})
    if "hashes" not in cache:
        cache["hashes"] = sorted({sha256_source(h) for h in allowed_handlers(current_app)})
    return cache["hashes"]


def policy(nonce: str, handler_hashes: list[str]) -> str:
    """The CSP: scripts from us or with this request's nonce; inline handlers only by exact hash."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "script-src-attr 'unsafe-hashes' " + " ".join(handler_hashes),
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _nonce_for_admin() -> None:
    """Flask-Admin renders ``admin_csp_nonce_attribute`` from its ``csp_nonce_generator``."""
    admin = current_app.extensions.get("panel_admin")
    if admin is not None and admin.csp_nonce_generator is None:
        admin.csp_nonce_generator = csp_nonce


def _headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Content-Security-Policy"] = policy(csp_nonce(), _handler_sources())
    if not is_static():
        # lists, details, exports and API answers carry personal data: the back button after
        # logout, or the next user of a shared computer, must not find them in the cache
        response.headers["Cache-Control"] = NO_STORE
    if current_app.config.get("PANEL_ENV") == "production" and request.is_secure:
        # is_secure behind a proxy: X-Forwarded-Proto, trusted through PROXY_FIX_HOPS
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def is_static() -> bool:
    """A file of the app's or Flask-Admin's static folders (no personal data: cached as Flask says)."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _limit_body() -> None:
    """The body limit of this request: ``MAX_CONTENT_LENGTH`` (Flask's), or the larger one of
    an upload that takes bigger files. Werkzeug compares it with Content-Length before parsing
    anything, so a huge body at /login or /twilio/inbound is a 413 without being read."""
    larger = larger_uploads().get(request.endpoint or "")
    if larger is not None:
        request.max_content_length = max(larger, current_app.config["MAX_CONTENT_LENGTH"])


def larger_uploads() -> dict[str, int]:
    """Endpoint → the body its upload may reach: the file's own limit (which the page states
    in Spanish beside the field) and room for the form around it."""
    from .importing.limites import max_bytes

    return {"importar.index": max_bytes() + FORM_ROOM}


def _refuse_nul() -> None:
    """No browser types a NUL character and PostgreSQL cannot store one: a query or form value
    carrying it is refused here, before any view or validator sends it to the database. The JSON
    API validates its own input and names the offending field (a 400 too)."""
    if (request.blueprint or "").startswith("api_"):
        return
    for values in (request.args, request.form):
        if any("\x00" in value for _, value in values.items(multi=True)):
            abort(400, "La petición contiene caracteres no permitidos.")
    if any("\x00" in (upload.filename or "") for _, upload in request.files.items(multi=True)):
        from .error_pages import refuse

        refuse(400, NUL_FILENAME)


def init_app(app: Flask) -> None:
    # before anything reads the body (CSRFProtect's check, registered earlier, reads the form)
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_body)
    app.before_request(_refuse_nul)
    app.before_request(_nonce_for_admin)
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
