"""TenantModelView: the base of every model view of the panel.

Tenancy is not re-implemented here: every ORM query the view runs (list, count, get_one,
choice lists, AJAX lookups, actions) goes through the hook of ``panel/tenancy.py``. This
class adds what Flask-Admin lacks: 404 for rows out of reach, permissions decided per
request from the user's role, protected deletes with a clear message, a capped count, and
exports through the one exporter, never Flask-Admin's own. Each of those jobs has its module
beside this one, mixed in here: ``lista_rapida`` (the list and its count), ``propietario``
(the tenant a superadmin's write runs for), ``ficha`` (a record's links and its delete),
``exporting`` (the export), ``acceso`` (who gets in).
"""

from datetime import date, datetime
from decimal import Decimal

from flask import abort, flash, has_request_context, request
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model import typefmt
from flask_login import current_user
from sqlalchemy.exc import DataError, IntegrityError
from wtforms import ValidationError

from ... import formatting
from ...extensions import db
from ...forms.base import PanelForm
from ...ids import as_id, parse_ids
from ...models.users import can_export, can_write
from ...tenancy import TenancyError
from .acceso import PanelAccessMixin
from .exporting import ExportMixin
from .fechas_vista import FiltrosConFecha, FormularioConFecha
from .ficha import Protegido, RecordPagesMixin
from .lista_rapida import FastListMixin
from .propietario import OwnerMixin

# Flask-Admin endpoint → the permission it needs; refused with 403, not a silent redirect.
NEEDS = {
    "create_view": "can_create",
    "edit_view": "can_edit",
    "delete_view": "can_delete",
    "export": "can_export",
    "ajax_update": "can_edit",
}
INVALID_VALUE = "No se pudo guardar: hay un valor no válido (caracteres no permitidos o fuera de rango)."


def _typed(kind, value):
    """A non-integer primary key (a code) as its type, None when it cannot be one."""
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


class SafeAjaxLoader(QueryAjaxModelLoader):
    """Flask-Admin's AJAX relation loader (given to ``form_ajax_refs``), with the posted id
    checked before it reaches the database: a date or a 20-digit number is "no such row"
    (None), not a PostgreSQL error."""

    def get_one(self, pk):
        number = as_id(pk)
        return None if number is None else super().get_one(number)


class TenantModelView(FastListMixin, OwnerMixin, RecordPagesMixin, PanelAccessMixin, ExportMixin, ModelView):
    """A Flask-Admin ModelView scoped by tenancy and by the role of the request's user."""

    form_base_class = PanelForm  # Flask-WTF's CSRF and the text rule; SecureForm conflicts with CSRFProtect
    # Dates typed dd/mm/aaaa with the Spanish picker, in forms and filters (fechas_vista.py).
    model_form_converter = FormularioConFecha
    filter_converter = FiltrosConFecha()
    list_template = "admin/panel_list.html"  # a labelled search box, no javascript: links
    permission = staticmethod(can_write)  # vendedores only see the views that say so
    read_only = False  # True: nobody creates, edits or deletes here (history, campaigns)
    can_view_details = True
    can_set_page_size = True
    details_template = "admin/registro/details.html"  # + "Historial" and "Eliminar…"
    edit_template = "admin/registro/edit.html"
    delete_template = "admin/registro/eliminar.html"
    page_size = 20
    page_size_options = (20, 50, 100)
    count_cap = 10_000

    # Every list and details page writes dates, times and money as formatting.py does.
    column_type_formatters = {
        **typefmt.BASE_FORMATTERS,
        bool: lambda view, value, name: formatting.yes_no(value),
        datetime: lambda view, value, name: formatting.date_time(value),
        date: lambda view, value, name: formatting.day(value),
        Decimal: lambda view, value, name: formatting.money(value),
    }
    column_type_formatters_detail = column_type_formatters

    def __init__(self, model, **kwargs):
        super().__init__(model, db, **kwargs)

    # --- permissions, decided per request -------------------------------------------------

    def _may_write(self) -> bool:
        return not self.read_only and has_request_context() and can_write(current_user)

    @property
    def can_create(self) -> bool:
        return self._may_write()

    @property
    def can_edit(self) -> bool:
        return self._may_write()

    @property
    def can_delete(self) -> bool:
        return self._may_write()

    @property
    def can_export(self) -> bool:
        return has_request_context() and can_export(current_user) and bool(self.export_types)

    def _handle_view(self, name, **kwargs):
        response = super()._handle_view(name, **kwargs)
        if response is None and name in NEEDS and not getattr(self, NEEDS[name]):
            abort(403)
        return response

    def handle_action(self, return_view=None):
        """An action the user may not run is a 403, not a silent redirect."""
        name = request.form.get("action", "")
        if name not in self._actions_data or not self.is_action_allowed(name):
            abort(403)
        return super().handle_action(return_view)

    @action(
        "delete", lazy_gettext("Delete"), lazy_gettext("Are you sure you want to delete selected records?")
    )
    def action_delete(self, ids):
        """Flask-Admin's bulk delete, with the ``rowid``s made integers first: it binds them as
        strings, which PostgreSQL refuses to compare with an integer key (a 500)."""
        return super().action_delete(tuple(parse_ids(ids)))

    def get_one(self, id):
        """The row by primary key, within the tenant; anything else (missing, other tenant,
        malformed id) is 404."""
        column = getattr(self.model, self._primary_key)
        try:
            kind = column.type.python_type
        except NotImplementedError:
            abort(404)
        # an integer key goes through the one id rule (INTEGER's range); others as typed
        value = as_id(id) if kind is int else _typed(kind, id)
        if value is None:
            abort(404)
        model = self.get_query().filter(column == value).one_or_none()
        if model is None:
            abort(404)
        return model

    # --- errors ----------------------------------------------------------------------------

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, Protegido | ValidationError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, TenancyError):
            abort(404)
        if isinstance(exc, DataError):  # e.g. a NUL character, which PostgreSQL cannot store
            flash(INVALID_VALUE, "error")
            return True
        if isinstance(exc, IntegrityError):
            flash("No se pudo completar: el dato ya existe o está en uso por otros registros.", "error")
            return True
        return super().handle_view_exception(exc)
