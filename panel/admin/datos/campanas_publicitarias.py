"""Datos → Campañas publicitarias: the advertising campaigns (not the SMS campaigns)."""

from wtforms import ValidationError

from ..comun.modelview import TenantModelView
from .compartido import COMMON


class CampanaView(TenantModelView):
    needs_owner = True
    column_list = ("nombre", "fecha_inicio", "fecha_fin", "activa", "creado")
    column_labels = {
        **COMMON,
        "nombre": "Nombre",
        "descripcion": "Descripción",
        "fecha_inicio": "Inicio",
        "fecha_fin": "Fin",
        "activa": "Activa",
    }
    column_searchable_list = ("nombre",)
    column_filters = ("activa",)
    column_default_sort = ("creado", True)
    form_columns = ("nombre", "descripcion", "fecha_inicio", "fecha_fin", "activa")

    def on_model_change(self, form, model, is_created) -> None:
        super().on_model_change(form, model, is_created)
        if model.fecha_inicio and model.fecha_fin and model.fecha_fin < model.fecha_inicio:
            raise ValidationError("La fecha de fin no puede ser anterior a la de inicio.")
