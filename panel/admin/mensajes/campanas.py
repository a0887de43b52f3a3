"""SMS → Campañas SMS: the campaigns list, one campaign's page (progress, its messages, steering:
pause, resume, cancel, retry), and the SMS menu's registration (plantillas, campañas, Enviar SMS)."""

import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import Admin, expose
from flask_login import current_user
from markupsafe import Markup, escape

from ... import audit, export, formatting
from ...extensions import db
from ...formatting import LABELS
from ...models import CampanaSMS, PlantillaSMS, SMSLog
from ...models.sms import ESTADOS_LOG
from ...models.users import can_read, can_steer
from ...sms import enlaces, lifecycle, resultados, runners
from ..comun.modelview import TenantModelView
from .plantillas import PlantillaSMSView

ENTREGAS = ("queued", "sending", "sent", "delivered", "undelivered", "failed")
LOG_PAGE = 50
# The results in a campaigns export, after the estimate: (header, figure, kind).
RESULTADOS_EXPORTADOS = (
    ("Entregados", "entregados", "numero"),
    ("No entregados", "no_entregados", "numero"),
    ("Omitidos", "omitidos", "numero"),
    ("Clics únicos", "clics_unicos", "numero"),
    ("Tasa de clics (%)", "tasa_clics", "numero"),
    ("Bajas en 72 h", "bajas_72h", "numero"),
    ("Costo real", "costo_real", "numero"),
    ("Moneda del costo real", "moneda_real", "texto"),
)


def _campaign_link(view, context, model, name) -> Markup:
    url = url_for("campanas_sms.detalle", campana_id=model.id)
    return Markup(f'<a href="{escape(url)}">{escape(model.nombre)}</a>')


