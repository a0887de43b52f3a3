"""Twilio's Messages API, simulated: shared by the in-process SimulatedHttpClient (simulation mode)
and the fake server of the tests and benchmarks (``panel.testing.fake_server``).

Answers like Twilio (2010-04-01 API, JSON): create a message (201, status "queued", or "accepted"
with a messaging service), fetch one by SID, list them filtered by To/From/DateSent; errors in
Twilio's shape ``{"code", "message", "more_info", "status"}``: 20003 wrong credentials, 21211
invalid number (phonenumbers, plus a configurable set), 21610 opted-out number (configurable).
"""

import json
import re
import secrets
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from panel import clock
from panel.sms.encoding import analyze

SIM_ACCOUNT_SID = "AC" + "0" * 32
SIM_FROM_NUMBER = "+15005550006"  # Twilio's documented "valid sender" test number
# What the simulated account charges a segment (Twilio's US$ price of an SMS to Colombia is of
# this order; the fake can be given pesos instead) and the statuses it bills: a message that
# reached the carrier is paid for, delivered or not; one that failed before is not.
SIM_PRICE, SIM_PRICE_UNIT = Decimal("0.0075"), "USD"
BILLED = ("sent", "delivered", "undelivered")

ROUTE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/.]+))?\.json$")
ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/.]+)\.json$")  # "Probar conexión"
_ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}


def error(code: int, **fmt) -> tuple[int, dict]:
    """(HTTP status, Twilio's JSON error body) for one error code the simulator answers."""
    status, message = _ERRORS[code]
    return twilio_error(status, code, message.format(**fmt))


def twilio_error(status: int, code: int, message: str) -> tuple[int, dict]:
    """(HTTP status, a JSON error body in Twilio's shape)."""
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    return status, body | {"status": status}


def split_url(url: str) -> tuple[str, dict]:
    """The path and the query parameters of a request's URL."""
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))


def account_of(path: str) -> str | None:
    """The Account SID a request's path names (messages or the account itself), else None."""
    route = ROUTE.match(path) or ACCOUNT.match(path)
    return route["account"] if route else None


def create_route(method: str, path: str) -> re.Match | None:
    """The route of a create-message request (POST to the Messages list), else None."""
    route = ROUTE.match(path)
    return route if method == "POST" and route and not route["sid"] else None


