""" "Mi cuenta" (/admin/mi-cuenta/): every staff user edits their own phone and password, and
verifies the phone with a code by SMS.

The phone is where "Enviar prueba" sends, once verified (panel/sms/verificacion.py holds the
rules: which numbers, the code, its limits). Changing the password goes through
``Usuario.set_password`` (which ends the user's other sessions, §13, where that is built).
"""

import re

from flask import flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from wtforms import PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from ..auth import sessions
from ..extensions import db
from ..forms.base import PanelForm
from ..models.users import MIN_PASSWORD, is_staff
from ..phones import PUNCTUATION
from ..sms import verificacion
from .comun.acceso import PanelAccessMixin

NO_ESPECIALES = "no se aceptan fijos, números de tarifa especial, de costo compartido ni satelitales."
SOLO_COLOMBIA = f"Escriba un celular colombiano (3001234567): {NO_ESPECIALES}"
OTROS_PAISES = (
    "Escriba un celular colombiano (3001234567) o de otro país con su indicativo (+14155552671): "
    + NO_ESPECIALES
)


def phone_refusal() -> str:
    return OTROS_PAISES if verificacion.other_countries() else SOLO_COLOMBIA


class TelefonoForm(PanelForm):
    telefono = StringField(
        "Teléfono para las pruebas", validators=[Length(max=20, message="Máximo 20 caracteres.")]
    )

    def validate_telefono(self, field) -> None:
        """Empty removes it; otherwise a mobile test sends may go to, kept without punctuation."""
        cleaned = PUNCTUATION.sub("", field.data or "")
        if not cleaned:
            field.data = None
            return
        allowed = verificacion.allowed_phone(cleaned, verificacion.other_countries())
        if not re.fullmatch(r"\+?\d+", cleaned) or allowed is None:
            raise ValidationError(phone_refusal())
        field.data = cleaned


class CodigoForm(PanelForm):
    codigo = StringField(
        "Código recibido por SMS",
        filters=[lambda v: "".join((v or "").split())],
        validators=[Regexp(r"^\d{6}$", message="Escriba los 6 dígitos del código.")],
    )


class ClaveForm(PanelForm):
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
    """One's own account: phone for test sends and its verification, password."""

    permission = staticmethod(is_staff)

    def _page(self, telefono_form=None, clave_form=None, codigo_form=None):
        telefono_form = telefono_form or TelefonoForm(data={"telefono": current_user.telefono})
        return self.render(
            "admin/cuenta/index.html",
            telefono_form=telefono_form,
            clave_form=clave_form or ClaveForm(),
            codigo_form=codigo_form or CodigoForm(),
            verificado=verificacion.is_verified(current_user),
            codigo_pendiente=verificacion.code_pending(current_user),
        )

    @expose("/")
    def index(self):
        return self._page()

    @expose("/telefono", methods=("POST",))
    def telefono(self):
        form = TelefonoForm()
        if not form.validate():
            return self._page(telefono_form=form)
        verificacion.change_phone(current_user, form.telefono.data)
        db.session.commit()
        if not form.telefono.data:
            flash("Teléfono quitado.", "success")
        elif verificacion.is_verified(current_user):
            flash("Teléfono guardado.", "success")
        else:
            flash(
                "Teléfono guardado. Verifíquelo para recibir las pruebas: pulse «Enviar código».", "success"
            )
        return redirect(url_for(".index"))

    @expose("/verificar", methods=("POST",))
    def verificar(self):
        """Send a code by SMS to the saved phone (the app's CSRF check guards every POST)."""
        try:
            phone = verificacion.send_code(current_user)
        except verificacion.VerificacionError as exc:
            flash(exc.message, "error")
        else:
            flash(
                f"Le enviamos un código por SMS al {phone}: escríbalo abajo (vence en 10 minutos).", "success"
            )
        return redirect(url_for(".index"))

    @expose("/codigo", methods=("POST",))
    def codigo(self):
        """Check the code typed: the phone is verified, or the reason it is not."""
        form = CodigoForm()
        if not form.validate():
            return self._page(codigo_form=form)
        try:
            phone = verificacion.check_code(current_user, form.codigo.data)
        except verificacion.VerificacionError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Teléfono {phone} verificado: las pruebas le llegarán ahí.", "success")
        return redirect(url_for(".index"))

    @expose("/clave", methods=("POST",))
    def clave(self):
        form = ClaveForm()
        if not form.validate():
            return self._page(clave_form=form)
        user = current_user._get_current_object()
        user.set_password(form.nueva.data)  # every session of the user ends (a new generation)…
        db.session.commit()
        sessions.start(user)  # …but this one, renewed: the user is told, not silently logged out
        flash("Contraseña cambiada. Sus demás sesiones abiertas se cerraron.", "success")
        return redirect(url_for(".index"))
