"""What the Datos pages share: the column labels, the money limits and the client lookup."""

from decimal import Decimal

from ...extensions import db
from ...models import Cliente
from ..comun.modelview import SafeAjaxLoader

MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)
AMOUNT = "El {} debe estar entre {} y 9.999.999.999,99."
COMMON = {"creado": "Creado", "cliente": "Cliente", "campana": "Campaña", "fecha": "Fecha"}


def cliente_ajax() -> SafeAjaxLoader:
    """Searching a client by its cédula or names (AJAX): the list may hold hundreds of thousands."""
    fields = ("cedula_cliente", "nombre_cliente", "apellido_cliente")
    return SafeAjaxLoader("cliente", db.session, Cliente, fields=fields, page_size=10)
