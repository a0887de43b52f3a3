"""TenantModelView: the base of every model view of the panel.

Tenancy is not re-implemented here: every ORM query the view runs (list, count, get_one,
choice lists, AJAX lookups, actions) goes through the hook of ``panel/tenancy.py``. This
class adds what Flask-Admin lacks: 404 for rows out of reach, permissions decided per
request from the user's role, protected deletes with a clear message, a capped count, and
exports through the one exporter (panel/admin/exporting.py), never Flask-Admin's own.
"""

from contextlib import nullcontext
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import abort, flash, g, has_request_context, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.helpers import get_form_data, get_redirect_target
from flask_admin.model import template, typefmt
from flask_admin.model.filters import BaseFilter
from flask_login import current_user
from sqlalchemy.exc import DataError, IntegrityError
from wtforms import ValidationError
from wtforms.validators import InputRequired

from .. import formatting, tenancy, users
from ..audit import AUDITED
from ..extensions import db
from ..forms.base import PanelForm
from ..forms.clientes import ChoiceField
from ..ids import as_id, coerce_choice, parse_ids
from ..models import TenantOwned, dependents
from ..models.users import can_export, can_write, sees_every_tenant
from ..tenancy import TenancyError
from . import registros
from .base import PanelAccessMixin
from .counting import CappedCount
from .exporting import ExportMixin

# Flask-Admin endpoint → the permission it needs; refused with 403, not a silent redirect.
NEEDS = {
    "create_view": "can_create",
    "edit_view": "can_edit",
    "delete_view": "can_delete",
    "export": "can_export",
    "ajax_update": "can_edit",
}
MAX_PAGE = 1_000_000
URL_SAFE = "!$'()*,/:;?@"  # what Werkzeug leaves unquoted in a query string, as url_for does
INVALID_VALUE = "No se pudo guardar: hay un valor no válido (caracteres no permitidos o fuera de rango)."


def counted_from_rows(rows: int, page: int, size: int) -> int | None:
    """The list's exact length when the page fetched shows it: a page shorter than its size
    (or no size at all) holds the last rows; an empty first page, none. None: not known."""
    if not size:
        return rows
    if rows < size and (rows or not page):
        return page * size + rows
    return None


def _typed(kind, value):
    """A non-integer primary key (a code) as its type, None when it cannot be one."""
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


class Protegido(Exception):
    """A delete refused because other rows depend on this one."""


def allowed(permission) -> bool:
    """The logged-in user passes ``permission`` (a function of panel/models/users.py); False
    outside a request (Flask-Admin builds some lists at start-up)."""
    return has_request_context() and permission(current_user)


class SafeAjaxLoader(QueryAjaxModelLoader):
    """Flask-Admin's AJAX relation loader (given to ``form_ajax_refs``), with the posted id
    checked before it reaches the database: a date or a 20-digit number is "no such row"
    (None), not a PostgreSQL error."""

    def get_one(self, pk):
        number = as_id(pk)
        return None if number is None else super().get_one(number)


class ConfirmDeleteRowAction(template.BaseListRowAction):
    """A list row's delete button: a link to the confirmation page (no inline confirm())."""

    deletes = True  # the list hides it on a row the user may not change (panel_list.html)

    def __init__(self) -> None:
        super().__init__(title="Eliminar registro")
        self.icon_class = "fa fa-trash glyphicon glyphicon-trash"

    def render(self, context, row_id, row):
        get_url = self._resolve_symbol(context, "get_url")
        url = get_url(".delete_view", id=row_id, url=context.resolve("return_url"))
        return self._resolve_symbol(context, "row_actions.link")(self, url)


