""" "Mi cuenta" (/admin/mi-cuenta/): every staff user edits their own phone and password.

The phone is where "Enviar prueba" sends. Changing the password goes through
``Usuario.set_password`` (which ends the user's other sessions, §13, where that is built).
"""

import re

import phonenumbers
from flask import flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length

from ..extensions import db
from ..models import STAFF
from ..phones import PUNCTUATION, e164
from .base import PanelAccessMixin

MIN_PASSWORD = 8
TELEFONO_NO_VALIDO = "Escriba un celular colombiano (3001234567) o un número internacional (+573001234567)."


def mobile_e164(telefono: str) -> str | None:
    """The E.164 form of a phone that can receive SMS (not a landline), or None."""
    number = e164(telefono, "CO")
    if number is None:
        return None
    kind = phonenumbers.number_type(phonenumbers.parse(number))
    return None if kind == phonenumbers.PhoneNumberType.FIXED_LINE else number


class TelefonoForm(FlaskForm):
    telefono = StringField(
        "Teléfono para las pruebas", validators=[Length(max=20, message="Máximo 20 caracteres.")]
    )

    def validate_telefono(self, field) -> None:
        """Empty removes it; otherwise a mobile as typed, kept without punctuation."""
        cleaned = PUNCTUATION.sub("", field.data or "")
        if not cleaned:
            field.data = None
            return
        if not re.fullmatch(r"\+?\d+", cleaned) or mobile_e164(cleaned) is None:
            raise ValidationError(TELEFONO_NO_VALIDO)
        field.data = cleaned


class ClaveForm(FlaskForm):
    actual = PasswordField("Contraseña actual", validators=[DataRequired("Escriba su contraseña actual.")])
    nueva = PasswordField(
        "Contraseña nueva",
        validators=[
            DataRequired("Escriba la contraseña nueva."),
            Length(
                min=MIN_PASSWORD,
                message=f"La contraseña nueva debe tener al menos {MIN_PASSWORD} caracteres.",
            ),
        ],
    )
    repetida = PasswordField(
        "Repita la contraseña nueva",
        validators=[EqualTo("nueva", message="Las dos contraseñas nuevas no coinciden.")],
    )

    def validate_actual(self, field) -> None:
        if field.data and not current_user.check_password(field.data):
            raise ValidationError("La contraseña actual no es correcta.")


class MiCuentaView(PanelAccessMixin, BaseView):
    """One's own account: phone for test sends, password."""

    allowed_roles = STAFF

    def _page(self, telefono_form=None, clave_form=None):
        telefono_form = telefono_form or TelefonoForm(data={"telefono": current_user.telefono})
        return self.render(
            "admin/cuenta/index.html", telefono_form=telefono_form, clave_form=clave_form or ClaveForm()
        )

    @expose("/")
    def index(self):
        return self._page()

    @expose("/telefono", methods=("POST",))
    def telefono(self):
        form = TelefonoForm()
        if not form.validate():
            return self._page(telefono_form=form)
        current_user.telefono = form.telefono.data
        db.session.commit()
        flash("Teléfono guardado." if form.telefono.data else "Teléfono quitado.", "success")
        return redirect(url_for(".index"))

    @expose("/clave", methods=("POST",))
    def clave(self):
        form = ClaveForm()
        if not form.validate():
            return self._page(clave_form=form)
        current_user.set_password(form.nueva.data)
        db.session.commit()
        flash("Contraseña cambiada.", "success")
        return redirect(url_for(".index"))
