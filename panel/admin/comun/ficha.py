"""A record's own pages in every model view: its links (its Historial, "Eliminar…"), the delete
confirmation naming what blocks it, and a protected delete refused with a clear message
(declared in models/dependents.py)."""

from flask import request
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_admin.model import template

from ...audit import AUDITED
from ...models import dependents
from . import registros


class Protegido(Exception):
    """A delete refused because other rows depend on this one."""


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


class RecordPagesMixin:
    """Mixed into ``TenantModelView`` before Flask-Admin's ``ModelView``."""

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
