""" "Configuración → Envío de SMS": a tenant narrows the legal contact window, makes the cap
stricter and writes its opt-out text; the limits of Ley 2300 de 2023 are stated beside them.
Its own Twilio account (SPEC §20) is the page's second form: ``cuenta_twilio.py``."""

import re
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app, flash, redirect, url_for
from flask_admin import BaseView, expose
from wtforms import BooleanField, SelectField, StringField, TimeField, ValidationError
from wtforms.validators import DataRequired, Length

from ... import audit, secretos, text
from ...config import is_simulation
from ...extensions import db
from ...forms.base import PanelForm
from ...models import ConfiguracionEnvio
from ...models.users import can_configure_sending
from ...sms import reglas
from ...sms.encoding import analyze
from ...sms.ventana import LEGAL, VentanaError
from ...sms.webhooks import STOP
from ..comun.acceso import PanelAccessMixin
from .cuenta_twilio import CuentaTwilioForm, CuentaTwilioRoutes, shown_token

# The fields this page edits, in the Historial's before → after.
CAMPOS = ("semana_inicio", "semana_fin", "sabado_activo", "sabado_inicio", "sabado_fin", "tope", "texto_baja")
_WORD = re.compile(r"[a-z0-9]+")
TOPES = [("dia", "Un SMS comercial por cliente al día"), ("semana", "Un SMS comercial por cliente en 7 días")]


def settings_of_tenant() -> ConfiguracionEnvio:
    """The tenant's settings (the tenancy hook scopes the query), or the legal defaults unsaved."""
    return db.session.scalar(sa.select(ConfiguracionEnvio)) or ConfiguracionEnvio()


def has_opt_out_word(texto: str) -> bool:
    """Whether the text names a word the inbound webhook takes as an opt-out (its STOP set: SALIR,
    BAJA, STOP, CANCELAR…), as a word of its own, case and accents ignored: a recipient who
    answers what the text says is opted out."""
    return any(word in STOP for word in _WORD.findall(text.fold(texto)))


def _values(config: ConfiguracionEnvio) -> dict:
    return {campo: _plain(getattr(config, campo)) for campo in CAMPOS}


def _plain(value):
    return value.strftime("%H:%M") if hasattr(value, "strftime") else value


class EnvioForm(PanelForm):
    semana_inicio = TimeField("Lunes a viernes, desde", validators=[DataRequired("Indique la hora.")])
    semana_fin = TimeField("Lunes a viernes, hasta", validators=[DataRequired("Indique la hora.")])
    sabado_activo = BooleanField("Enviar los sábados")
    sabado_inicio = TimeField("Sábados, desde", validators=[DataRequired("Indique la hora.")])
    sabado_fin = TimeField("Sábados, hasta", validators=[DataRequired("Indique la hora.")])
    tope = SelectField("Tope por cliente", choices=TOPES)
    texto_baja = StringField(
        "Texto para darse de baja (se añade a cada SMS comercial)",
        validators=[
            DataRequired("El texto para darse de baja no puede quedar vacío."),
            Length(max=160, message="Máximo 160 caracteres."),
        ],
    )

    def validate_texto_baja(self, field) -> None:
        if field.data.strip() and analyze(field.data).encoding != "GSM-7":
            raise ValidationError(
                "Use solo caracteres GSM-7 (sin tildes): una tilde pasa cada SMS a UCS-2 y duplica su costo."
            )
        if field.data.strip() and not has_opt_out_word(field.data):
            raise ValidationError("El texto de baja debe incluir una palabra de baja (SALIR, BAJA…).")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        try:
            reglas.window_of(SimpleNamespace(**self.data))
        except VentanaError as exc:
            self.semana_inicio.errors.append(str(exc))
            return False
        return True


class EnvioView(CuentaTwilioRoutes, PanelAccessMixin, BaseView):
    """An admin's sending settings for its tenant, and its own Twilio account."""

    permission = staticmethod(can_configure_sending)

    def settings(self) -> ConfiguracionEnvio:
        return settings_of_tenant()

    def page(self, config: ConfiguracionEnvio, form=None, cuenta_form=None):
        """The page with both forms (one of them may carry its errors)."""
        if cuenta_form is None:
            cuenta_form = CuentaTwilioForm(obj=config, formdata=None)
        return self.render(
            "admin/envio/index.html",
            form=form or EnvioForm(obj=config, formdata=None),
            cuenta_form=cuenta_form,
            cuenta=config if config.twilio_account_sid else None,
            token=shown_token(config),
            con_clave=secretos.has_key(current_app.config),
            simulacion=is_simulation(current_app.config),
            legal=LEGAL,
        )

    @expose("/", methods=("GET", "POST"))
    def index(self):
        config = settings_of_tenant()
        form = EnvioForm(obj=config)
        if form.validate_on_submit():
            antes = _values(config)  # a first save: the legal defaults the page showed
            form.populate_obj(config)
            config.texto_baja = " " + form.texto_baja.data.strip()
            db.session.add(config)
            db.session.flush()  # a first save's id, for its Historial entry
            _record(config.id, antes, _values(config))
            db.session.commit()
            flash("Configuración de envío guardada.", "success")
            return redirect(url_for(".index"))
        return self.page(config, form=form)


def _record(config_id: int, antes: dict, despues: dict) -> None:
    """The change in the Historial, before → after (nothing when nothing changed)."""
    cambios = {c: [antes.get(c), despues[c]] for c in CAMPOS if antes.get(c) != despues[c]}
    if cambios:
        audit.record(
            "editar",
            "ConfiguracionEnvio",
            objeto_id=config_id,
            resumen="Configuración de envío: " + ", ".join(cambios),
            detalle={"cambios": cambios},
        )
