"""Datos → Movimientos de capital: a client's ingresos and egresos."""

from decimal import Decimal

from wtforms.validators import NumberRange

from ...models import MovimientoCapital
from ..comun.modelview import TenantModelView
from .compartido import AMOUNT, COMMON, MAX_AMOUNT, cliente_ajax


class MovimientoView(TenantModelView):
    owner_from = "cliente"  # a superadmin's new row joins the chosen client's tenant
    column_list = ("fecha", "cliente", "tipo", "monto", "campana", "descripcion")
    column_labels = {**COMMON, "tipo": "Tipo", "monto": "Monto", "descripcion": "Descripción"}
    column_select_related_list = (MovimientoCapital.cliente, MovimientoCapital.campana)
    column_filters = ("tipo",)
    column_default_sort = ("fecha", True)
    form_columns = ("cliente", "tipo", "monto", "campana", "descripcion")
    form_choices = {"tipo": [("ingreso", "Ingreso"), ("egreso", "Egreso")]}
    column_choices = {"tipo": form_choices["tipo"]}  # the list shows "Ingreso", not "ingreso"
    export_labels = {"tipo": dict(form_choices["tipo"])}
    form_ajax_refs = {"cliente": cliente_ajax()}
    form_args = {
        "monto": {"validators": [NumberRange(Decimal("0.01"), MAX_AMOUNT, AMOUNT.format("monto", "0,01"))]}
    }