class CampanaSMSView(TenantModelView):
    """Campaigns: list and detail (read-only but for "Reintentar fallidos"), live progress."""

    permission = staticmethod(can_read)
    read_only = True
    can_view_details = False
    column_list = (
        "nombre",
        "estado",
        "tipo",
        "total_clientes",
        "enviados_exitosos",
        "enviados_fallidos",
        "usuario",
        "creado",
    )
    column_labels = {
        "nombre": "Nombre",
        "estado": "Estado",
        "tipo": "Tipo",
        "total_clientes": "Destinatarios",
        "enviados_exitosos": "Enviados",
        "enviados_fallidos": "Fallidos",
        "usuario": "Enviada por",
        "creado": "Creada",
    }
    column_filters = ("estado", "tipo")
    column_searchable_list = ("nombre",)
    column_default_sort = ("creado", True)
    # Labels, not codes (SPEC §12): the same words as the exports.
    column_formatters = {
        "nombre": _campaign_link,
        "estado": lambda v, c, m, n: formatting.label("estado_campana", m.estado),
        "tipo": lambda v, c, m, n: formatting.label("tipo_campana", m.tipo),
    }
    export_labels = {"estado": LABELS["estado_campana"], "tipo": LABELS["tipo_campana"]}

    # --- the export: the list's columns, then each campaign's results (sms/resultados.py) -------

    def export_columns(self, query):
        columnas, query = super().export_columns(query)
        # only the listed campaigns' rows are grouped (a filtered export reads no other's log)
        listed = query.with_entities(CampanaSMS.id).order_by(None).subquery()
        agg = resultados.agregados(sa.select(listed.c.id))
        figuras = resultados.columnas(agg)
        moneda = current_app.config["SMS_PRICE_CURRENCY"]
        extra = [*RESULTADOS_EXPORTADOS, (f"Costo estimado ({moneda})", "costo_estimado", "numero")]
        columnas += [export.Columna(titulo, figuras[name], tipo) for titulo, name, tipo in extra]
        return columnas, query.outerjoin(agg, agg.c.id_campana == CampanaSMS.id)

    # --- test sends are left out of the list unless asked for (?pruebas=1) --------------------

    def _without_tests(self, query):
        return query if request.args.get("pruebas") == "1" else query.filter(CampanaSMS.prueba.is_(False))

    def get_query(self):
        return self._without_tests(super().get_query())

    def get_count_query(self):
        return self._without_tests(super().get_count_query())

    def _campana(self, campana_id: int) -> CampanaSMS:
        campana = db.session.get(CampanaSMS, campana_id)  # the tenancy hook: another tenant's is None
        if campana is None:
            abort(404)
        return campana

    @expose("/<int:campana_id>/")
    def detalle(self, campana_id: int):
        campana = self._campana(campana_id)
        estado, entrega = request.args.get("estado", ""), request.args.get("entrega", "")
        revision = request.args.get("revision") == "1"
        page = max(request.args.get("page", 0, type=int), 0)
        stmt = sa.select(SMSLog).where(SMSLog.id_campana == campana.id)
        if estado in ESTADOS_LOG:
            stmt = stmt.where(SMSLog.estado == estado)
        if entrega == "ninguno":
            stmt = stmt.where(SMSLog.estado_entrega.is_(None))
        elif entrega:
            stmt = stmt.where(SMSLog.estado_entrega == entrega)
        if revision:
            stmt = stmt.where(SMSLog.requiere_revision.is_(True))
        clic = campana.acortar_enlaces and request.args.get("clic") == "1"
        if clic:  # who clicked (SPEC §20): the recipients with a click on one of its links
            stmt = stmt.where(SMSLog.id_cliente.in_(enlaces.clicked(campana.id)))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        logs = db.session.scalars(stmt.order_by(SMSLog.id).offset(page * LOG_PAGE).limit(LOG_PAGE)).all()
        return self.render(
            "admin/sms/campana.html",
            campana=campana,
            progreso=lifecycle.progress(campana.id),
            resultados=_resultados_de(campana.id),
            acciones=self._acciones(campana),
            entregas=self._entregas(campana.id),
            reintentables=self._reintentables(campana),
            logs=logs,
            clics=enlaces.clics_por_cliente(campana.id, [r.id_cliente for r in logs if r.id_cliente])
            if campana.acortar_enlaces
            else None,
            filtro={"estado": estado, "entrega": entrega, "revision": revision, "clic": clic},
            estados=ESTADOS_LOG,
            opciones_entrega=ENTREGAS,
            page=page,
            pages=max((total + LOG_PAGE - 1) // LOG_PAGE, 1),
            total_filtrado=total,
        )

    def _entregas(self, campana_id: int) -> dict:
        stmt = sa.select(SMSLog.estado_entrega, sa.func.count()).where(SMSLog.id_campana == campana_id)
        return {k or "sin dato": n for k, n in db.session.execute(stmt.group_by(SMSLog.estado_entrega))}

    def _reintentables(self, campana: CampanaSMS) -> int:
        """The failed rows "Reintentar fallidos" would send again; 0 (no button) where this user
        may not steer the campaign or its estado refuses the retry."""
        if not can_steer(current_user, campana) or campana.estado not in lifecycle.RETRY.desde:
            return 0
        stmt = sa.select(sa.func.count()).where(
            SMSLog.id_campana == campana.id,
            SMSLog.estado == "fallido",
            SMSLog.reintentable.is_(True),
            SMSLog.requiere_revision.is_(False),
        )
        return db.session.scalar(stmt)

    def _acciones(self, campana: CampanaSMS) -> list[str]:
        """The buttons this user may press on this campaign now."""
        if not can_steer(current_user, campana):
            return []
        return [a for a, rule in lifecycle.ACTIONS.items() if campana.estado in rule.desde]

    @expose("/<int:campana_id>/progreso.json")
    def progreso(self, campana_id: int):
        """lifecycle.progress plus the newest rows, for the page's live table."""
        campana = self._campana(campana_id)
        p = lifecycle.progress(campana.id)
        p["etiqueta_estado"] = formatting.label("estado_campana", p["estado"])
        p["preparacion_texto"] = p["preparacion"]["texto"] if p["preparacion"] else ""
        for key in ("programada_para", "siguiente_envio"):
            p[key] = formatting.date_time(p[key]) if p[key] else ""
        p["filas"] = [_fila(r) for r in self._recent(campana.id)]
        return jsonify(p)

    def _recent(self, campana_id: int) -> list[SMSLog]:
        stmt = sa.select(SMSLog).where(SMSLog.id_campana == campana_id)
        return list(db.session.scalars(stmt.order_by(SMSLog.actualizado.desc(), SMSLog.id).limit(LOG_PAGE)))

    @expose("/<int:campana_id>/<any(pausar, reanudar, cancelar):accion>", methods=("POST",))
    def accion(self, campana_id: int, accion: str):
        """Pause, resume or cancel from the page (CSRF-checked POST), as the API does."""
        campana = self._campana(campana_id)
        if not can_steer(current_user, campana):
            abort(403)
        try:
            lifecycle.apply(accion, campana.id)
        except lifecycle.TransitionRefused as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".detalle", campana_id=campana_id))
        lifecycle.record(accion, campana)
        db.session.commit()
        if accion == "reanudar":
            runners.dispatch(campana.id, current_app._get_current_object())
        flash(f"Campaña {lifecycle.PAST[accion]}.", "success")
        return redirect(url_for(".detalle", campana_id=campana.id))

    @expose("/<int:campana_id>/reintentar", methods=("POST",))
    def reintentar(self, campana_id: int):
        """Send again the failed messages Twilio certainly never got (CSRF-checked POST): reanudar
        from error, under its rule (SPEC §18) — who may steer the campaign, and only from error."""
        campana = self._campana(campana_id)
        if not can_steer(current_user, campana):
            abort(403)
        back = url_for(".detalle", campana_id=campana.id)
        try:
            n = lifecycle.retry(campana.id)
        except lifecycle.TransitionRefused as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(back)
        if not n:  # nothing to send again: the campaign stays as it was
            db.session.rollback()
            flash("No hay mensajes fallidos que se puedan reintentar.", "warning")
            return redirect(back)
        audit.record(
            "sms",
            "CampanaSMS",
            filas=n,
            objeto_id=campana.id,
            id_propietario=campana.id_propietario,
            resumen=f"Reintentar fallidos de «{campana.nombre}»: {n} mensajes",
        )
        db.session.commit()
        runners.dispatch(campana.id, current_app._get_current_object())
        flash(f"Se reintentarán {n} mensajes fallidos.", "success")
        return redirect(back)


