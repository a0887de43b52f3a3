"""The "Enviar SMS" page: write or pick the message, review a dry run, confirm.

The selection comes from the Clientes list action: ``?ids=1,2,3`` or
``?todos=1&filtros=<the list's query string>``; the tenancy hook keeps it inside the tenant.
"""

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from ..extensions import db
from ..ids import as_id
from ..models import Cliente, PlantillaSMS
from ..sms import outbox, runners
from ..sms.render import PLACEHOLDERS
from .base import STAFF, PanelAccessMixin

PREVIEW = 3


def _seleccion(values):
    """The selection of clients carried in the query string or the form."""
    from ..ids import parse_ids
    from ..selection import Seleccion

    if values.get("todos") == "1":
        return Seleccion(todos=True, filtros=values.get("filtros", ""))
    return Seleccion(ids=tuple(parse_ids([values.get("ids", "")])))


def _plantillas() -> list[PlantillaSMS]:
    stmt = sa.select(PlantillaSMS).where(PlantillaSMS.activo.is_(True)).order_by(PlantillaSMS.nombre)
    return list(db.session.scalars(stmt))


def _first_recipients(query) -> list[dict]:
    """Names of the first recipients, for the live preview in the browser."""
    stmt = query.with_only_columns(Cliente.nombre_cliente, Cliente.apellido_cliente)
    stmt = stmt.order_by(None).order_by(Cliente.id_cliente).limit(PREVIEW)
    return [{"nombre_cliente": n or "", "apellido_cliente": a or ""} for n, a in db.session.execute(stmt)]


class EnviarSMSView(PanelAccessMixin, BaseView):
    """Admins and vendedores send SMS campaigns to a selection of clients."""

    allowed_roles = STAFF

    def is_visible(self) -> bool:
        return False  # reached from the Clientes list action, not from the menu

    @expose("/", methods=("GET", "POST"))
    def index(self):
        values = request.form if request.method == "POST" else request.args
        seleccion = _seleccion(values)
        query = sa.select(Cliente).where(seleccion.where())
        form = {
            "nombre": values.get("nombre", ""),
            "mensaje": values.get("mensaje", ""),
            "id_plantilla": values.get("id_plantilla", ""),
        }
        paso = request.form.get("paso") if request.method == "POST" else None
        if paso == "enviar":
            response = self._send(seleccion, query, form)
            if response is not None:
                return response
        resumen, error = None, None
        if paso == "revisar":
            resumen, error = self._dry_run(query, form)
        return self.render(
            "admin/sms/enviar.html",
            seleccion=seleccion,
            total=seleccion.count(),
            plantillas=_plantillas(),
            form=form,
            resumen=resumen,
            error=error,
            destinatarios=_first_recipients(query),
            marcadores=["{" + p + "}" for p in PLACEHOLDERS],
            volver=url_for("clientes.index_view"),
        )

    def _message(self, form: dict) -> str:
        """The message to send: the one written, else the chosen template's."""
        plantilla_id = as_id(form["id_plantilla"])
        if form["mensaje"].strip() or plantilla_id is None:
            return form["mensaje"]
        plantilla = db.session.get(PlantillaSMS, plantilla_id)
        return plantilla.mensaje if plantilla and plantilla.activo else ""

    def _dry_run(self, query, form: dict):
        try:
            return outbox.dry_run(query, self._message(form)), None
        except outbox.OutboxError as exc:
            return None, exc.message

    def _send(self, seleccion, query, form: dict):
        """Create the campaign (one transaction) and start sending; None re-shows the form."""
        try:
            campana = outbox.create_campaign(
                user_id=current_user.id,
                cliente_query=query,
                mensaje=form["mensaje"],
                nombre=form["nombre"],
                id_plantilla=form["id_plantilla"] or None,
                filtros=seleccion.describe(),
            )
        except outbox.OutboxError as exc:
            flash(f"No se creó la campaña: {exc.message}", "error")
            return None
        runners.dispatch(campana.id, current_app._get_current_object())
        flash(f"Campaña «{campana.nombre}» creada: {campana.total_clientes} destinatarios.", "success")
        return redirect(url_for("campanas_sms.detalle", campana_id=campana.id))
