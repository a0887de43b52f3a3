"""The SMS document's own pages under /clientes/ (SPEC §12, §15), served by the panel's views.

A POST carries the document's fields (``nombre``, ``telefono``, ``documento``, ``activo`` for a
client; ``nombre``, ``mensaje``, ``activo`` for a template). They are mapped onto the panel's own
form (a client's exactly as ``crear/ajax`` maps them: ``panel/api/sms_endpoints.py:document_fields``), the
fields left out keep their values, and the panel's Flask-Admin view validates and writes (its
hooks, Historial, protected deletes). A GET goes to the panel's own page for the same thing.
CSRF is the app's CSRFProtect (a ``csrf_token`` field or the ``X-CSRFToken`` header); errors are
the panel's HTML pages (``api.errors.is_page_path`` keeps them out of the JSON API's paths).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, url_for
from flask_admin.babel import gettext, ngettext
from flask_admin.form import FormOpts
from flask_login import current_user

from .api.cliente_data import stored_values, write_scope
from .api.error_responses import PAGES_BLUEPRINT
from .api.sms_endpoints import AJAX_NAMES, document_fields
from .forms.binding import bind
from .models import dependents
from .models.users import can_write, is_staff, sees_every_tenant

bp = Blueprint(PAGES_BLUEPRINT, __name__, url_prefix="/clientes")

TRUE_WORDS, FALSE_WORDS = ("true", "1", "on", "si", "sí", "yes"), ("false", "0", "off", "no", "")
NOT_A_BOOLEAN = "Debe ser true o false."
READABLE = {f"{PAGES_BLUEPRINT}.clientes", f"{PAGES_BLUEPRINT}.plantillas"}  # the lists: vendedores too


def _plantilla_values(obj) -> dict:
    """What a template's fields hold now, or a new one's defaults (SPEC §4: activo true)."""
    if obj is None:
        return {"nombre": None, "mensaje": None, "activo": True}
    return {"nombre": obj.nombre, "mensaje": obj.mensaje, "activo": obj.activo}


@dataclass(frozen=True)
class Pagina:
    """One kind of record of the document's pages, and how its fields reach the panel's form."""

    view: str  # the endpoint of the panel's Flask-Admin view that validates and writes
    lista: str  # this blueprint's list page, where a success goes
    campos: tuple[str, ...]  # the document's form fields
    actuales: Callable  # a row's values under the form's names (a new row: the defaults)
    a_formulario: Callable[[dict], dict] = lambda posted: posted  # document fields → the form's
    nombres: dict = field(default_factory=dict)  # a form field → the document's name, for errors


CLIENTES = Pagina(
    "clientes",
    f"{PAGES_BLUEPRINT}.clientes",
    ("nombre", "telefono", "documento", "activo"),
    stored_values,
    document_fields,
    AJAX_NAMES,
)
PLANTILLAS = Pagina(
    "plantillas_sms", f"{PAGES_BLUEPRINT}.plantillas", ("nombre", "mensaje", "activo"), _plantilla_values
)


@bp.before_request
def _staff_only():
    """Anonymous users log in and come back; vendedores only read the lists (403 elsewhere)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not is_staff(current_user) or (request.endpoint not in READABLE and not can_write(current_user)):
        abort(403)
    return None


def panel_view(endpoint: str):
    """The panel's Flask-Admin view of ``endpoint``: its forms, hooks and tenant-scoped get_one."""
    admin = current_app.extensions["panel_admin"]
    return next(v for v in admin._views if v.endpoint == endpoint)


def panel_url(view, page: str, **values) -> str:
    """The URL of one of the view's pages (``get_url(".x")`` only works inside the view itself)."""
    return url_for(f"{view.endpoint}.{page}", **values)


# --- the clients ----------------------------------------------------------------------------


@bp.get("/")
def clientes():
    """The panel's Clientes list, filtered to the active clients (the filter's url_name: estado)."""
    return redirect(url_for("clientes.index_view", flt0_estado=1))


@bp.route("/nuevo/", methods=("GET", "POST"))
def nuevo():
    return _create(CLIENTES)


@bp.route("/editar/<int:id_cliente>/", methods=("GET", "POST"))
def editar(id_cliente: int):
    return _edit(CLIENTES, id_cliente)


@bp.route("/eliminar/<int:id_cliente>/", methods=("GET", "POST"))
def eliminar(id_cliente: int):
    """POST deletes; GET shows the client's details page, where its delete button is."""
    if request.method == "GET":
        view = panel_view(CLIENTES.view)
        return redirect(panel_url(view, "details_view", id=view.get_one(id_cliente).id_cliente))
    return _delete(CLIENTES, id_cliente)


# --- the SMS templates ----------------------------------------------------------------------


@bp.get("/plantillas/")
def plantillas():
    return redirect(url_for("plantillas_sms.index_view"))


@bp.route("/plantillas/crear/", methods=("GET", "POST"))
def crear_plantilla():
    return _create(PLANTILLAS)


