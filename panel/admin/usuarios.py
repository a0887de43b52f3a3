"""Usuarios (admins manage their vendedores and client accounts; superadmin all); países,
departamentos and ciudades (admins read them, the superadmin changes them)."""

import logging

import sqlalchemy as sa
from flask import abort, flash, has_request_context, request
from flask_admin.babel import gettext
from flask_login import current_user
from wtforms import BooleanField, EmailField, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from .. import municipios, users
from ..extensions import db
from ..forms.base import PanelForm
from ..forms.clientes import REQUIRED, ChoiceField, strip
from ..ids import coerce_optional_choice
from ..models import Ciudad, Departamento, Usuario
from ..models.users import (
    MIN_PASSWORD,
    ROLE_LABELS,
    assignable_roles,
    can_manage_catalogs,
    can_manage_user,
    can_manage_users,
    can_read_catalogs,
    sees_every_tenant,
)
from .clientes_filtros import ChoiceFilter
from .modelview import TenantModelView

log = logging.getLogger(__name__)


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
        validators=[
            Optional(),
            Length(min=MIN_PASSWORD, max=128, message=f"Entre {MIN_PASSWORD} y 128 caracteres."),
        ],
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        self._obj = obj
        superadmin = sees_every_tenant(current_user)
        self.rol.choices = [(r, ROLE_LABELS[r]) for r in assignable_roles(current_user)]
        self.creado_por.choices = [(None, "—")] + [(u.id, u.email) for u in users.tenant_admins()]
        if not superadmin:
            del self.creado_por  # an admin's accounts always hang from the admin itself

    def validate_email(self, field) -> None:
        if users.email_taken(field.data, other_than=None if self._obj is None else self._obj.id):
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

    def creador(self) -> int | None:
        """The admin the account hangs from: the one picked by a superadmin, else the admin itself."""
        return self.creado_por.data if "creado_por" in self else current_user.id

    def create(self) -> Usuario:
        """A new account, through the one account creation (users.new_user)."""
        return users.new_user(
            self.email.data,
            self.password.data,
            self.rol.data,
            creador=self.creador,
            nombre=self.nombre.data or "",
            activo=self.activo.data,
        )

    def populate_obj(self, obj) -> None:
        """An edit: a new password only when one is typed."""
        obj.email, obj.nombre, obj.rol, obj.activo = (
            self.email.data,
            self.nombre.data or "",
            self.rol.data,
            self.activo.data,
        )
        obj.creado_por = self.creador()
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

    def create_model(self, form):
        """Flask-Admin's create, but the account is made by ``users.new_user`` (the CLI's and the
        demo's too) instead of filled in field by field."""
        try:
            model = form.create()
            self._on_model_change(form, model, True)
            db.session.commit()
        except Exception as exc:
            if not self.handle_view_exception(exc):
                flash(gettext("Failed to create record. %(error)s", error=str(exc)), "error")
                log.exception("Failed to create record.")
            db.session.rollback()
            return False
        self.after_model_change(form, model, True)
        return model

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, users.UserError):  # the form checks first: a race or a forged request
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

    def on_model_change(self, form, model, is_created) -> None:
        if model.id is not None and model.id == current_user.id and not model.activo:
            raise ValidationError("No puede desactivar su propia cuenta.")


class CatalogoView(TenantModelView):
    """Shared reference data (no tenant): admins read it, only the superadmin changes it."""

    permission = staticmethod(can_read_catalogs)

    def _may_write(self) -> bool:
        return has_request_context() and can_manage_catalogs(current_user)


class PaisView(CatalogoView):
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


class DivipolaView(CatalogoView):
    """A list that shows DANE's data says where it comes from."""

    list_template = "admin/divipola_list.html"

    def after_model_change(self, form, model, is_created) -> None:
        """A new or renamed name may now repeat (or no longer): 'Rionegro (Antioquia)'."""
        municipios.mark_repeated()
        db.session.commit()

    def after_model_delete(self, model) -> None:
        municipios.mark_repeated()
        db.session.commit()


class DepartamentoView(DivipolaView):
    column_list = ("codigo_dane", "nombre")
    column_labels = {"codigo_dane": "Código DANE", "nombre": "Nombre"}
    column_searchable_list = ("nombre", "codigo_dane")
    column_default_sort = ("codigo_dane", False)
    form_columns = ("codigo_dane", "nombre")
    form_args = {
        "codigo_dane": {"validators": [DataRequired(REQUIRED), Regexp(r"^\d{2}$", message="Dos dígitos.")]},
        "nombre": {"validators": [DataRequired(REQUIRED), Length(max=80)], "filters": [strip]},
    }


CINCO_DIGITOS = "Cinco dígitos (vacío en una ciudad extranjera)."


def _departamentos() -> list[tuple[str, str]]:
    """The Ciudades filter's choices: the 33 departamentos (shared data), by name."""
    rows = db.session.execute(sa.select(Departamento.id, Departamento.nombre).order_by(Departamento.nombre))
    return [(str(i), nombre) for i, nombre in rows]


class CiudadView(DivipolaView):
    column_list = ("codigo_dane", "nombre", "departamento", "pais")
    column_labels = {
        "codigo_dane": "Código DANE",
        "nombre": "Nombre",
        "departamento": "Departamento",
        "pais": "País",
    }
    column_searchable_list = ("nombre", "codigo_dane")
    column_sortable_list = ("codigo_dane", "nombre")
    # Grouped by departamento (a municipio's DANE code starts with its departamento's), and filtered by one.
    column_default_sort = ("codigo_dane", False)
    column_filters = (ChoiceFilter(Ciudad.id_departamento, "Departamento", _departamentos, "departamento"),)
    column_select_related_list = (Ciudad.pais,)  # the departamento comes joined with every city
    form_columns = ("nombre", "codigo_dane", "departamento", "pais")
    form_args = {
        "nombre": {"validators": [DataRequired(REQUIRED), Length(max=80)], "filters": [strip]},
        "codigo_dane": {
            "validators": [Optional(), Regexp(r"^\d{5}$", message=CINCO_DIGITOS)],
            "filters": [lambda v: (v.strip() or None) if isinstance(v, str) else v],
        },
    }

    def on_model_change(self, form, model, is_created) -> None:
        """A municipio's code starts with its departamento's; a foreign city has neither."""
        super().on_model_change(form, model, is_created)
        dep = model.departamento
        if (dep is None) != (model.codigo_dane is None):
            raise ValidationError(
                "Un municipio lleva código DANE y departamento; una ciudad extranjera, ninguno de los dos."
            )
        if dep is not None and not model.codigo_dane.startswith(dep.codigo_dane):
            raise ValidationError(
                f"El código DANE de un municipio de {dep.nombre} empieza por {dep.codigo_dane}."
            )
