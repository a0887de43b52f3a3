"""A record as people name it, and the pages that link records and their history.

Shared by every model view (the "Historial" button, the delete confirmation) and by the
Historial (the link back to each record). Views are looked up in the app's Flask-Admin, so a
link is only offered to a page the user may open.
"""

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for

from ... import formatting
from ...extensions import db
from ...models import Historial

# Records whose page is not a Flask-Admin details/edit page.
OWN_PAGES = {"CampanaSMS": lambda pk: url_for("campanas_sms.detalle", campana_id=pk)}


def model_label(modelo: str) -> str:
    """'PlantillaSMS' → 'Plantilla SMS'."""
    return formatting.label("modelo", modelo)


def model_class(modelo: str):
    """The mapped class of a model name as the Historial stores it, or None."""
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == modelo:
            return mapper.class_
    return None


def primary_key(obj):
    return sa.inspect(obj).mapper.primary_key_from_instance(obj)[0]


def record_name(obj) -> str:
    """'Cliente «María Gómez (1012345678)»', or 'Movimiento de capital #7' for rows with no name."""
    return f"{model_label(type(obj).__name__)} {formatting.row_name(obj, primary_key(obj), quote=True)}"


def _views():
    admin = current_app.extensions.get("panel_admin")
    return admin._views if admin else []


def view_of(model):
    """The model view of ``model`` the user may open (None outside a request or when refused)."""
    if not has_request_context():
        return None
    for view in _views():
        if getattr(view, "model", None) is model and view.is_accessible():
            return view
    return None


def historial_view():
    """The Historial's view, if the user may read it: found by its model, like any record's view
    (so this module needs nothing of admin/historial/, which builds on it)."""
    return view_of(Historial)


def record_url(modelo: str, pk) -> str | None:
    """The page of the record (details, else edit), if the user may open it."""
    if modelo in OWN_PAGES:
        model = model_class(modelo)
        return OWN_PAGES[modelo](pk) if model and view_of(model) else None
    view = view_of(model_class(modelo))
    if view is None:
        return None
    if view.can_view_details:  # the view's own endpoint: ".details_view" would be the current page's
        return url_for(f"{view.endpoint}.details_view", id=pk)
    if view.can_edit:
        return url_for(f"{view.endpoint}.edit_view", id=pk)
    return None


def history_url(modelo: str, pk) -> str | None:
    """The Historial filtered to this record, if the user may read the Historial."""
    view = historial_view()
    return None if view is None else view.url_for_record(modelo, pk)


def existing(pairs) -> set[tuple[str, str]]:
    """Which (modelo, id) pairs still exist for the user (one query per model, tenant-scoped)."""
    by_model: dict[str, set[int]] = {}
    for modelo, pk in pairs:
        if pk and str(pk).isdigit():
            by_model.setdefault(modelo, set()).add(int(pk))
    found = set()
    for modelo, ids in by_model.items():
        model = model_class(modelo)
        if model is None:
            continue
        mapper = sa.inspect(model)
        key = getattr(model, mapper.get_property_by_column(mapper.primary_key[0]).key)  # ORM: scoped
        for pk in db.session.scalars(sa.select(key).where(key.in_(ids))):
            found.add((modelo, str(pk)))
    return found