@bp.route("/plantillas/editar/<int:id_plantilla>/", methods=("GET", "POST"))
def editar_plantilla(id_plantilla: int):
    return _edit(PLANTILLAS, id_plantilla)


@bp.route("/plantillas/eliminar/<int:id_plantilla>/", methods=("GET", "POST"))
def eliminar_plantilla(id_plantilla: int):
    """POST deletes; GET shows the templates list, where each one's delete button is."""
    if request.method == "GET":
        panel_view(PLANTILLAS.view).get_one(id_plantilla)  # 404 outside the tenant
        return redirect(url_for(PLANTILLAS.lista))
    return _delete(PLANTILLAS, id_plantilla)


# --- what every page does -------------------------------------------------------------------


def _create(pagina: Pagina):
    """GET: the panel's create page. POST: create from the document's fields."""
    view = panel_view(pagina.view)
    if request.method == "GET":
        return redirect(panel_url(view, "create_view", url=url_for(pagina.lista)))
    if sees_every_tenant(current_user):  # no tenant of its own: the panel's page asks for one
        abort(403)
    return _save(pagina, view, None)


def _edit(pagina: Pagina, pk: int):
    """GET: the panel's edit page. POST: change the fields sent; the others keep their values."""
    view = panel_view(pagina.view)
    obj = view.get_one(pk)  # the tenancy hook: another tenant's row is a 404, as a missing one
    if request.method == "GET":
        return redirect(panel_url(view, "edit_view", id=pk, url=url_for(pagina.lista)))
    return _save(pagina, view, obj)


def _posted(pagina: Pagina) -> tuple[dict, dict]:
    """The document's fields in the POST (``activo`` as a boolean), and the errors of reading them."""
    posted, errors = {}, {}
    for name in pagina.campos:
        if name not in request.form:
            continue
        value = request.form[name]
        if name == "activo":
            word = value.strip().lower()
            if word not in TRUE_WORDS + FALSE_WORDS:
                errors[name] = [NOT_A_BOOLEAN]
                continue
            value = word in TRUE_WORDS
        posted[name] = value  # as sent: the panel's form filters (strip, cédula digits) apply
    return posted, errors


def _save(pagina: Pagina, view, obj):
    """Validate with the panel's form and write through its view: 302 to the list, or the form
    again (200) with every error."""
    posted, errors = _posted(pagina)
    values = pagina.actuales(obj) | pagina.a_formulario(posted)
    form_class = view._edit_form_class if obj is not None else view._create_form_class
    with write_scope(obj.id_propietario if obj is not None else None):  # a superadmin's edit
        form = bind(form_class, values, obj)
        if form.validate() and not errors:
            saved = view.create_model(form) if obj is None else view.update_model(form, obj)
            if saved:  # else the view has flashed why (e.g. a lost race on the cédula)
                flash(_saved_message(obj is None), "success")
                return redirect(url_for(pagina.lista))
    for name, messages in form.errors.items():
        errors.setdefault(pagina.nombres.get(name, name), []).extend(str(m) for m in messages)
    return _form_page(pagina, view, form, obj, errors), 200


def _saved_message(created: bool) -> str:
    """The panel's own words for a saved record (Flask-Admin's, in our catalogue)."""
    if created:
        return gettext("Record was successfully created.")
    return gettext("Record was successfully saved.")


def _form_page(pagina: Pagina, view, form, obj, errors: dict) -> str:
    """The panel's own create or edit page, holding what was sent, its errors under the document's
    names on top; it posts to the panel's page, so a correction is saved there."""
    pk = view.get_pk_value(obj) if obj is not None else None
    back = url_for(pagina.lista)
    action = (
        panel_url(view, "edit_view", id=pk, url=back) if obj else panel_url(view, "create_view", url=back)
    )
    rules = view._form_edit_rules if obj is not None else view._form_create_rules
    return view.render(
        "documento/formulario.html",
        base=view.edit_template if obj is not None else view.create_template,
        form=form,
        form_opts=FormOpts(widget_args=view.form_widget_args, form_rules=rules),
        return_url=back,
        action=action,
        errores=errors,
        model=obj,
    )


def _delete(pagina: Pagina, pk: int):
    """Delete through the panel's view: 302 to the list, or 409 naming what protects the row."""
    view = panel_view(pagina.view)
    obj = view.get_one(pk)
    found = dependents.blockers(obj)
    if found:
        return _refused(view, dependents.message(found))
    with write_scope(obj.id_propietario):
        deleted = view.delete_model(obj)  # checks again, and flashes why if it fails
    if not deleted:
        return _refused(view, "No se pudo eliminar el registro.")
    deleted_message = ngettext(
        "Record was successfully deleted.", "%(count)s records were successfully deleted.", 1, count=1
    )
    flash(deleted_message, "success")
    return redirect(url_for(pagina.lista))


def _refused(view, reason: str):
    """A refused delete, in the panel's layout: the reason and a way back."""
    page = view.render("errors/error.html", codigo=409, titulo="No se puede eliminar", mensaje=reason)
    return page, 409


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