def valid_number(number: str) -> bool:
    """True for a valid E.164 number, as Twilio checks the To field."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def _parse_since(value: str) -> datetime | None:
    """A DateSent filter value (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) as an aware datetime."""
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


class TwilioSimulator:
    """Thread-safe in-memory Twilio account: messages by SID, opt-out and invalid number sets."""

    def __init__(
        self,
        account_sid=SIM_ACCOUNT_SID,
        auth_token=None,
        opt_out=None,
        invalid=None,
        price: Decimal = SIM_PRICE,
        price_unit: str = SIM_PRICE_UNIT,
    ):
        self.account_sid = account_sid
        self.price, self.price_unit = Decimal(price), price_unit
        # Never a constant of the code: the deployment's TWILIO_SIMULATION_TOKEN, else random.
        self.auth_token = auth_token or secrets.token_urlsafe(24)
        self.opt_out: set[str] = set(opt_out or ())
        self.invalid: set[str] = set(invalid or ())
        self.messages: dict[str, dict] = {}
        self.lock = threading.Lock()

    def authorized(self, auth: tuple[str, str] | None, account: str) -> bool:
        """True when the Basic credentials match this account and the URL names it."""
        return auth == (self.account_sid, self.auth_token) and account == self.account_sid

    def sign_callback(self, url: str, params: dict) -> str:
        """The X-Twilio-Signature of a status callback this account sends to ``url``."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def callback(self, url: str, sid: str, status: str, error_code: int | None = None) -> tuple[dict, str]:
        """A status callback of one of its messages, as Twilio posts it to ``url``: the form
        parameters — with ``Price`` (negative, as Twilio writes a charge) and ``PriceUnit`` once
        the status is billed — and their X-Twilio-Signature. The stored message takes them too."""
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": self.account_sid}
        with self.lock:
            message = self.messages.get(sid) or {}
            if status in BILLED and message:
                charge = self.price * int(message.get("num_segments") or 1)
                message.update(status=status, price=f"{-charge:.5f}", price_unit=self.price_unit)
                params |= {"Price": message["price"], "PriceUnit": self.price_unit}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params, self.sign_callback(url, params)

    def handle(self, method: str, path: str, query: dict, form: dict, auth) -> tuple[int, dict]:
        """Answer one API request as (HTTP status, JSON body)."""
        if (account := ACCOUNT.match(path)) and method == "GET":
            return self.account(auth, account["account"])
        route = ROUTE.match(path)
        if not route:
            return error(20404)
        if not self.authorized(auth, route["account"]):
            return error(20003)
        if create_route(method, path):
            return self.create(form)
        if method == "GET" and route["sid"]:
            return self.fetch(route["sid"])
        if method == "GET":
            return 200, self.list(query)
        return error(20404)

    def account(self, auth, account: str) -> tuple[int, dict]:
        """The account resource (GET …/Accounts/{sid}.json), for its own credentials only."""
        if not self.authorized(auth, account):
            return error(20003)
        return 200, {
            "sid": self.account_sid,
            "friendly_name": f"Cuenta simulada {self.account_sid[-4:]}",
            "status": "active",
            "type": "Full",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}.json",
        }

    def check(self, form: dict) -> tuple[int, dict] | None:
        """The error Twilio would answer for this create request, if any."""
        to, body = form.get("To", ""), form.get("Body", "")
        if not to:
            return error(21604)
        if not body:
            return error(21602)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return error(21603)
        if len(body) > 1600:
            return error(21617)
        if to in self.invalid or not valid_number(to):
            return error(21211, to=to)
        if to in self.opt_out:
            return error(21610)
        return None

    def create(self, form: dict) -> tuple[int, dict]:
        """Create a message: 201 with the resource, or Twilio's error."""
        failure = self.check(form)
        if failure:
            return failure
        now = clock.now()
        sid = "SM" + secrets.token_hex(16)
        resource = self._resource(sid, form, now)
        with self.lock:
            # The simulator "sends" at once: later fetches and lists see it as sent.
            self.messages[sid] = dict(resource, status="sent", date_sent=format_datetime(now, usegmt=True))
            self.messages[sid]["_sent"] = now
        return 201, resource

    def _resource(self, sid: str, form: dict, now: datetime) -> dict:
        """The JSON representation of a newly created message."""
        stamp = format_datetime(now, usegmt=True)
        service = form.get("MessagingServiceSid")
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": stamp,
            "date_sent": None,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(analyze(form["Body"]).segments),
            "price": None,
            "price_unit": self.price_unit,
            "sid": sid,
            "status": "accepted" if service and not form.get("From") else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def fetch(self, sid: str) -> tuple[int, dict]:
        """One message by SID, or 20404."""
        with self.lock:
            message = self.messages.get(sid)
        return (200, _public(message)) if message else error(20404)

    def list(self, query: dict) -> dict:
        """A single page of messages, newest first, filtered like Twilio's list endpoint."""
        after = _parse_since(query.get("DateSent>", "")) if query.get("DateSent>") else None
        with self.lock:
            found = [m for m in self.messages.values() if _matches(m, query, after)]
        found.sort(key=lambda m: m["_sent"], reverse=True)
        size = int(query.get("PageSize") or 50)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        page = [_public(m) for m in found[:size]]
        meta = {"first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None, "uri": uri}
        return {
            "messages": page,
            "page": 0,
            "page_size": size,
            "start": 0,
            "end": max(len(page) - 1, 0),
            **meta,
        }


def _matches(message: dict, query: dict, after: datetime | None) -> bool:
    """True when a stored message passes the To/From/DateSent filters."""
    if query.get("To") and message["to"] != query["To"]:
        return False
    if query.get("From") and message["from"] != query["From"]:
        return False
    if query.get("DateSent") and message["_sent"].date() != date.fromisoformat(query["DateSent"][:10]):
        return False
    return not (after and message["_sent"].replace(microsecond=0) < after)


def _public(message: dict) -> dict:
    """A stored message without the simulator's private keys."""
    return {k: v for k, v in message.items() if not k.startswith("_")}


_shared = TwilioSimulator()


def simulation_token(config) -> str | None:
    """The per-deployment secret of simulation mode (TWILIO_SIMULATION_TOKEN); None: webhooks off."""
    return config.get("TWILIO_SIMULATION_TOKEN") or None


def shared_simulator() -> TwilioSimulator:
    """The process-wide simulated account used in simulation mode (SIDs survive between clients)."""
    return _shared


class SimulatedHttpClient(TwilioHttpClient):
    """The Twilio SDK's http client, answered in-process by a simulator: no socket is opened."""

    def __init__(self, simulator: TwilioSimulator | None = None, timeout: float | None = None):
        super().__init__(pool_connections=False, timeout=None)
        self.simulator = simulator or shared_simulator()

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ) -> Response:
        """Answer like Twilio without touching the network."""
        path, query = split_url(url)
        query.update({k: str(v) for k, v in (params or {}).items() if v is not None})
        form = {k: str(v) for k, v in (data or {}).items() if v is not None}
        status, body = self.simulator.handle(method.upper(), path, query, form, auth)
        self._test_only_last_response = Response(
            status, json.dumps(body), {"Content-Type": "application/json"}
        )
        return self._test_only_last_response
