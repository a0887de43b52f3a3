"""Historial: the read-only audit log (admins see their tenant's; superadmin every entry)."""

import json

from markupsafe import Markup

from ..models import Historial
from ..models.audit import ACCIONES
from ..models.users import WRITERS
from .modelview import TenantModelView

ACCION_LABELS = {
    "crear": "Crear",
    "editar": "Editar",
    "eliminar": "Eliminar",
    "accion": "Acción masiva",
    "exportar": "Exportar",
    "sms": "Campaña SMS",
    "login": "Inicio de sesión",
}


def _detalle(view, context, model, name):
    if not model.detalle:
        return ""
    text = json.dumps(model.detalle, ensure_ascii=False, indent=2, default=str)
    return Markup("<pre class='historial-detalle mb-0'>{}</pre>").format(text)


class HistorialView(TenantModelView):
    allowed_roles = WRITERS
    read_only = True
    export_types: list = []
    column_list = ("creado", "usuario", "accion", "modelo", "objeto_id", "filas", "resumen")
    column_details_list = (
        "creado",
        "usuario",
        "accion",
        "modelo",
        "objeto_id",
        "filas",
        "resumen",
        "detalle",
    )
    column_labels = {
        "creado": "Fecha",
        "usuario": "Usuario",
        "accion": "Acción",
        "modelo": "Modelo",
        "objeto_id": "ID",
        "filas": "Filas",
        "resumen": "Resumen",
        "detalle": "Detalle",
        "usuario.email": "Usuario",
    }
    column_formatters = {
        "accion": lambda v, c, m, n: ACCION_LABELS.get(m.accion, m.accion),
        "detalle": _detalle,
    }
    column_select_related_list = (Historial.usuario,)
    column_searchable_list = ("resumen", "modelo")
    column_filters = ("accion", "modelo", "creado", "usuario.email")
    column_choices = {"accion": [(a, ACCION_LABELS.get(a, a)) for a in ACCIONES]}
    column_default_sort = ("id", True)
