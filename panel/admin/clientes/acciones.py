"""Bulk actions of the Clientes list: one set-based statement each, tenant-scoped by the hook,
on the ticked rows or on every row matching the list ("Seleccionar los N resultados")."""

from urllib.parse import urlencode

import sqlalchemy as sa
from flask import abort, flash, redirect, request
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_login import current_user

from ... import audit, tenancy
from ...extensions import db
from ...formatting import listing, plural
from ...ids import as_id
from ...models import CampanaPublicitaria, Cliente, dependents, utcnow
from ...models.users import can_send_sms, can_write
from .seleccion import Seleccion

ESTADOS = {
    "activar": (1, "activados"),
    "desactivar": (0, "desactivados"),
    "deshabilitar": (3, "deshabilitados"),
}
SHOW_BLOCKED = 20


def _blocked_message(blocked: list, total: int) -> str:
    """'No se eliminaron 2 clientes: Ana Ruiz (tiene 1 vehículo), Juan Gil (tiene 2 ventas).'"""
    names = [f"{cliente} (tiene {dependents.describe(found)})" for cliente, found in blocked]
    if total > len(blocked):
        names.append(plural(total - len(blocked), "otro", "otros"))
    return f"No se eliminaron {plural(total, 'cliente', 'clientes')}: {listing(names)}."


class AccionesClientes:
    """Mixin for the Clientes view: the actions and their confirmation pages."""

    action_template = "admin/clientes/accion.html"

    def is_action_allowed(self, name: str) -> bool:
        if name == "enviar_sms":
            return can_send_sms(current_user)
        return name != "delete" and can_write(current_user)

    def handle_action(self, return_view=None):
        """Check CSRF and permission; "all matching" asks for confirmation first."""
        name = request.form.get("action", "")
        if name not in self._actions_data or not self.is_action_allowed(name):
            abort(403)
        if not self.validate_form(self.action_form()):
            flash("No se pudo ejecutar la acción: el formulario caducó, inténtelo de nuevo.", "error")
            return redirect(self._back())
        seleccion = Seleccion.from_values(request.form)
        if seleccion.todos and name not in ("enviar_sms", "inscribir") and not request.form.get("confirmado"):
            return self._pagina_accion(name, seleccion)
        return self._actions_data[name][0](seleccion)

    def action_form(self, obj=None):
        """Flask-Admin builds its actions' form on every list page; the Clientes list prints
        its own (templates/admin/clientes/list.html, with the same CSRF token), so its page
        builds none. The action itself (POST) still validates the form (above)."""
        if request.endpoint == f"{self.endpoint}.index_view":
            return None
        return super().action_form(obj)

    def _back(self) -> str:
        return get_redirect_target() or self.get_url(".index_view")

    def _pagina_accion(self, name: str, seleccion: Seleccion, campanas=None):
        return self.render(
            self.action_template,
            accion=name,
            titulo=self._actions_data[name][1],
            seleccion=seleccion,
            total=seleccion.count(),
            campanas=campanas,
            return_url=self._back(),
        )

    def _done(self, name: str, seleccion: Seleccion, filas: int, resumen: str, **extra):
        audit.record(
            "accion",
            "Cliente",
            filas=filas,
            resumen=resumen,
            detalle={"accion": name, **seleccion.describe(), **extra},
        )
        db.session.commit()
        flash(resumen, "success")
        return redirect(self._back())

    def _update(self, seleccion: Seleccion, *extra_where, **values) -> int:
        stmt = (
            sa.update(Cliente)
            .where(seleccion.where(), *extra_where)
            .values(actualizado=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        return db.session.execute(stmt).rowcount

    def _estado(self, name: str, seleccion: Seleccion):
        estado, participio = ESTADOS[name]
        filas = self._update(seleccion, **{"estado": estado})
        return self._done(name, seleccion, filas, f"{plural(filas, 'cliente', 'clientes')} {participio}.")

    @action("activar", "Activar", "¿Activar los clientes seleccionados?")
    def action_activar(self, seleccion):
        return self._estado("activar", seleccion)

    @action("desactivar", "Desactivar", "¿Desactivar los clientes seleccionados?")
    def action_desactivar(self, seleccion):
        return self._estado("desactivar", seleccion)

    @action("deshabilitar", "Deshabilitar", "¿Deshabilitar los clientes seleccionados?")
    def action_deshabilitar(self, seleccion):
        return self._estado("deshabilitar", seleccion)

    @action("inscribir", "Inscribir en campaña")
    def action_inscribir(self, seleccion):
        """First a page to pick the campaign (stating how many clients), then one UPDATE."""
        raw = request.form.get("id_campana", "")
        campana = None
        if (campana_id := as_id(raw)) is not None:
            campana = db.session.scalar(
                sa.select(CampanaPublicitaria).where(CampanaPublicitaria.id == campana_id)
            )
        if campana is None:
            if raw:
                flash("Elija una campaña válida.", "error")
            campanas = db.session.scalars(sa.select(CampanaPublicitaria).order_by(CampanaPublicitaria.nombre))
            return self._pagina_accion("inscribir", seleccion, campanas=list(campanas))
        # A campaign only takes clients of its own tenant: a superadmin writes for that tenant.
        with tenancy.using(campana.id_propietario):
            filas = self._update(seleccion, id_campana=campana.id)
        resumen = f"{plural(filas, 'cliente inscrito', 'clientes inscritos')} en «{campana.nombre}»."
        return self._done("inscribir", seleccion, filas, resumen, id_campana=campana.id)

    @action("retirar", "Retirar de campaña", "¿Retirar de su campaña a los clientes seleccionados?")
    def action_retirar(self, seleccion):
        filas = self._update(seleccion, Cliente.id_campana.is_not(None), id_campana=None)
        return self._done(
            "retirar",
            seleccion,
            filas,
            f"{plural(filas, 'cliente retirado', 'clientes retirados')} de su campaña.",
        )

    @action("eliminar", "Eliminar", "¿Eliminar los clientes seleccionados?")
    def action_eliminar(self, seleccion):
        """Delete the free ones in one statement; name, for each blocked one, what blocks it."""
        protected = dependents.is_protected(Cliente)
        blocked = dependents.blocked_rows(Cliente, seleccion.where(), SHOW_BLOCKED)
        n_blocked = db.session.scalar(
            sa.select(sa.func.count(Cliente.id_cliente)).where(seleccion.where(), protected)
        )
        stmt = (
            sa.delete(Cliente)
            .where(seleccion.where(), sa.not_(protected))
            .execution_options(synchronize_session=False)
        )
        filas = db.session.execute(stmt).rowcount
        response = self._done(
            "eliminar",
            seleccion,
            filas,
            f"{plural(filas, 'cliente eliminado', 'clientes eliminados')}.",
            bloqueados=n_blocked,
        )
        if n_blocked:
            flash(_blocked_message(blocked, n_blocked), "warning")
        return response

    @action("enviar_sms", "Enviar SMS")
    def action_enviar_sms(self, seleccion):
        """To the SMS page with the selection in the query string (303: a GET follows)."""
        if seleccion.todos:
            query = urlencode({"todos": "1", "filtros": seleccion.filtros})
        else:
            query = urlencode({"ids": ",".join(map(str, seleccion.visible_ids()))}, safe=",")
        return redirect(f"{self.admin.url}/enviar-sms/?{query}", code=303)
