"""Datos → Ventas: a client's sales and the vendedor who made them."""

from decimal import Decimal

from wtforms.validators import NumberRange

from ...extensions import db
from ...models import Usuario, Venta
from ..comun.modelview import TenantModelView
from .compartido import AMOUNT, COMMON, MAX_AMOUNT, cliente_ajax


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
