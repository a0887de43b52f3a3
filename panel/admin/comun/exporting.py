"""Every model view's export through the one exporter (panel/export.py): the columns of the
view's list, related rows by their names, codes by their labels, audited in Historial."""

import sqlalchemy as sa
from flask import abort, request
from flask_admin import expose
from sqlalchemy.orm import RelationshipProperty, aliased

from ... import export, export_download, export_sql
from ...export import CODIGOS, FORMATOS, Formato
from ...models import Cliente, Usuario

NUMBERS = (sa.Integer, sa.Numeric, sa.Float)


def kind_of(name: str, column) -> str:
    """The exporter's kind of a column, from its SQL type."""
    if name == "telefono":
        return "telefono"
    if isinstance(column.type, sa.Boolean):
        return "booleano"
    if isinstance(column.type, NUMBERS):
        return "numero"
    if isinstance(column.type, sa.DateTime):
        return "fecha_hora"
    return "fecha" if isinstance(column.type, sa.Date) else "texto"


def name_of(model, alias):
    """How a related row is named in an export (as on screen)."""
    if model is Cliente:
        return alias.nombre_cliente + " " + sa.func.coalesce(alias.apellido_cliente, "")
    if model is Usuario:
        return alias.email
    if hasattr(model, "nombre"):
        return alias.nombre
    return getattr(alias, sa.inspect(model).primary_key[0].key)


class ExportMixin:
    """The current list (search, filters, sort) in every format of ``export.FORMATOS``, streamed."""

    export_types: list[str] = list(CODIGOS)  # a view without exports says []
    # Flask-Admin's list with our export menu (the formats by name); a view with its own list
    # template imports the same menu (templates/admin/export_menu.html).
    export_column_list: tuple[str, ...] | None = None  # default: column_list
    export_labels: dict[str, dict] = {}  # column → {code: label}

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """Flask-Admin's own export URL streams through ours too (its own writes cells as typed)."""
        return self.exportar(export_type)

    @expose("/exportar/<formato>/")
    def exportar(self, formato):
        """The current list as CSV (Excel), CSV or XLSX, streamed; 403 for who may not export."""
        if not self.can_export:
            abort(403)
        if formato not in self.export_types:
            abort(404)
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _, query = self.get_list(
            0, sort and sort[0], args.sort_desc, args.search, args.filters, execute=False, page_size=0
        )
        # the primary key breaks ties (and orders a list that has no sort): without it the order
        # of equal rows is the plan's, and COPY's plan is not the Python path's
        query = query.order_by(*sa.inspect(self.model).primary_key)
        columnas, query = self.export_columns(query)
        nombre = str(self.name).lower()  # Historial's words; the file is named by the endpoint
        entry = export_download.audit_start(self.model.__name__, nombre, formato, self.export_filters(args))
        stmt = query.with_entities(*(c.campo for c in columnas)).statement
        on_end = lambda n: export_download.audit_end(entry, nombre, formato, n)  # noqa: E731
        chunks = export_sql.chunks(stmt, columnas, formato, self.endpoint, on_end)
        return export_download.response(formato, self.endpoint, chunks)

    @property
    def export_formats(self) -> list[Formato]:
        """The formats this view offers, in the menu's order (templates/admin/export_menu.html)."""
        return [FORMATOS[codigo] for codigo in self.export_types]

    def export_columns(self, query):
        """The exported columns, and the query with the outer joins their related names need."""
        columnas = []
        for name in self.export_column_list or self.column_list:
            titulo = str(self.column_labels.get(name) or name.replace("_", " ").capitalize())
            attr = getattr(self.model, name)  # the ORM attribute, never the table's column: the
            prop = attr.property  # tenancy hook scopes ORM entities only
            if isinstance(prop, RelationshipProperty):
                related = prop.mapper.class_
                alias = aliased(related)
                query = query.outerjoin(alias, attr.of_type(alias))
                columnas.append(export.Columna(titulo, name_of(related, alias)))
            else:
                kind = kind_of(name, prop.columns[0])
                columnas.append(export.Columna(titulo, attr, kind, nombres=self.export_labels.get(name)))
        return columnas, query

    def export_filters(self, args) -> dict:
        """What the list was narrowed by, in words: the search, each filter and its value, the sort."""
        filtros = [
            {"filtro": f"{f.name} {f.operation()}", "valor": self._named(i, value)}
            for i, f, value in ((i, self._filters[i], value) for i, _, value in args.filters or ())
        ]
        return {"busqueda": args.search or "", "filtros": filtros, "orden": request.args.get("sort", "")}

    def _named(self, index: int, value):
        """A filter's value by the name its drop-down shows ('1' → 'Activo'), else as typed."""
        options = self._filters[index].get_options(self) or ()
        return {str(key): str(name) for key, name in options}.get(str(value), value)
