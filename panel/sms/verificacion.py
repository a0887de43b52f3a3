"""Phone verification (Mi cuenta → «Verificar», SPEC §18): test sends go only to a phone its
user proved is theirs.

A 6-digit code goes by SMS through the same Twilio SDK client the sender uses (a transactional
message: no window, no opt-out text). Only an HMAC of it is stored (a 6-digit code is guessed in
a million tries, so a plain hash of a leaked row would give it away), bound to the user and the
number it went to; it lasts 10 minutes and allows 5 wrong tries, then a new one is needed. A
user gets at most SMS_VERIFY_CODES_PER_HOUR codes an hour, so «Verificar» is no door for SMS
pumping either. Only Colombian mobiles, unless the deployment's SMS_TEST_OTHER_COUNTRIES allows
mobiles of other countries; never landlines, premium-rate, shared-cost or satellite numbers.

A number verified by one user of a tenant cannot be verified by another user of that tenant
(superadmins, who have no tenant, count as one group). The tenant's admin row is locked while a
code is sent or checked, so two users of a tenant cannot verify one number at the same moment.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

import phonenumbers
import requests
import sqlalchemy as sa
from flask import current_app
from phonenumbers import PhoneNumberType
from twilio.base.exceptions import TwilioException

from .. import audit, clock, formatting
from ..extensions import db
from ..models import Usuario
from ..phones import e164
from .client import make_twilio_client, sender_kwargs

VIGENCIA = timedelta(minutes=10)
MAX_INTENTOS = 5
HORA = timedelta(hours=1)
DIGITOS = 6
# phonenumbers' region of the non-geographic services: satellite (+881, +870), international
# premium rate (+979), shared cost (+808), freephone (+800)… none is a person's mobile.
GLOBAL_SERVICES = "001"
# A country whose mobiles and landlines share ranges (the USA, Canada) gives FIXED_LINE_OR_MOBILE.
MOBILES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)

TEXTO = "Panel de Clientes: su código para verificar este teléfono es {codigo}. Vence en 10 minutos."
SIN_TELEFONO = "Guarde primero su teléfono para las pruebas."
TOMADO = (
    "Ese teléfono ya lo verificó otro usuario de su empresa: cada usuario recibe las pruebas en su "
    "propio celular."
)
SIN_CODIGO = "No hay un código pendiente: pida uno con «Enviar código»."
VENCIDO = "El código venció (dura 10 minutos): pida uno nuevo."
BLOQUEADO = f"Código incorrecto {MAX_INTENTOS} veces: pida un código nuevo."
NO_ENVIADO = "No se pudo enviar el código por SMS: intente de nuevo en unos minutos."


class VerificacionError(ValueError):
    """A refusal shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def allowed_phone(telefono: str | None, other_countries: bool) -> str | None:
    """The E.164 form of a number test sends may go to, or None: a Colombian mobile; with other
    countries allowed, also a mobile of another country."""
    number = e164(telefono, "CO")
    if number is None:
        return None
    parsed = phonenumbers.parse(number)
    region, kind = phonenumbers.region_code_for_number(parsed), phonenumbers.number_type(parsed)
    if region == "CO":
        return number if kind == PhoneNumberType.MOBILE else None
    if not other_countries or region in (None, GLOBAL_SERVICES):
        return None
    return number if kind in MOBILES else None


def other_countries() -> bool:
    return bool(current_app.config["SMS_TEST_OTHER_COUNTRIES"])


def is_verified(user: Usuario) -> bool:
    """The user's current phone is the one they verified."""
    return user.telefono_verificado is not None and user.telefono_verificado == e164(user.telefono, "CO")


def code_pending(user: Usuario) -> bool:
    """A code was sent and can still be typed (the page shows the field for it)."""
    return (
        user.codigo_hash is not None
        and user.codigo_expira is not None
        and clock.utcnow() < user.codigo_expira
    )


def change_phone(user: Usuario, telefono: str | None) -> None:
    """Save the phone as typed: another number is no longer verified, and a pending code dies."""
    if e164(telefono, "CO") != user.telefono_verificado:
        user.telefono_verificado = None
    if telefono != user.telefono:
        _forget_code(user)
    user.telefono = telefono


def _same_tenant(user: Usuario):
    """The users of ``user``'s tenant: its admin and the accounts hanging from it."""
    tenant = user.tenant_id
    if tenant is None:
        return Usuario.rol == "superadmin"
    return sa.or_(Usuario.id == tenant, Usuario.creado_por == tenant)


def taken_by_another(user: Usuario, phone: str) -> bool:
    """Another user of the tenant has verified this number."""
    stmt = sa.select(Usuario.id).where(_same_tenant(user), Usuario.id != user.id)
    return db.session.scalar(stmt.where(Usuario.telefono_verificado == phone).limit(1)) is not None


