"""Configuración → Países, Departamentos, Ciudades: shared reference data (DANE's DIVIPOLA for
Colombia); admins read it, the superadmin changes it."""

import sqlalchemy as sa
from flask import has_request_context
from flask_login import current_user
from wtforms import ValidationError
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ... import municipios
from ...extensions import db
from ...forms.cliente_form import REQUIRED, strip
from ...models import Ciudad, Departamento
from ...models.users import can_manage_catalogs, can_read_catalogs
from ..clientes.filtros import ChoiceFilter
from ..comun.modelview import TenantModelView


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


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
