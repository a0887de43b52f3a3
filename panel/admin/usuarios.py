"""Usuarios (admins manage their vendedores and client accounts; superadmin all), países, ciudades."""

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user
from wtforms import BooleanField, EmailField, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length, Optional

from ..extensions import db
from ..forms.base import PanelForm
from ..forms.clientes import REQUIRED, ChoiceField, strip
from ..ids import coerce_optional_choice
from ..models import Ciudad, Usuario
from ..models.users import (
    ROLE_LABELS,
    assignable_roles,
    can_manage_catalogs,
    can_manage_user,
    can_manage_users,
    sees_every_tenant,
)
from .modelview import TenantModelView

MIN_PASSWORD = 8


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class UsuarioForm(PanelForm):
    """Create or edit an account; the password is only ever stored hashed."""

    email = EmailField(
        "Correo electrónico",
        filters=[_lower],
        validators=[DataRequired(REQUIRED), Length(max=120), Email("Correo electrónico no válido.")],
    )
    nombre = StringField("Nombre", filters=[strip], validators=[Optional(), Length(max=120)])
    rol = ChoiceField("Rol", validators=[DataRequired(REQUIRED)])
    creado_por = ChoiceField("Administrador del que depende", coerce=coerce_optional_choice)
    activo = BooleanField("Activo", default=True)
    password = PasswordField(
        "Contraseña",
        validators=[Optional(), Length(min=MIN_PASSWORD, max=128, message="Entre 8 y 128 caracteres.")],
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        self._obj = obj
        superadmin = sees_every_tenant(current_user)
        self.rol.choices = [(r, ROLE_LABELS[r]) for r in assignable_roles(current_user)]
        admins = db.session.scalars(sa.select(Usuario).where(Usuario.rol == "admin").order_by(Usuario.email))
        self.creado_por.choices = [(None, "—")] + [(u.id, u.email) for u in admins]
        if not superadmin:
            del self.creado_por  # an admin's accounts always hang from the admin itself

    def validate_email(self, field) -> None:
        # Accounts of other tenants are invisible through the ORM: ask the table itself.
        table = Usuario.__table__
        query = sa.select(table.c.id).where(table.c.email == field.data)
        if self._obj is not None:
            query = query.where(table.c.id != self._obj.id)
        if db.session.connection().execute(query.limit(1)).first():
            raise ValidationError("Ya existe un usuario con este correo.")

    def validate_password(self, field) -> None:
        if self._obj is None and not field.data:
            raise ValidationError("La contraseña es obligatoria al crear el usuario.")

    def validate_creado_por(self, field) -> None:
        needs = self.rol.data in ("vendedor", "cliente")
        if needs and field.data is None:
            raise ValidationError("Un vendedor o cliente depende de un administrador.")
        if not needs and field.data is not None:
            raise ValidationError("Solo vendedores y clientes dependen de un administrador.")

    def populate_obj(self, obj) -> None:
        obj.email, obj.nombre, obj.rol, obj.activo = (
            self.email.data,
            self.nombre.data or "",
            self.rol.data,
            self.activo.data,
        )
        obj.creado_por = self.creado_por.data if "creado_por" in self else current_user.id
        if self.password.data:
            obj.set_password(self.password.data)


class UsuarioView(TenantModelView):
    permission = staticmethod(can_manage_users)
    export_types: list = []
    form = UsuarioForm
    column_list = ("email", "nombre", "rol", "creador", "activo", "creado")
    column_details_list = ("id", "email", "nombre", "rol", "creador", "activo", "creado")
    column_labels = {
        "email": "Correo electrónico",
        "nombre": "Nombre",
        "rol": "Rol",
        "creador": "Depende de",
        "activo": "Activo",
        "creado": "Creado",
    }
    column_formatters = {"rol": lambda v, c, m, n: ROLE_LABELS.get(m.rol, m.rol)}
    column_searchable_list = ("email", "nombre")
    column_filters = ("rol", "activo")
    column_default_sort = ("email", False)

    def get_one(self, id):
        """An admin may look at its own account but only change the ones it created."""
        user = super().get_one(id)
        if not self.may_change_row(user) and self._changing():
            abort(403)
        return user

    @staticmethod
    def may_change_row(user: Usuario) -> bool:
        """Also read by the list (templates/admin/panel_list.html): no edit icon where editing is refused."""
        return can_manage_user(current_user, user)

    @staticmethod
    def _changing() -> bool:
        return request.endpoint.rsplit(".", 1)[-1] in ("edit_view", "delete_view")

    def on_model_change(self, form, model, is_created) -> None:
        if model.id is not None and model.id == current_user.id and not model.activo:
            raise ValidationError("No puede desactivar su propia cuenta.")


class PaisView(TenantModelView):
    permission = staticmethod(can_manage_catalogs)
    column_list = ("id", "nombre", "codigo_iso")
    column_labels = {"nombre": "Nombre", "codigo_iso": "Código ISO"}
    column_searchable_list = ("nombre", "codigo_iso")
    form_columns = ("nombre", "codigo_iso")
    form_args = {
        "nombre": {"validators": [DataRequired(REQUIRED), Length(max=60)], "filters": [strip]},
        "codigo_iso": {
            "validators": [DataRequired(REQUIRED), Length(min=2, max=2, message="Dos letras, p. ej. CO.")],
            "filters": [_upper],
        },
    }


class CiudadView(TenantModelView):
    permission = staticmethod(can_manage_catalogs)
    column_list = ("id", "nombre", "pais")
    column_labels = {"nombre": "Nombre", "pais": "País"}
    column_searchable_list = ("nombre",)
    column_select_related_list = (Ciudad.pais,)
    form_columns = ("nombre", "pais")
