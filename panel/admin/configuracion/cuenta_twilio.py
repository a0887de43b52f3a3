""" "Configuración → Envío de SMS", the tenant's own Twilio account (SPEC §20): its Account SID,
Auth Token (encrypted at rest, shown only as ••••abcd, a blank field keeps the stored one) and one
sender; «Probar conexión» asks Twilio for the account; «Quitar» goes back to the platform's.

The routes live on the Envío page's view (``CuentaTwilioRoutes`` is mixed into it): one page, one
permission (``can_configure_sending``), two forms.
"""

import re

import phonenumbers
from flask import current_app, flash, redirect, url_for
from flask_admin import expose
from wtforms import PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, Optional, Regexp

from ... import audit, secretos
from ...extensions import db
from ...forms.base import PanelForm
from ...sms import cuentas_envio

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")
UN_REMITENTE = "Indique un solo remitente: un número remitente o un Messaging Service SID, no los dos."
SIN_REMITENTE = "Indique el remitente: un número remitente de su cuenta o un Messaging Service SID."
FALTA_TOKEN = "Escriba el Auth Token de la cuenta."
E164 = "Escriba el número en formato internacional E.164, con + e indicativo: +573001234567."
# What the Historial shows of a change (the token: that it changed, never a character of it).
CAMPOS = ("twilio_account_sid", "twilio_from_number", "twilio_messaging_service_sid")
OCULTO = "***"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CuentaTwilioForm(PanelForm):
    twilio_account_sid = StringField(
        "Account SID",
        filters=[_strip],
        validators=[
            DataRequired("Indique el Account SID de su cuenta (o subcuenta) de Twilio."),
            Regexp(
                ACCOUNT_SID, message="El Account SID empieza por AC y sigue con 32 caracteres hexadecimales."
            ),
        ],
    )
    twilio_auth_token = PasswordField(
        "Auth Token",
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(
                AUTH_TOKEN, message="El Auth Token de Twilio tiene 32 caracteres hexadecimales (0-9, a-f)."
            ),
        ],
    )
    twilio_from_number = StringField("Número remitente", filters=[_strip], validators=[Optional()])
    twilio_messaging_service_sid = StringField(
        "Messaging Service SID",
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(
                SERVICE_SID,
                message="El Messaging Service SID empieza por MG y sigue con 32 caracteres hexadecimales.",
            ),
        ],
    )

    def __init__(self, *args, stored_sid: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_sid = stored_sid  # a blank token keeps the stored one, for the same account only

    def validate_twilio_from_number(self, field) -> None:
        if field.data and not _e164(field.data):
            raise ValidationError(E164)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if bool(self.twilio_from_number.data) == bool(self.twilio_messaging_service_sid.data):
            both = self.twilio_from_number.data and self.twilio_messaging_service_sid.data
            self.twilio_from_number.errors = [
                *self.twilio_from_number.errors,
                UN_REMITENTE if both else SIN_REMITENTE,
            ]
            ok = False
        if not self.twilio_auth_token.data and self.twilio_account_sid.data != self.stored_sid:
            self.twilio_auth_token.errors = [*self.twilio_auth_token.errors, FALTA_TOKEN]
            ok = False
        return ok


def _e164(number: str) -> bool:
    if not re.fullmatch(r"\+[1-9]\d{6,14}", number):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def shown_token(config) -> str | None:
    """What the page shows of the stored token: ••••abcd (or why it cannot), None without one."""
    if not config.twilio_token_cifrado:
        return None
    try:
        return secretos.last4(secretos.decrypt(current_app.config, config.twilio_token_cifrado))
    except secretos.SecretoError as exc:
        return f"{secretos.OCULTO} ({exc})"


def _values(config) -> dict:
    return {campo: getattr(config, campo) for campo in CAMPOS}


class CuentaTwilioRoutes:
    """The account's routes on the Envío page's view (which gives ``settings``, ``page``)."""

    @expose("/cuenta/", methods=("POST",))
    def cuenta(self):
        config = self.settings()
        form = CuentaTwilioForm(stored_sid=config.twilio_account_sid if config.twilio_token_cifrado else None)
        if not form.validate_on_submit():
            return self.page(config, cuenta_form=form)
        antes, token = _values(config), form.twilio_auth_token.data
        try:
            cifrado = secretos.encrypt(current_app.config, token) if token else config.twilio_token_cifrado
        except secretos.SecretoError as exc:
            form.twilio_auth_token.errors = [str(exc)]
            return self.page(config, cuenta_form=form)
        for campo in CAMPOS:
            setattr(config, campo, getattr(form, campo).data or None)
        config.twilio_token_cifrado = cifrado
        _save(config, antes, token_changed=bool(token), resumen="Cuenta de Twilio propia guardada")
        flash("Cuenta de Twilio guardada: los próximos envíos salen por ella.", "success")
        return redirect(url_for(".index"))

    @expose("/cuenta/probar/", methods=("POST",))
    def probar(self):
        config = self.settings()
        if not _checked_post():
            return redirect(url_for(".index"))
        if not config.twilio_token_cifrado:
            flash(
                "No hay una cuenta propia guardada: sus envíos salen por la cuenta de la plataforma.",
                "warning",
            )
            return redirect(url_for(".index"))
        try:
            cuenta = cuentas_envio.of_tenant(config.id_propietario, current_app.config)
        except secretos.SecretoError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        ok, mensaje = cuentas_envio.probe(current_app.config, cuenta)
        flash(mensaje, "success" if ok else "error")
        return redirect(url_for(".index"))

    @expose("/cuenta/quitar/", methods=("POST",))
    def quitar(self):
        config = self.settings()
        if _checked_post() and config.twilio_account_sid:
            antes = _values(config)
            for campo in (*CAMPOS, "twilio_token_cifrado"):
                setattr(config, campo, None)
            _save(config, antes, token_changed=True, resumen="Cuenta de Twilio propia quitada")
            flash("Cuenta propia quitada: sus envíos salen por la cuenta de la plataforma.", "success")
        return redirect(url_for(".index"))


def _checked_post() -> bool:
    """An action button's POST carries a valid CSRF token (a form with no fields of its own)."""
    ok = PanelForm().validate_on_submit()
    if not ok:
        flash("La sesión del formulario venció: intente de nuevo.", "error")
    return ok


def _save(config, antes: dict, *, token_changed: bool, resumen: str) -> None:
    """Write the account and its Historial entry (the token masked) in one transaction."""
    db.session.add(config)
    db.session.flush()
    cambios = {c: [antes[c], getattr(config, c)] for c in CAMPOS if antes[c] != getattr(config, c)}
    if token_changed:
        cambios["twilio_auth_token"] = [OCULTO, OCULTO]
    audit.record(
        "editar", "ConfiguracionEnvio", objeto_id=config.id, resumen=resumen, detalle={"cambios": cambios}
    )
    db.session.commit()
