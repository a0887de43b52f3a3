"""The login form."""

from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..forms.base import PanelForm


class LoginForm(PanelForm):
    email = EmailField("Correo electrónico", validators=[DataRequired("Escriba su correo."), Length(max=120)])
    password = PasswordField(
        "Contraseña", validators=[DataRequired("Escriba su contraseña."), Length(max=200)]
    )
