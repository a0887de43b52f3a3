"""The Clientes view: the list staff live in all day, its details page, forms and export."""

from functools import cache
from urllib.parse import quote

import sqlalchemy as sa
from flask import request, url_for
from flask_admin.babel import gettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy.orm import defaultload

from ... import campos, export, formatting, identificacion, municipios
from ...extensions import db
from ...forms.cliente_form import ClienteForm
from ...models import (
    ESTADOS_CLIENTE,
    GENEROS,
    CampanaPublicitaria,
    CampanaSMS,
    Ciudad,
    Cliente,
    ConsentimientoSMS,
    Departamento,
    Empresa,
    MovimientoCapital,
    Pais,
    SMSLog,
    Usuario,
    Vehiculo,
    Venta,
)
from ...models.users import can_import, can_read, can_send_sms, sees_every_tenant
from ..comun.acceso import allowed
from ..comun.modelview import TenantModelView
from .acciones import AccionesClientes
from .ciudad_lookup import CiudadAjax, labels_of
from .filtros import (
    FILTROS,
    SEARCH_PLACEHOLDER,
    agencias,
    apply_search,
    list_args,
    matching_clientes,
    nombres,
)

__all__ = ["ClienteView", "matching_clientes"]

LABELS = {
    "id_cliente": "ID",
    # The client's own fields (and a key's relation, e.g. "empresa"): panel/campos.py.
    **campos.columnas(c.relacion or c.nombre for c in campos.CLIENTE),
    "creado": "Creado",
    "actualizado": "Actualizado",
    "propietario": "Propietario",
    "agencia": "Agencia",
}
SMS_HISTORY = 50
DEEP_OFFSET = 1000  # from this many rows skipped on, a page is fetched by its keys first
# Flask-Admin's own row texts (its translations): the delete confirmation must stay byte for byte
# the handler whose hash the CSP allows (panel/security.py).
ROW_TEXTS = (
    "Select record",
    "View Record",
    "Edit Record",
    "Delete Record",
    "Are you sure you want to delete this record?",
)


def estado_badge(view, context, model, name):
    """The estado as a coloured label."""
    label = ESTADOS_CLIENTE.get(model.estado, str(model.estado))
    return Markup('<span class="badge badge-estado-{}">{}</span>').format(model.estado, label)


def _si_no(view, context, model, name):
    return "Sí" if getattr(model, name) else "No"


def _nombres(model) -> dict:
    """{id: nombre} of a small related table, through the ORM (tenant-scoped by the hook)."""
    return {i: nombre for i, nombre in db.session.execute(sa.select(model.id, model.nombre))}


def consent_since():
    """When the client's current consent was given or withdrawn (its latest change), for exports."""
    latest = sa.select(sa.func.max(ConsentimientoSMS.fecha)).where(
        ConsentimientoSMS.id_cliente == Cliente.id_cliente
    )
    return latest.scalar_subquery().label("acepta_sms_desde")


def export_columns() -> list[export.Columna]:
    """The exported columns; related names come from lookups loaded once per export."""
    C, L = export.Columna, campos.ETIQUETAS
    return [
        C("ID", Cliente.id_cliente, "numero"),
        C(L["cedula_cliente"], Cliente.cedula_cliente),
        C(L["nombre_cliente"], Cliente.nombre_cliente),
        C(L["apellido_cliente"], Cliente.apellido_cliente),
        # the E.164 when the number is valid (national form in spreadsheets), else as typed
        C(L["telefono"], sa.func.coalesce(Cliente.telefono_e164, Cliente.telefono), "telefono"),
        C(L["email"], Cliente.email),
        C(L["estado"], Cliente.estado, nombres=ESTADOS_CLIENTE),
        C(L["tipo_documento"], Cliente.tipo_documento),  # the code: what the import reads back
        C(L["empresa"], Cliente.id_empresa, nombres=_nombres(Empresa)),
        C(L["campana"], Cliente.id_campana, nombres=_nombres(CampanaPublicitaria)),
        C(L["ciudad"], Cliente.id_ciudad, nombres=municipios.labels()),  # "Rionegro (Antioquia)"
        C(L["pais"], Cliente.id_pais, nombres=_nombres(Pais)),
        C(L["acepta_sms"], Cliente.acepta_sms, "booleano"),
        C(f"{L['acepta_sms']} desde", consent_since(), "fecha_hora"),
        C(L["fecha_nacimiento"], Cliente.fecha_nacimiento, "fecha"),
        C(L["genero"], Cliente.genero, nombres=GENEROS),
        C("Creado", Cliente.creado, "fecha_hora"),
    ]


