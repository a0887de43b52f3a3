"""Empresas, campañas publicitarias and what hangs from a client: vehículos, movimientos, ventas."""

from decimal import Decimal

import sqlalchemy as sa
from wtforms import ValidationError
from wtforms.validators import NumberRange, Optional

from ... import identificacion
from ...extensions import db
from ...models import Cliente, Empresa, MovimientoCapital, Usuario, Vehiculo, Venta
from ..comun.modelview import SafeAjaxLoader, TenantModelView


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
    column_formatters = {"nit": lambda v, c, m, n: identificacion.mostrado("NIT", m.nit)}
    form_columns = ("nombre", "nit", "telefono", "email")
    form_args = {
        "nombre": {"description": "Razón social."},
        "nit": {
            # Typed without its verification digit, the digit is computed (SPEC §16).
            "filters": [
                lambda v: identificacion.normalizado("NIT", v.strip()) or None if isinstance(v, str) else v
            ],
            "validators": [Optional(), lambda form, field: _nit_valido(field.data)],
            "description": "Con o sin dígito de verificación (900.123.456-8): si falta, se calcula.",
        },
    }

    def on_model_change(self, form, model, is_created) -> None:
        """One empresa per NIT in a tenant (the hook scopes the lookup; the key backs it up)."""
        super().on_model_change(form, model, is_created)
        if model.nit is None:
            return
        query = sa.select(Empresa.id).where(Empresa.nit == model.nit)
        if model.id_propietario is not None:  # a superadmin sees every tenant: the row's own
            query = query.where(Empresa.id_propietario == model.id_propietario)
        if model.id is not None:
            query = query.where(Empresa.id != model.id)
        with db.session.no_autoflush:  # the new row is not written before it is checked
            taken = db.session.scalar(query.limit(1)) is not None
        if taken:
            raise ValidationError("Ya existe una empresa con este NIT.")


def _nit_valido(nit: str | None) -> None:
    problem = identificacion.problema_nit(nit) if nit else None
    if problem:
        raise ValidationError(problem)


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