def _resultados_de(campana_id: int) -> dict:
    """The campaign's results as the page shows them, and the numbers its chart draws."""
    r = resultados.de_campana(campana_id)
    grafico = {
        "etiquetas": [
            "Enviados",
            "Entregados",
            "No entregados",
            "Fallidos",
            "Omitidos",
            "Clics únicos",
            "Bajas 72 h",
        ],
        "valores": [
            r.enviados,
            r.entregados,
            r.no_entregados,
            r.fallidos,
            r.omitidos,
            r.clics_unicos,
            r.bajas_72h,
        ],
    }
    return {"cifras": r.pantalla(), "grafico": grafico}


def _fila(r: SMSLog) -> dict:
    """One row of the live table, with its labels (panel/formatting.py)."""
    return {
        "id": r.id,
        "cliente": r.cliente.nombre_completo if r.cliente else "",
        "telefono": r.telefono or "",
        "estado": r.estado,
        "etiqueta": formatting.label("estado_sms", r.estado),
        "entrega": formatting.label("estado_entrega", r.estado_entrega),
        "sid": r.twilio_sid or "",
        "error": r.error_mensaje or r.motivo or "",
        "actualizado": formatting.date_time(r.actualizado),
    }


def register_sms_views(admin: Admin) -> None:
    """Add the SMS views to the admin."""
    from .enviar import EnviarSMSView

    sms = "SMS"
    admin.add_view(
        PlantillaSMSView(
            PlantillaSMS, name="Plantillas SMS", endpoint="plantillas_sms", url="plantillas-sms", category=sms
        )
    )
    admin.add_view(
        CampanaSMSView(
            CampanaSMS, name="Campañas SMS", endpoint="campanas_sms", url="campanas-sms", category=sms
        )
    )
    admin.add_view(EnviarSMSView(name="Enviar SMS", endpoint="enviar_sms", url="enviar-sms"))