class ClientePanelForm(ClienteForm):
    """ClienteForm as the panel uses it: only the writable fields reach the row."""

    def populate_obj(self, obj) -> None:
        for name in self.WRITABLE:
            setattr(obj, name, self[name].data)


def enviar_sms_url(cliente: Cliente) -> str | None:
    """The Enviar SMS page for this one client, for users who may send SMS."""
    if not can_send_sms(current_user):
        return None
    return url_for("enviar_sms.index", ids=cliente.id_cliente)


class ClienteView(AccionesClientes, TenantModelView):
    list_template = "admin/clientes/list.html"
    details_template = "admin/clientes/details.html"
    form = ClientePanelForm
    needs_owner = True
    permission = staticmethod(can_read)  # vendedores: read-only, and "Enviar SMS"
    column_list = (
        "cedula_cliente",
        "nombre_cliente",
        "apellido_cliente",
        "telefono",
        "email",
        "estado",
        "empresa",
        "campana",
        "ciudad",
    )
    column_details_list = (
        "id_cliente",
        "tipo_documento",
        "cedula_cliente",
        "nombre_cliente",
        "apellido_cliente",
        "fecha_nacimiento",
        "genero",
        "email",
        "telefono",
        "estado",
        "acepta_sms",
        "empresa",
        "campana",
        "ciudad",
        "pais",
        "usuario",
        "creado",
        "actualizado",
    )
    column_labels = LABELS
    column_formatters = {
        "cedula_cliente": lambda v, c, m, n: m.documento,
        "tipo_documento": lambda v, c, m, n: identificacion.TIPOS.get(m.tipo_documento, m.tipo_documento),
        "estado": estado_badge,
        "acepta_sms": _si_no,
        "genero": lambda v, c, m, n: GENEROS.get(m.genero, "—"),
        "telefono": lambda v, c, m, n: formatting.client_phone(m),
    }
    # The city in the same SELECT: a page costs the same whatever its size. The empresa's and the
    # campaña's names come with the filters' choices, which the page reads anyway (render): two
    # joins less to plan and to read (docs/performance.md).
    column_select_related_list = (Cliente.ciudad,)
    column_searchable_list = ("cedula_cliente", "nombre_cliente", "apellido_cliente", "email", "telefono")
    column_sortable_list = (
        "cedula_cliente",
        "nombre_cliente",
        "apellido_cliente",
        "telefono",
        "email",
        "estado",
        ("empresa", "empresa.nombre"),
        ("campana", "campana.nombre"),
        ("ciudad", "ciudad.nombre"),
    )
    column_default_sort = ("id_cliente", True)
    column_filters = FILTROS
    # The form's ciudad and the Ciudad filter search the municipios here (/ajax/lookup/).
    form_ajax_refs = {"id_ciudad": CiudadAjax()}

    def get_filter_arg(self, index, flt):
        return flt.url_name  # readable, stable URLs: ?flt0_estado=1&flt1_empresa=3

    def _get_filter_groups(self):
        """The Agencia filter is the superadmin's: a tenant's staff only ever see their own."""
        groups = super()._get_filter_groups() or {}
        if not allowed(sees_every_tenant):
            groups.pop(LABELS["agencia"], None)
        return groups or None

    def list_rows(self, query):
        """Without the ciudad's departamento (joined wherever a Ciudad loads): the list labels a
        repeated municipio with the departamento names its filters read anyway (``render``),
        and one join less is ~0.5 ms less to plan at every page (docs/performance.md)."""
        return query.options(*_row_options())

    def _apply_pagination(self, query, page, page_size):
        """Deep pages as a deferred join: OFFSET walks the page's keys only (an index scan),
        then just those rows are loaded with their joins, instead of fetching and dropping
        every row before the page."""
        size = self.page_size if page_size is None else page_size
        if not (page and size) or page * size < DEEP_OFFSET:
            return super()._apply_pagination(query, page, page_size)
        keys = query.with_entities(Cliente.id_cliente).limit(size).offset(page * size).subquery()
        return query.filter(Cliente.id_cliente.in_(sa.select(keys.c.id_cliente))).limit(size)

    def search_placeholder(self):
        return SEARCH_PLACEHOLDER

    def _apply_search(self, query, count_query, joins, count_joins, search):
        count_query = None if count_query is None else apply_search(count_query, search)
        return apply_search(query, search), count_query, joins, count_joins

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs.update(filtros=list_args(request.args), count_cap=self.count_cap)
            kwargs.update(puede_importar=allowed(can_import))
            etiqueta = _etiquetas(nombres(Departamento))  # a city's label, without a statement
            kwargs.update(fila=self._row_links(kwargs["return_url"], etiqueta))
            kwargs.update(ciudades_filtro=self._ciudades_filtradas(etiqueta))
            if allowed(sees_every_tenant):  # which agency owns each client: the superadmin's column
                kwargs["list_columns"] = [*kwargs["list_columns"], ("agencia", LABELS["agencia"])]
                kwargs["fila"]["agencias"] = {int(i): nombre for i, nombre in agencias()}
        elif template == self.details_template:
            kwargs.update(self.related(kwargs["model"]), enviar_sms=enviar_sms_url(kwargs["model"]))
        return super().render(template, **kwargs)

    @staticmethod
    def _ciudades_filtradas(etiqueta) -> dict:
        """The lookup's URL and the names of the cities the active filters name (the filter's
        search box shows a name, and the page carries no other city)."""
        ids = [v for k, v in request.args.items(multi=True) if k.startswith("flt") and k.endswith("_ciudad")]
        return {"url": url_for(".ajax_lookup", name="id_ciudad"), "nombres": labels_of(ids, etiqueta)}

    def _row_links(self, return_url: str, etiqueta) -> dict:
        """What every row of the list repeats, computed once per page: the row template then
        prints plain values (Flask-Admin calls a macro, url_for and a formatter per cell)."""
        back = "&url=" + quote(return_url, safe="!$'()*,/:;?@")  # as url_for quotes it
        return {
            "ver": self.get_url(".details_view") + "?id=" if self.can_view_details else None,
            "editar": self.get_url(".edit_view") + "?id=" if self.can_edit else None,
            "borrar": self.get_url(".delete_view") if self.can_delete else None,
            "volver": back,
            "return_url": return_url,
            "csrf": generate_csrf(),
            "estados": ESTADOS_CLIENTE,
            "ciudad": etiqueta,
            "empresas": nombres(Empresa),  # by id: the rows' statement joins neither
            "campanas": nombres(CampanaPublicitaria),
            "textos": {k: gettext(k) for k in ROW_TEXTS},
        }

    def related(self, cliente: Cliente) -> dict:
        """What hangs from a client, for its details page."""
        of = lambda m: sa.select(m).where(m.id_cliente == cliente.id_cliente)  # noqa: E731
        movimientos = db.session.scalars(of(MovimientoCapital).order_by(MovimientoCapital.fecha.desc())).all()
        sms = db.session.execute(
            sa.select(SMSLog, CampanaSMS.nombre)
            .join(CampanaSMS, CampanaSMS.id == SMSLog.id_campana)
            .where(SMSLog.id_cliente == cliente.id_cliente)
            .order_by(SMSLog.creado.desc())
            .limit(SMS_HISTORY)
        ).all()
        return {
            "vehiculos": db.session.scalars(of(Vehiculo).order_by(Vehiculo.placa)).all(),
            "movimientos": movimientos,
            "balance": sum((m.importe_con_signo for m in movimientos), start=0),
            "ventas": db.session.scalars(of(Venta).order_by(Venta.fecha.desc())).all(),
            "sms": sms,
            "consentimiento": db.session.execute(
                sa.select(ConsentimientoSMS, Usuario.email)
                .outerjoin(Usuario, Usuario.id == ConsentimientoSMS.id_usuario)
                .where(ConsentimientoSMS.id_cliente == cliente.id_cliente)
                .order_by(ConsentimientoSMS.fecha.desc(), ConsentimientoSMS.id.desc())
            ).all(),
        }

    # --- export -----------------------------------------------------------------------------

    def export_columns(self, query):
        """The Clientes export has columns of its own (related names from small lookups)."""
        return export_columns(), query

    def export_filters(self, args) -> dict:
        return list_args(request.args)


@cache
def _row_options() -> tuple:
    """The rows' loader options, made once: an option made anew each page costs its making and
    its cache key (SQLAlchemy keeps a reused option's key), ~1.2 M instructions a page."""
    return (defaultload(Cliente.ciudad).lazyload(Ciudad.departamento),)


def _etiquetas(nombres: dict[int, str]):
    """A municipio's label in the list, its departamento's name from ``nombres`` (by id)."""
    return lambda c: c.etiqueta_con(nombres.get(c.id_departamento))
