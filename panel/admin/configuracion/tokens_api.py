"""Tokens de API in the panel: admins create them (shown once) and revoke them."""

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for
from flask_admin import Admin, BaseView, expose
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ...api.tokens import TokenError, create_token, revoke_token
from ...extensions import db
from ...forms.base import PanelForm
from ...models import STAFF, ApiToken, Usuario
from ...models.users import can_manage_tokens
from ..comun.acceso import PanelAccessMixin


class NuevoTokenForm(PanelForm):
    id_usuario = SelectField("Usuario", coerce=int, validators=[DataRequired("Elija un usuario.")])
    nombre = StringField(
        "Para qué es", validators=[Length(max=100, message="Máximo 100 caracteres.")], default="Integración"
    )


def staff_choices() -> list[tuple[int, str]]:
    """Staff accounts the user may give tokens to (the tenancy hook limits Usuario)."""
    users = db.session.scalars(
        sa.select(Usuario).where(Usuario.rol.in_(STAFF), Usuario.activo.is_(True)).order_by(Usuario.email)
    )
    return [(u.id, f"{u.email} ({u.rol})") for u in users]


def visible_tokens():
    """Tokens of the users this admin can see, newest first."""
    stmt = sa.select(ApiToken, Usuario).join(Usuario, Usuario.id == ApiToken.id_usuario)
    return db.session.execute(stmt.order_by(ApiToken.creado.desc(), ApiToken.id.desc())).all()


class TokensView(PanelAccessMixin, BaseView):
    """List, create and revoke API tokens; only the SHA-256 of a key is kept."""

    permission = staticmethod(can_manage_tokens)

    @expose("/", methods=["GET", "POST"])
    def index(self):
        form = NuevoTokenForm()
        form.id_usuario.choices = staff_choices()
        nueva_clave = None
        if form.validate_on_submit():
            user = db.session.get(Usuario, form.id_usuario.data)
            try:
                _token, nueva_clave = create_token(user, form.nombre.data)
                db.session.commit()
            except TokenError as exc:
                flash(str(exc), "error")
        elif form.errors:
            flash(
                "Revise el formulario: " + " ".join(e for errs in form.errors.values() for e in errs), "error"
            )
        return self.render("api/tokens.html", form=form, tokens=visible_tokens(), nueva_clave=nueva_clave)

    @expose("/<int:token_id>/revocar", methods=["POST"])
    def revoke(self, token_id: int):
        """Revoke (CSRF-checked by the global protection); another tenant's token is a 404."""
        row = db.session.execute(
            sa.select(ApiToken)
            .join(Usuario, Usuario.id == ApiToken.id_usuario)
            .where(ApiToken.id == token_id)
        ).scalar_one_or_none()
        if row is None:
            abort(404)
        revoke_token(row)
        db.session.commit()
        flash(f"Token {row.prefijo}… revocado.", "success")
        return redirect(url_for(".index"))


def register_token_views(admin: Admin) -> None:
    admin.add_view(
        TokensView(name="Tokens de API", endpoint="tokens", url="tokens", category="Administración")
    )
