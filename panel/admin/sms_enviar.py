"""The "Enviar SMS" page: write or pick the message, review a dry run, confirm.

The selection comes from the Clientes list action: ``?ids=1,2,3`` or
``?todos=1&filtros=<the list's query string>``; the tenancy hook keeps it inside the tenant.
"""

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from ..extensions import db
from ..forms.sms import EnviarSMSForm
from ..models import STAFF, Cliente
from ..sms import outbox, runners
from ..sms.render import PLACEHOLDERS
from .base import PanelAccessMixin
from .seleccion import Seleccion

PREVIEW = 3


def _first_recipients(query) -> list[dict]:
    """Names of the first recipients, for the live preview in the browser."""
    stmt = query.with_only_columns(Cliente.nombre_cliente, Cliente.apellido_cliente)
    stmt = stmt.order_by(None).order_by(Cliente.id_cliente).limit(PREVIEW)
    return [{"nombre_cliente": n or "", "apellido_cliente": a or ""} for n, a in db.session.execute(stmt)]


def _first_error(form: EnviarSMSForm) -> str:
    return next(iter(m for msgs in form.errors.values() for m in msgs), "")


class EnviarSMSView(PanelAccessMixin, BaseView):
    """Admins and vendedores send SMS campaigns to a selection of clients."""

    allowed_roles = STAFF

    def is_visible(self) -> bool:
        return False  # reached from the Clientes list action, not from the menu

    @expose("/", methods=("GET", "POST"))
    def index(self):
        values = request.form if request.method == "POST" else request.args
        seleccion = Seleccion.from_values(values)
        query = sa.select(Cliente).where(seleccion.where())
        try:
            scope = outbox.sending_for(current_user, query)
        except outbox.OutboxError as exc:
            flash(exc.message, "error")
            return redirect(url_for("clientes.index_view"))
        with scope:
            return self._page(seleccion, query, values)

    def _page(self, seleccion: Seleccion, query, values):
        """The form, its dry run or the campaign it creates, within the campaign's tenant."""
        form = EnviarSMSForm(formdata=values if request.method == "POST" else None, data=_prefill(values))
        paso = request.form.get("paso") if request.method == "POST" else None
        resumen, error = None, None
        if paso in ("revisar", "enviar") and not form.validate():
            error = ("No se creó la campaña: " if paso == "enviar" else "") + _first_error(form)
        elif paso == "enviar":
            response = self._send(seleccion, query, form)
            if response is not None:
                return response
        elif paso == "revisar":
            resumen, error = self._dry_run(query, form)
        return self.render(
            "admin/sms/enviar.html",
            seleccion=seleccion,
            total=seleccion.count(),
            plantillas=form.plantillas,
            form=form,
            resumen=resumen,
            error=error,
            destinatarios=_first_recipients(query),
            marcadores=["{" + p + "}" for p in PLACEHOLDERS],
            volver=url_for("clientes.index_view"),
        )

    def _dry_run(self, query, form: EnviarSMSForm):
        try:
            return outbox.dry_run(query, form.texto), None
        except outbox.OutboxError as exc:
            return None, exc.message

    def _send(self, seleccion: Seleccion, query, form: EnviarSMSForm):
        """Create the campaign (one transaction) and start sending; None re-shows the form."""
        try:
            campana = outbox.create_campaign(
                user_id=current_user.id,
                cliente_query=query,
                mensaje=form.texto,
                nombre=form.nombre.data,
                id_plantilla=form.id_plantilla.data,
                filtros=seleccion.describe(),
                programada_para=form.programada_para,
            )
        except outbox.OutboxError as exc:
            flash(f"No se creó la campaña: {exc.message}", "error")
            return None
        runners.dispatch(campana.id, current_app._get_current_object())
        flash(f"Campaña «{campana.nombre}» creada: {campana.total_clientes} destinatarios.", "success")
        return redirect(url_for("campanas_sms.detalle", campana_id=campana.id))


def _prefill(values) -> dict:
    """A GET may carry a message or template to start from (e.g. from a template's page)."""
    names = ("nombre", "mensaje", "id_plantilla", "programar_para")
    return {k: values.get(k) for k in names if values.get(k)}
