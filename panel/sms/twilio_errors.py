"""Classify what happened to a Twilio call: retry, permanent or ambiguous (SPEC section 6).

Creating a message is not idempotent at Twilio, so only what Twilio certainly did NOT create is
retried: a connection that was refused or timed out before the request left (requests raises
ConnectTimeout, or ConnectionError wrapping urllib3's MaxRetryError/NewConnectionError), HTTP 429
(Twilio: such a request was never processed) and HTTP 503. Everything that may have created the
message — a read timeout after the request was sent, a connection dropped mid-response
(ConnectionError wrapping ProtocolError), a truncated body, any other 5xx, anything unknown — is
ambiguous: the caller reconciles or marks it for review, never re-sends it blindly.

TwilioHttpClient (twilio 9.13.0) does not wrap transport errors: the requests exceptions reach
the caller as they are, so they can be told apart here.
"""

from dataclasses import dataclass
from typing import Literal

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

Kind = Literal["retry", "permanent", "ambiguous"]

OPT_OUT = 21610
CREDENTIAL_CODES = {20003, 20005}  # authenticate / account not active
RETRY_STATUSES = {429, 503}
RATE_LIMIT_CODES = {20429, 14107}  # too many requests / messaging rate limit


@dataclass(frozen=True)
class Outcome:
    """What to do after a failed call, with Twilio's code and a message for the log row."""

    kind: Kind
    code: int | None
    message: str
    opt_out: bool = False


def classify(exc: BaseException) -> Outcome:
    """Decide retry / permanent / ambiguous for an exception raised by a Twilio SDK call."""
    if isinstance(exc, TwilioRestException):
        return _from_status(exc.status, exc.code, _twilio_message(exc.msg))
    if isinstance(exc, TwilioException) and hasattr(exc, "status"):
        # RFC-9457 TwilioServiceException: same status/code semantics.
        return _from_status(exc.status, getattr(exc, "code", None), str(getattr(exc, "detail", "") or exc))
    if isinstance(exc, TwilioException) and len(exc.args) > 1 and hasattr(exc.args[1], "status_code"):
        # Page fetches raise a bare TwilioException("Unable to fetch page", response).
        response = exc.args[1]
        return _from_status(response.status_code, None, f"{exc.args[0]}: HTTP {response.status_code}")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Outcome("retry", None, "Tiempo de espera agotado al conectar con Twilio (no se envió).")
    if isinstance(exc, requests.exceptions.ConnectionError) and _before_sending(exc):
        return Outcome("retry", None, "No se pudo conectar con Twilio (no se envió).")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return Outcome("ambiguous", None, "Twilio no respondió a tiempo; el mensaje pudo haberse creado.")
    if isinstance(exc, requests.exceptions.RequestException):
        return Outcome(
            "ambiguous",
            None,
            f"Conexión interrumpida con Twilio; el mensaje pudo haberse creado ({_name(exc)}).",
        )
    return Outcome("ambiguous", None, f"Error inesperado al llamar a Twilio ({_name(exc)}): {exc}")


def is_credentials_error(outcome: Outcome) -> bool:
    """True when the account credentials are wrong: the whole campaign cannot run."""
    return outcome.kind == "permanent" and (outcome.code in CREDENTIAL_CODES or outcome.code == 401)


def _from_status(status: int, code: int | None, message: str) -> Outcome:
    """Classify an HTTP answer from Twilio by status and Twilio error code."""
    if status in RETRY_STATUSES or code in RATE_LIMIT_CODES:
        return Outcome("retry", code, message)
    if status == 401:
        return Outcome("permanent", code or 20003, message or "Credenciales de Twilio inválidas.")
    if 400 <= status < 500:
        return Outcome("permanent", code, message, opt_out=code == OPT_OUT)
    return Outcome("ambiguous", code, message or f"Twilio respondió HTTP {status}")


def _before_sending(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection itself failed, so no byte of the request reached Twilio."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _twilio_message(msg: str) -> str:
    """Twilio's own message, without the SDK's 'Unable to create record: ' prefix."""
    text = str(msg or "")
    prefix, sep, rest = text.partition(": ")
    return rest if sep and prefix.startswith("Unable to ") else text


def _name(exc: BaseException) -> str:
    return type(exc).__name__
