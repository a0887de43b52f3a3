"""Empresas, campañas publicitarias and what hangs from a client: vehículos, movimientos, ventas."""

from decimal import Decimal

from wtforms import ValidationError
from wtforms.validators import NumberRange

from ..extensions import db
from ..models import Cliente, MovimientoCapital, Usuario, Vehiculo, Venta
from .modelview import SafeAjaxLoader, TenantModelView


def cliente_ajax() -> SafeAjaxLoader:
    """Searching a client by its cédula or names (AJAX): the list may hold hundreds of thousands."""
    fields = ("cedula_cliente", "nombre_cliente", "apellido_cliente")
    return SafeAjaxLoader("cliente", db.session, Cliente, fields=fields, page_size=10)


MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)
AMOUNT = "El {} debe estar entre {} y 9.999.999.999,99."
COMMON = {"creado": "Creado", "cliente": "Cliente", "campana": "Campaña", "fecha": "Fecha"}


class EmpresaView(TenantModelView):
    needs_owner = True
    column_list = ("nombre", "nit", "telefono", "email", "creado")
    column_labels = {**COMMON, "nombre": "Nombre", "nit": "NIT", "telefono": "Teléfono", "email": "Correo"}
    column_searchable_list = ("nombre", "nit", "email")
    column_sortable_list = ("nombre", "nit", "creado")
    column_default_sort = ("nombre", False)
    form_columns = ("nombre", "nit", "telefono", "email")


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


def _vendedores():
    """Who can sell: the tenant's admin and vendedores (the hook limits Usuario to the tenant)."""
    return db.session.query(Usuario).filter(Usuario.rol.in_(("admin", "vendedor"))).order_by(Usuario.email)


class VentaView(TenantModelView):
    owner_from = "cliente"  # a superadmin's new row joins the chosen client's tenant
    column_list = ("fecha", "cliente", "vendedor", "total", "descripcion")
    column_labels = {**COMMON, "vendedor": "Vendedor", "total": "Total", "descripcion": "Descripción"}
    column_select_related_list = (Venta.cliente, Venta.vendedor)
    column_default_sort = ("fecha", True)
    form_columns = ("cliente", "vendedor", "total", "descripcion")
    form_ajax_refs = {"cliente": cliente_ajax()}
    form_args = {
        "vendedor": {"query_factory": _vendedores},
        "total": {"validators": [NumberRange(Decimal(0), MAX_AMOUNT, AMOUNT.format("total", "0"))]},
    }
