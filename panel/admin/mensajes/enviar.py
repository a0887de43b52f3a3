"""The "Enviar SMS" page: write or pick the message, review a dry run, confirm.

The selection comes from the Clientes list action: ``?ids=1,2,3`` or
``?todos=1&filtros=<the list's query string>``; the tenancy hook keeps it inside the tenant.
"""

import secrets

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import Markup

from ... import formatting, idempotency
from ...extensions import db
from ...forms.enviar_sms_form import EnviarSMSForm
from ...models import Cliente
from ...models.users import can_send_sms, can_send_transactional
from ...sms import outbox, pruebas, reglas, runners, verificacion
from ...sms.render import PLACEHOLDERS, preview_rules
from ..clientes.seleccion import Seleccion
from ..comun.acceso import PanelAccessMixin

PREVIEW = 3


def _first_recipients(query) -> list[dict]:
    """Names of the first recipients, for the live preview in the browser."""
    stmt = query.with_only_columns(Cliente.nombre_cliente, Cliente.apellido_cliente)
    stmt = stmt.order_by(None).order_by(Cliente.id_cliente).limit(PREVIEW)
    return [{"nombre_cliente": n or "", "apellido_cliente": a or ""} for n, a in db.session.execute(stmt)]


def _opt_out_text(query) -> str:
    """The opt-out text of the recipients' tenant (the legal default when there are none)."""
    tenant = db.session.scalar(query.with_only_columns(Cliente.id_propietario).order_by(None).limit(1))
    return reglas.of_tenant(tenant).texto_baja


def _first_error(form: EnviarSMSForm) -> str:
    return next(iter(m for msgs in form.errors.values() for m in msgs), "")


class EnviarSMSView(PanelAccessMixin, BaseView):
    """Admins and vendedores send SMS campaigns to a selection of clients."""

    permission = staticmethod(can_send_sms)

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
        if paso and form.tipo_refused(current_user):
            abort(403)  # only an admin may exempt a campaign from the window and the cap
        if paso in ("revisar", "enviar", "prueba") and not form.validate():
            error = ("No se creó la campaña: " if paso == "enviar" else "") + _first_error(form)
        elif paso == "enviar":
            response = self._confirm(seleccion, query, form)
            if response is not None:
                return response
        elif paso == "prueba":
            error = test_send(query, form)
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
            # The live preview ends a commercial message with the tenant's opt-out text, as sent.
            reglas_mensaje=preview_rules() | {"texto_baja": _opt_out_text(query)},
            volver=url_for("clientes.index_view"),
            # Test sends go only to the user's own verified phone (SPEC §18).
            telefono_prueba=current_user.telefono if verificacion.is_verified(current_user) else None,
            # A fresh one-time key per review: the confirmation form carries it (see _confirm).
            clave_confirmacion=secrets.token_urlsafe(24) if resumen else None,
            puede_transaccional=can_send_transactional(current_user),
        )

    def _dry_run(self, query, form: EnviarSMSForm):
        try:
            rate = current_app.config["SMS_RATE_PER_SECOND"]
            resumen = outbox.dry_run(
                query, form.texto, form.tipo.data, form.programada_para, rate, form.acortar_enlaces.data
            )
            return with_cost(resumen), None
        except outbox.OutboxError as exc:
            return None, exc.message

    def _confirm(self, seleccion: Seleccion, query, form: EnviarSMSForm):
        """Create the campaign once per one-time key: a resubmission lands on the first campaign."""
        clave = (request.form.get("clave_confirmacion") or "").strip()[: idempotency.MAX_KEY]
        if not clave:  # a form without a key (an old page): no replay protection to give
            return self._send(seleccion, query, form)
        try:
            row_id, stored = idempotency.claim(current_user.id, "panel:" + clave, PANEL_FINGERPRINT)
        except idempotency.KeyConflict:
            flash("Esta confirmación todavía se está procesando: revise la lista de campañas.", "warning")
            return redirect(url_for("campanas_sms.index_view"))
        if stored is not None:
            flash("Esta confirmación ya se había enviado: esta es la campaña que creó.", "info")
            return redirect(url_for("campanas_sms.detalle", campana_id=stored.recurso_id))
        try:
            response = self._send(
                seleccion, query, form, on_created=lambda c: idempotency.finish(row_id, 302, recurso_id=c.id)
            )
        except BaseException:
            idempotency.forget(row_id)
            raise
        if response is None:  # refused (nothing created): the key may be used again after a fix
            idempotency.forget(row_id)
        return response

    def _send(self, seleccion: Seleccion, query, form: EnviarSMSForm, on_created=None):
        """Create the campaign (one transaction) and start sending; None re-shows the form."""
        try:
            campana = runners.create_and_start(
                outbox.create_campaign,
                on_created=on_created,  # before sending starts: a resubmission from now on finds it
                user_id=current_user.id,
                cliente_query=query,
                mensaje=form.texto,
                nombre=form.nombre.data,
                id_plantilla=form.id_plantilla.data,
                filtros=seleccion.describe(),
                programada_para=form.programada_para,
                tipo=form.tipo.data,
                acortar_enlaces=form.acortar_enlaces.data,
            )
        except outbox.OutboxError as exc:
            flash(f"No se creó la campaña: {exc.message}", "error")
            return None
        flash(f"Campaña «{campana.nombre}» creada: {campana.total_clientes} destinatarios.", "success")
        return redirect(url_for("campanas_sms.detalle", campana_id=campana.id))


