"""Twilio webhooks: delivery status callbacks and inbound STOP/START keywords.

Both are CSRF-exempt and protected instead by ``X-Twilio-Signature`` (the SDK's
RequestValidator with the auth token of the account the request names in ``AccountSid``: a
tenant's own account → its decrypted token; the platform's, or none named → the environment's;
an account nobody here has → 403; panel/sms/cuentas_envio.py). In simulation mode they check
against the deployment's own secret, TWILIO_SIMULATION_TOKEN, and are off (404) without one.
They run outside any user's tenant, so they use Core statements on the engine.
"""

import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from .. import consent, tenancy, text
from ..extensions import db
from ..ids import as_id
from ..models import SMSLog
from . import cuentas_envio
from .client import is_simulation
from .simulator import simulation_token

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
LOG = SMSLog.__table__

# Twilio's message statuses in the order they happen; a callback never moves a row backwards.
RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3}
RANK |= {"delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5}
# Whole replies, folded (case, accents and spaces ignored): the Spanish words of Ley 2300's opt-out
# text and Twilio's own English keywords.
STOP = {
    "salir",
    "baja",
    "stop",
    "cancelar",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
}
START = {"start", "unstop", "yes", "alta", "acepto"}
# A price as sms_log.precio holds it (Numeric(14, 5)) and a currency as ISO 4217 writes it.
MAX_PRICE = Decimal("1e9")
CURRENCY = re.compile(r"[A-Z]{3}")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def auth_token() -> str | None:
    """The token the platform's account signs with: the environment's, or the deployment's
    simulation secret."""
    config = current_app.config
    return simulation_token(config) if is_simulation(config) else config["TWILIO_AUTH_TOKEN"]


def signed_url() -> str:
    """The URL Twilio called: PUBLIC_BASE_URL (behind a proxy) + path, else the request's URL."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode()
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def _require_signature() -> dict:
    """The form parameters, if the request is signed by the account it names; 403 otherwise."""
    config, params = current_app.config, request.form.to_dict()
    if is_simulation(config) and not auth_token():  # no secret of its own: nobody can sign, nothing listens
        abort(404)
    with db.engine.connect() as conn:
        tokens = cuentas_envio.tokens_of(params.get("AccountSid"), config, conn)
    signature = request.headers.get("X-Twilio-Signature", "")
    url = signed_url()
    if not signature or not any(RequestValidator(t).validate(url, params, signature) for t in tokens):
        abort(403)
    return params


@bp.post("/status")
def status():
    """Record a delivery status; duplicates and late, older statuses change nothing."""
    params = _require_signature()
    sid, new = params.get("MessageSid") or params.get("SmsSid"), (params.get("MessageStatus") or "").lower()
    if sid and new in RANK:
        older = [s for s, r in RANK.items() if r < RANK[new]]
        values = {"estado_entrega": new}
        code = as_id(params.get("ErrorCode", ""))
        if code is not None and new in ("undelivered", "failed"):
            values["error_codigo"] = code
        stmt = LOG.update().where(
            LOG.c.twilio_sid == sid, sa.or_(LOG.c.estado_entrega.is_(None), LOG.c.estado_entrega.in_(older))
        )
        with tenancy.using(tenancy.EVERY_TENANT), db.engine.begin() as conn:
            conn.execute(stmt.values(**values))
            if (charged := price_of(params)) is not None:
                conn.execute(_priced(sid, *charged))
    return Response(status=204)


def price_of(params: dict) -> tuple[Decimal, str] | None:
    """What Twilio charged (``Price``, ``PriceUnit``), as a positive amount: Twilio writes a
    charge as a negative number. None when absent or not a price (hostile input is ignored)."""
    try:
        amount = abs(Decimal((params.get("Price") or "").strip()))
    except InvalidOperation:
        return None
    unit = (params.get("PriceUnit") or "").strip().upper()
    if not amount.is_finite() or amount >= MAX_PRICE or not CURRENCY.fullmatch(unit):
        return None
    return amount.quantize(Decimal("0.00001")), unit


def _priced(sid: str, amount: Decimal, unit: str):
    """The first price Twilio reports for the message sticks: a repeated or late callback never
    changes a cost already counted."""
    where = sa.and_(LOG.c.twilio_sid == sid, LOG.c.precio.is_(None))
    return LOG.update().where(where).values(precio=amount, precio_unidad=unit)


@bp.post("/inbound")
def inbound():
    """An opt-out word (SALIR, BAJA, STOP, CANCELAR…) opts the sender's number out, for every
    tenant that has sent it a message; START, ALTA or ACEPTO undo such an opt-out (SPEC §18)."""
    params = _require_signature()
    keyword = keyword_of(params.get("Body"))
    phone = params.get("From") or ""
    if keyword in STOP | START and phone:
        with db.engine.connect() as conn:
            owners = cuentas_envio.tenants_of(params.get("AccountSid"), current_app.config, conn)
        set_acepta_sms(phone, keyword in START, owners)
    return Response(EMPTY_TWIML, mimetype="text/xml")


def keyword_of(body: str | None) -> str:
    """' Salír ' → 'salir': the whole reply folded, without spaces."""
    return text.fold(body).replace(" ", "")


def set_acepta_sms(phone: str, acepta: bool, owners: list[int] | None = None) -> int:
    """Record the reply for each tenant that sent to this E.164 phone, through the consent path
    (evidence and exclusion list); how many clients changed. An opt-in undoes only what an SMS
    reply withdrew: a withdrawal by form, API, import, Twilio or by hand stays. A reply to a
    tenant's own account (``owners``: the tenants with that account) is only theirs."""
    record = consent.record_opt_in_reply if acepta else consent.record_opt_out
    # Twilio is no user: the row's own tenant is found from who sent to this number.
    with tenancy.using(tenancy.EVERY_TENANT), db.engine.begin() as conn:
        tenants = [t for t in tenants_that_sent(conn, phone) if owners is None or t in owners]
        return sum(record(conn, tenant, phone) for tenant in tenants)


def tenants_that_sent(conn, phone: str) -> list[int]:
    """The tenants that have sent this E.164 phone a message: only they hear its replies."""
    return list(conn.scalars(sa.select(LOG.c.id_propietario).where(LOG.c.telefono == phone).distinct()))
