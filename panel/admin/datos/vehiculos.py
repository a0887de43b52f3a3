"""Datos → Vehículos: a client's vehicles."""

from wtforms.validators import NumberRange

from ...models import Vehiculo
from ..comun.modelview import TenantModelView
from .compartido import COMMON, cliente_ajax


class VehiculoView(TenantModelView):
    owner_from = "cliente"  # a superadmin's new row joins the chosen client's tenant
    column_list = ("placa", "marca", "modelo", "anio", "cliente")
    column_labels = {**COMMON, "placa": "Placa", "marca": "Marca", "modelo": "Modelo", "anio": "Año"}
    column_searchable_list = ("placa", "marca", "modelo")
    column_select_related_list = (Vehiculo.cliente,)
    column_default_sort = ("placa", False)
    form_columns = ("cliente", "placa", "marca", "modelo", "anio")
    form_ajax_refs = {"cliente": cliente_ajax()}
    form_args = {"anio": {"validators": [NumberRange(1900, 2100, "El año debe estar entre 1900 y 2100.")]}}