class TenantModelView(PanelAccessMixin, ExportMixin, ModelView):
    """A Flask-Admin ModelView scoped by tenancy and by the role of the request's user."""

    form_base_class = PanelForm  # Flask-WTF's CSRF and the text rule; SecureForm conflicts with CSRFProtect
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
    needs_owner = False  # a tenant-owned row that does not take its tenant from a parent
    owner_from: str | None = None  # the form field of the parent a new row takes its tenant from

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

    # --- queries ----------------------------------------------------------------------------

    def get_count_query(self):
        return CappedCount(super().get_count_query(), self.count_cap)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's list, with the rows fetched before the count: a page shorter than its
        size is the end of the list, so its count is the rows before it plus its own, and no
        count statement runs (a cédula search, a small tenant). Otherwise the capped count runs
        as before."""
        args = (page, sort_column, sort_desc, search, filters)
        if not execute:
            return super().get_list(*args, execute=False, page_size=page_size)
        g.counts_later = later = []
        try:
            _, rows = super().get_list(*args, execute=True, page_size=page_size)
        finally:
            g.pop("counts_later", None)
        if not later:
            return None, rows  # simple pager: no count at all
        size = self.page_size if page_size is None else page_size
        known = counted_from_rows(len(rows), page or 0, size)
        return (known if known is not None and known <= later[0].exact_limit else later[0].scalar()), rows

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

    def _get_list_url(self, view_args) -> str:
        """Flask-Admin's list URL (same arguments, same order), with one ``url_for`` per request
        instead of one per link: a list page has a sort link per column and a pager link per page."""
        args = {
            "page": view_args.page or None,
            "sort": view_args.sort,
            "desc": 1 if view_args.sort_desc else None,
            "search": view_args.search,
            **view_args.extra_args,
            "page_size": self.get_safe_page_size(view_args.page_size),
            **self._get_filters(view_args.filters),
        }
        query = urlencode([(k, v) for k, v in args.items() if v is not None], quote_via=quote, safe=URL_SAFE)
        return self._index_url() + ("?" + query if query else "")

    def _index_url(self) -> str:
        key = f"index_url:{self.endpoint}"
        if key not in g:
            g.setdefault(key, self.get_url(".index_view"))
        return g.get(key)

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), MAX_PAGE)  # negative or absurd pages: clamp
        return args

    def _get_filter_groups(self):
        """Filter choice lists built per request, so they are the user's tenant's rows."""
        groups: dict[str, list] = {}
        for i, flt in enumerate(self._filters or []):
            options = flt.get_options(self) if isinstance(flt, BaseFilter) else None
            groups.setdefault(str(flt.name), []).append(
                {
                    "index": i,
                    "arg": self.get_filter_arg(i, flt),
                    "operation": str(flt.operation()),
                    "options": [(str(k), str(v)) for k, v in options] if options else None,
                    "type": flt.data_type,
                }
            )
        return groups or None

    # --- forms -----------------------------------------------------------------------------

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Flask-Admin's create page, run for the tenant the new row will belong to."""
        with self._writing_for(self._owner_of_new()):
            return super().create_view()

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Flask-Admin's edit page, run for the tenant of the edited row."""
        with self._writing_for(self._owner_of_row(as_id(request.args.get("id", "")))):
            return super().edit_view()

    def _writing_for(self, tenant: int | None):
        """A superadmin writes under the tenant (``tenancy.writing_for``): choice lists, lookups and
        checks are that tenant's and new rows are stamped with it."""
        if not has_request_context() or not issubclass(self.model, TenantOwned):
            return nullcontext()
        return tenancy.writing_for(current_user, tenant)

    def _owner_of_new(self) -> int | None:
        """The tenant a superadmin picked (``propietario``), or that of the parent row chosen in
        the form (``owner_from``: a vehículo joins its client's tenant)."""
        if self.needs_owner:
            return as_id(request.form.get("propietario", ""))
        if self.owner_from and (parent_id := as_id(request.form.get(self.owner_from, ""))):
            parent = getattr(self.model, self.owner_from).property.mapper.class_
            key = sa.inspect(parent).primary_key[0]
            return db.session.scalar(sa.select(parent.id_propietario).where(key == parent_id))
        return None

    def _owner_of_row(self, pk: int | None) -> int | None:
        if pk is None or not issubclass(self.model, TenantOwned):
            return None
        key = getattr(self.model, self._primary_key)
        return db.session.scalar(sa.select(self.model.id_propietario).where(key == pk))

    def create_form(self, obj=None):
        """A superadmin creating a tenant-owned row picks the tenant it belongs to."""
        if not (self.needs_owner and allowed(sees_every_tenant)):
            return super().create_form(obj)
        field = ChoiceField("Propietario (administrador)", coerce=coerce_choice, validators=[InputRequired()])
        form = type("ConPropietario", (self._create_form_class,), {"propietario": field})(
            get_form_data(), obj=obj
        )
        form.propietario.choices = [(u.id, str(u)) for u in users.tenant_admins()]
        return form

    # --- a record's links: its history, its delete confirmation ---------------------------

    def render(self, template, **kwargs):
        if template in (self.details_template, self.edit_template) and kwargs.get("model") is not None:
            kwargs.update(self._record_links(kwargs["model"], kwargs.get("return_url")))
        return super().render(template, **kwargs)

    def _record_links(self, model, return_url) -> dict:
        modelo, pk = type(model).__name__, registros.primary_key(model)
        audited = modelo in AUDITED or modelo in registros.OWN_PAGES
        return {
            "historial_url": registros.history_url(modelo, pk) if audited else None,
            "eliminar_url": self.get_url(".delete_view", id=pk, url=return_url) if self.can_delete else None,
        }

    def delete_form(self):
        """Flask-Admin builds a delete form (with its CSRF token) on every list page for its
        row-delete buttons; ours are links to the confirmation page (ConfirmDeleteRowAction),
        so a list page builds none. The delete itself (POST) still validates its form."""
        if request.endpoint == f"{self.endpoint}.index_view":
            return None
        return super().delete_form()

    def get_list_row_actions(self):
        return [
            ConfirmDeleteRowAction() if isinstance(a, template.DeleteRowAction) else a
            for a in super().get_list_row_actions()
        ]

    # --- deletes and errors -----------------------------------------------------------------

    @expose("/delete/", methods=("GET", "POST"))
    def delete_view(self):
        """GET: the confirmation page, naming the record and what blocks its delete; POST: the
        delete (Flask-Admin's, through ``on_model_delete``)."""
        if request.method == "POST":
            return super().delete_view()
        model = self.get_one(request.args.get("id", ""))
        found = dependents.blockers(model)
        return self.render(
            self.delete_template,
            model=model,
            pk=registros.primary_key(model),
            nombre=registros.record_name(model),
            bloqueo=dependents.message(found) if found else None,
            return_url=get_redirect_target() or self.get_url(".index_view"),
        )

    def on_model_delete(self, model) -> None:
        """Refuse the delete, naming what depends on the row (declared in models/dependents.py)."""
        found = dependents.blockers(model)
        if found:
            raise Protegido(dependents.message(found))

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
