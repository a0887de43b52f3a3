"""SMS → Plantillas SMS: admins write templates, vendedores read them; everyone may send
themselves a test ("Enviar prueba") to a verified phone."""

from flask import abort, current_app, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from wtforms import ValidationError
from wtforms.validators import DataRequired

from ...extensions import db
from ...models import PlantillaSMS
from ...models.users import can_read
from ...sms import outbox, pruebas, runners, verificacion
from ...sms.render import PLACEHOLDERS, TemplateError, validate_template
from ..comun.modelview import TenantModelView
from .enviar import flash_test_sent


def _valid_template(form, field) -> None:
    """WTForms validator: the same rules as sending (placeholders, length, not empty)."""
    try:
        validate_template(field.data or "")
    except TemplateError as exc:
        raise ValidationError(str(exc)) from None


def _test_send_button(view, context, model, name) -> Markup:
    """ "Enviar prueba" (a CSRF-checked POST), or how to add and verify a phone in "Mi cuenta"."""
    if not verificacion.is_verified(current_user):
        cuenta = url_for("mi_cuenta.index")
        return Markup(
            '<small>Agregue y verifique su teléfono en <a href="{}">Mi cuenta</a> para probarla.</small>'
        ).format(cuenta)
    action = url_for(".prueba", plantilla_id=model.id)
    return Markup(
        '<form method="post" action="{}" class="m-0"><input type="hidden" name="csrf_token" value="{}">'
        '<button type="submit" class="btn btn-sm btn-outline-info" data-testid="prueba-plantilla">'
        "Enviar prueba</button></form>"
    ).format(action, generate_csrf())


class PlantillaSMSView(TenantModelView):
    """Templates: admins write them, vendedores read them; everyone may send themselves a test."""

    permission = staticmethod(can_read)
    needs_owner = True
    can_view_details = False
    column_list = ("nombre", "mensaje", "activo", "autor", "creado", "prueba")
    export_column_list = ("nombre", "mensaje", "activo", "autor", "creado")  # "prueba" is a button
    column_labels = {
        "nombre": "Nombre",
        "mensaje": "Mensaje",
        "activo": "Activa",
        "autor": "Autor",
        "creado": "Creada",
        "prueba": "Prueba",
    }
    column_formatters = {"prueba": _test_send_button}
    column_searchable_list = ("nombre", "mensaje")
    column_filters = ("activo",)
    column_default_sort = ("nombre", False)
    form_columns = ("nombre", "mensaje", "activo")
    form_args = {
        "nombre": {"label": "Nombre", "validators": [DataRequired("Escriba un nombre.")]},
        "mensaje": {
            "label": "Mensaje",
            "validators": [_valid_template],
            "description": "Marcadores: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS),
        },
        "activo": {"label": "Activa"},
    }

    def on_model_change(self, form, model, is_created) -> None:
        super().on_model_change(form, model, is_created)
        if is_created:
            model.id_usuario = current_user.id

    @expose("/<int:plantilla_id>/prueba", methods=("POST",))
    def prueba(self, plantilla_id: int):
        """The template's text, with the user's own name, to the user's phone."""
        plantilla = db.session.get(PlantillaSMS, plantilla_id)  # the tenancy hook: another tenant's is None
        if plantilla is None:
            abort(404)
        try:
            campana = runners.create_and_start(
                pruebas.create_test_send,
                user_id=current_user.id,
                mensaje=plantilla.mensaje,
                muestra=pruebas.sample_of_user(current_user),
                tenant=plantilla.id_propietario,
                limit=current_app.config["SMS_TEST_SENDS_PER_HOUR"],
                id_plantilla=plantilla.id,
                nombre=plantilla.nombre,
            )
        except outbox.OutboxError as exc:
            flash(f"No se envió la prueba: {exc.message}", "error")
            return redirect(url_for(".index_view"))
        flash_test_sent(campana.id)
        return redirect(url_for(".index_view"))