def _locked(user: Usuario) -> Usuario:
    """``user`` re-read under a row lock, after the tenant's admin row (PostgreSQL; SQLite writes
    one at a time anyway): checks and writes of one tenant's verifications do not interleave."""
    if user.tenant_id is not None and user.tenant_id != user.id:
        db.session.execute(sa.select(Usuario.id).where(Usuario.id == user.tenant_id).with_for_update())
    stmt = sa.select(Usuario).where(Usuario.id == user.id).with_for_update()
    return db.session.scalars(stmt.execution_options(populate_existing=True)).one()


def _digest(user_id: int, phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{user_id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _forget_code(user: Usuario) -> None:
    user.codigo_hash, user.codigo_expira, user.codigo_intentos = None, None, 0


def _phone_to_verify(user: Usuario) -> str:
    if not user.telefono:
        raise VerificacionError(SIN_TELEFONO)
    phone = allowed_phone(user.telefono, other_countries())
    if phone is None:  # saved before the rules tightened, or other countries since disallowed
        raise VerificacionError("Ese teléfono no sirve para las pruebas: cámbielo por un celular colombiano.")
    if taken_by_another(user, phone):
        raise VerificacionError(TOMADO)
    return phone


def _count_code(user: Usuario) -> None:
    """One more code in the user's hour, or the refusal once the hour's codes are used up."""
    limit, now = current_app.config["SMS_VERIFY_CODES_PER_HOUR"], clock.utcnow()
    if user.codigos_desde is None or now - user.codigos_desde >= HORA:
        user.codigos_desde, user.codigos_enviados = now, 0
    if user.codigos_enviados >= limit:
        raise VerificacionError(
            f"Ya pidió {limit} códigos en la última hora, el máximo: espere un poco antes de pedir otro."
        )
    user.codigos_enviados += 1


def send_code(user: Usuario) -> str:
    """Send a new code to the user's phone (the previous one dies); the number it went to."""
    try:
        user = _locked(user)
        phone = _phone_to_verify(user)
        _count_code(user)
    except VerificacionError:
        db.session.rollback()
        raise
    code = f"{secrets.randbelow(10**DIGITOS):0{DIGITOS}d}"
    user.codigo_hash, user.codigo_intentos = _digest(user.id, phone, code), 0
    user.codigo_expira = clock.utcnow() + VIGENCIA
    db.session.commit()  # counted before it leaves: a failed send still used up one of the hour's
    try:
        _deliver(phone, code)
    except (TwilioException, requests.RequestException):
        current_app.logger.warning("código de verificación no enviado a %s", phone, exc_info=True)
        _forget_code(user)
        db.session.commit()
        raise VerificacionError(NO_ENVIADO) from None
    _record(user, "sms", f"Código de verificación enviado a {phone}")
    db.session.commit()
    return phone


def _deliver(phone: str, code: str) -> None:
    """The code, by the real Twilio SDK client of the app (the fake Twilio in tests)."""
    config = current_app.config
    make_twilio_client(config).messages.create(
        to=phone, body=TEXTO.format(codigo=code), **sender_kwargs(config)
    )


def check_code(user: Usuario, typed: str) -> str:
    """Verify the user's phone with the code they typed; the number verified."""
    user = _locked(user)
    try:
        phone = _match(user, "".join((typed or "").split()))
        if taken_by_another(user, phone):
            raise VerificacionError(TOMADO)
    except VerificacionError:
        db.session.commit()  # the wrong try (or the code's end) is kept
        raise
    user.telefono_verificado = phone
    _forget_code(user)
    _record(user, "accion", f"Teléfono {phone} verificado")
    db.session.commit()
    return phone


def _match(user: Usuario, code: str) -> str:
    """The number the pending code was sent to, if ``code`` is it; a wrong try is counted."""
    phone = e164(user.telefono, "CO")
    if user.codigo_hash is None or phone is None:
        raise VerificacionError(SIN_CODIGO)
    if clock.utcnow() >= user.codigo_expira:
        _forget_code(user)
        raise VerificacionError(VENCIDO)
    if hmac.compare_digest(user.codigo_hash, _digest(user.id, phone, code)):
        return phone
    user.codigo_intentos += 1
    if user.codigo_intentos >= MAX_INTENTOS:
        _forget_code(user)
        _record(user, "accion", f"Verificación de {phone} bloqueada: {MAX_INTENTOS} códigos incorrectos")
        raise VerificacionError(BLOQUEADO)
    quedan = formatting.plural(MAX_INTENTOS - user.codigo_intentos, "intento", "intentos")
    raise VerificacionError(f"Código incorrecto: le quedan {quedan}.")


def _record(user: Usuario, accion: str, resumen: str) -> None:
    """Historial: phone verifications, per user, in the user's tenant."""
    audit.record(
        accion,
        "Usuario",
        objeto_id=user.id,
        resumen=resumen,
        id_propietario=user.tenant_id,
        usuario_id=user.id,
    )
