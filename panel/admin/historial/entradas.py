"""Historial: the read-only audit log (admins see their tenant's; superadmin every entry).

An entry reads as labels, never as stored codes or JSON (``detalle.py``: the model's Spanish
name, each change with the field's label, the values as the panel writes them). Each entry links
to its record while it still exists; each record's pages link here, filtered to that record
(``url_for_record``).
"""

from urllib.parse import urlencode

import sqlalchemy as sa
from flask import g, request, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup

from ... import export, formatting
from ...extensions import db
from ...ids import as_id
from ...models import Historial
from ...models.audit import ACCIONES
from ...models.users import can_see_historial
from ..comun import registros
from ..comun.modelview import TenantModelView
from .detalle import SEPARADOR, detail_html, exported_detail

ACCION_LABELS = {
    "crear": "Crear",
    "editar": "Editar",
    "eliminar": "Eliminar",
    "accion": "Acción masiva",
    "exportar": "Exportar",
    "sms": "Campaña SMS",
    "login": "Inicio de sesión",
}


class FiltroModelo(FilterEqual):
    url_name = "modelo"


class FiltroRegistro(FilterEqual):
    url_name = "registro"


# --- the columns ---------------------------------------------------------------------------


def _detalle_list(view, context, model, name):
    return detail_html(model)


def _detalle_details(view, context, model, name):
    return detail_html(model, open_values=True)


def _registro(view, context, model, name):
    """'12', linked to the record while it exists and the user may open it."""
    if not model.objeto_id:
        return ""
    exists = (model.modelo, model.objeto_id) in g.get("historial_existentes", set())
    url = registros.record_url(model.modelo, model.objeto_id) if exists else None
    if url is None:
        return model.objeto_id
    return Markup('<a href="{}" title="Ver el registro">{}</a>').format(url, model.objeto_id)


class HistorialView(TenantModelView):
    permission = staticmethod(can_see_historial)
    read_only = True
    list_template = "admin/historial/list.html"
    # Exportable like every list (README): labels, and the Detalle in the page's words.
    export_column_list = ("creado", "usuario", "accion", "modelo", "objeto_id", "filas", "resumen")
    export_labels = {"accion": ACCION_LABELS, "modelo": dict(formatting.LABELS["modelo"])}

    def export_columns(self, query):
        columnas, query = super().export_columns(query)
        campo = Historial.modelo + SEPARADOR + sa.cast(Historial.detalle, sa.Text)
        return [*columnas, export.Columna("Detalle", campo, texto=exported_detail)], query

    column_list = ("creado", "usuario", "accion", "modelo", "objeto_id", "filas", "resumen", "detalle")
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
        "objeto_id": "Registro",
        "filas": "Filas",
        "resumen": "Resumen",
        "detalle": "Detalle",
        "usuario.email": "Usuario",
    }
    column_formatters = {
        "accion": lambda v, c, m, n: ACCION_LABELS.get(m.accion, m.accion),
        "modelo": lambda v, c, m, n: registros.model_label(m.modelo),
        "objeto_id": _registro,
        "detalle": _detalle_list,
    }
    column_formatters_detail = {**column_formatters, "detalle": _detalle_details}
    column_select_related_list = (Historial.usuario,)
    column_searchable_list = ("resumen", "modelo")
    column_filters = (
        "accion",
        FiltroModelo(Historial.modelo, "Modelo", options=tuple(formatting.LABELS["modelo"].items())),
        FiltroRegistro(Historial.objeto_id, "ID del registro"),
        "creado",
        "usuario.email",
    )
    column_choices = {"accion": [(a, ACCION_LABELS.get(a, a)) for a in ACCIONES]}
    column_default_sort = ("id", True)

    def get_filter_arg(self, index, flt):
        return getattr(flt, "url_name", None) or super().get_filter_arg(index, flt)

    def url_for_record(self, modelo: str, pk) -> str:
        """This list filtered to one record: ?flt0_modelo=Cliente&flt1_registro=12."""
        # called from other views' pages: this view's endpoint, not the current page's (".index_view")
        query = urlencode({"flt0_modelo": modelo, "flt1_registro": pk})
        return url_for(f"{self.endpoint}.index_view") + "?" + query

    def _record_filter(self) -> tuple[str, str] | None:
        """The (modelo, id) this page is filtered to, when it is one record's history."""
        args = {k.split("_", 1)[1]: v for k, v in request.args.items() if k.startswith("flt") and "_" in k}
        if args.get("modelo") and args.get("registro"):
            return args["modelo"], args["registro"]
        return None

    def render(self, template, **kwargs):
        if template == self.list_template:
            rows = kwargs.get("data") or []
            g.historial_existentes = registros.existing((r.modelo, r.objeto_id) for r in rows)
            kwargs["registro"] = self._record_context()
        elif template == self.details_template and kwargs.get("model") is not None:
            entry = kwargs["model"]
            g.historial_existentes = registros.existing([(entry.modelo, entry.objeto_id)])
        return super().render(template, **kwargs)

    def _record_context(self) -> dict | None:
        """For one record's history: its name and page (while it exists)."""
        wanted = self._record_filter()
        if wanted is None:
            return None
        modelo, pk = wanted
        model = registros.model_class(modelo)
        number = as_id(pk)  # the URL's id, within INTEGER (panel/ids.py)
        row = db.session.get(model, number) if model is not None and number is not None else None
        gone = f"{registros.model_label(modelo)} #{pk}"
        return {
            "nombre": registros.record_name(row) if row is not None else gone,
            "url": registros.record_url(modelo, pk) if row is not None else None,
            "todo": self.get_url(".index_view"),
            "existe": row is not None,
        }