# The panel's key is minted by the server for one review, so any reuse is a resubmission.
PANEL_FINGERPRINT = idempotency.fingerprint("panel-enviar-sms", None)


def with_cost(resumen: dict) -> dict:
    """The dry run with its estimated cost: segments × SMS_PRICE_PER_SEGMENT, in total and per row."""
    price, currency = current_app.config["SMS_PRICE_PER_SEGMENT"], current_app.config["SMS_PRICE_CURRENCY"]
    resumen["costo_total"] = formatting.cost(resumen["segmentos_total"] * price, currency)
    resumen["precio_segmento"] = formatting.cost(price, currency)
    for row in resumen["vista_previa"]:
        row["costo"] = formatting.cost(row["segmentos"] * price, currency)
    return resumen


def test_send(query, form: EnviarSMSForm) -> str | None:
    """ "Enviar prueba": the first recipient's text to the user's phone; the error, or None."""
    muestra = pruebas.sample_of_query(query) or pruebas.sample_of_user(current_user)
    try:
        tenant = outbox.tenant_of(current_user, query)
        if tenant is None:
            raise outbox.OutboxError("Elija al menos un destinatario: la prueba usa a su propietario.")
        campana = runners.create_and_start(
            pruebas.create_test_send,
            user_id=current_user.id,
            mensaje=form.texto,
            muestra=muestra,
            tenant=tenant,
            limit=current_app.config["SMS_TEST_SENDS_PER_HOUR"],
            id_plantilla=form.id_plantilla.data,
            nombre=form.nombre.data,
            tipo=form.tipo.data,
        )
    except outbox.OutboxError as exc:
        return f"No se envió la prueba: {exc.message}"
    flash_test_sent(campana.id)
    return None


def flash_test_sent(campana_id: int) -> None:
    """Say where the test went, with a link to follow its delivery."""
    url = url_for("campanas_sms.detalle", campana_id=campana_id)
    message = Markup('Prueba enviada a su teléfono {}. <a href="{}">Ver su entrega</a>.')
    flash(message.format(current_user.telefono, url), "success")


def _prefill(values) -> dict:
    """A GET may carry a message or template to start from (e.g. from a template's page)."""
    names = ("nombre", "mensaje", "id_plantilla", "programar_para", "tipo")
    return {k: values.get(k) for k in names if values.get(k)}
