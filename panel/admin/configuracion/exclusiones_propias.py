"""Configuración → Exclusiones: the tenant's own exclusion list (SPEC §18). Every number with
its source and date; an admin adds one by hand or a file of them, removes one with a reason, and
exports the list. Every add and remove goes through the consent path (panel/consent.py) and is
recorded in Historial.

Adding a number withdraws the consent of the tenant's clients with that number (source
"a mano"); removing it is an admin giving that consent back, recorded the same way: a list that
said "do not write" while the clients still said "yes" (or the reverse) would be two answers.
"""

import io
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_admin import Admin, expose
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ... import audit, consent, export, formatting, phones
from ...extensions import db
from ...forms.base import PanelForm
from ...ids import as_id
from ...models import Cliente, NumeroExcluidoPropio
from ...models.users import can_write
from ...sms import rne
from ..comun.acceso import panel_user_ok
from ..comun.modelview import TenantModelView

REGION = "CO"  # a national number typed without +code is Colombian
MAX_BYTES = 2 * 1024 * 1024  # ~150,000 numbers: a tenant's own list, not the RNE
MODELO = "NumeroExcluidoPropio"
NO_VALIDO = (
    "Número no válido: escriba un celular colombiano (300 123 4567) o un número con + y el código del país."
)


class AgregarForm(PanelForm):
    numero = StringField("Número", validators=[DataRequired("Escriba el número.")])
    motivo = StringField("Nota (opcional)", validators=[Length(max=120, message="Máximo 120 caracteres.")])


class ArchivoForm(PanelForm):
    archivo = FileField(
        "Archivo (CSV: un número por línea o una columna «numero»)",
        validators=[FileRequired("Elija un archivo.")],
    )


class QuitarForm(PanelForm):
    motivo = StringField(
        "Motivo",
        validators=[
            DataRequired("Escriba por qué se quita el número de la lista."),
            Length(max=200, message="Máximo 200 caracteres."),
        ],
    )


@dataclass(frozen=True)
class Agregados:
    """What a file added: new numbers, numbers already on the list, invalid lines."""

    nuevos: int
    ya_estaban: int
    invalidas: int

    def resumen(self) -> str:
        return ", ".join(
            (
                formatting.plural(self.nuevos, "número añadido", "números añadidos"),
                formatting.plural(self.ya_estaban, "ya estaba en la lista", "ya estaban en la lista"),
                formatting.plural(self.invalidas, "línea inválida ignorada", "líneas inválidas ignoradas"),
            )
        )


def tenant() -> int:
    return current_user.tenant_id


def on_list(numeros: list[str]) -> set[str]:
    """Which of the numbers the tenant's list already holds (the tenancy hook scopes the query)."""
    found = set()
    for start in range(0, len(numeros), consent.CHUNK):
        chunk = numeros[start : start + consent.CHUNK]
        stmt = sa.select(NumeroExcluidoPropio.numero).where(NumeroExcluidoPropio.numero.in_(chunk))
        found |= set(db.session.scalars(stmt))
    return found


def withdrawn_clients(numero: str) -> int:
    """How many of the tenant's clients with this number do not accept SMS now."""
    stmt = sa.select(sa.func.count()).where(Cliente.telefono_e164 == numero, Cliente.acepta_sms.is_(False))
    return db.session.scalar(stmt.select_from(Cliente))


def add(numero: str, motivo: str = "") -> int:
    """Put one E.164 number on the tenant's list by hand; its clients stop accepting SMS."""
    conn = db.session.connection()
    return consent.record_number(
        conn, tenant(), numero, False, consent.FUENTE_A_MANO, actor=current_user.id, motivo=motivo
    )


def read_upload(upload) -> bytes | None:
    """The file's bytes, or None when it is larger than MAX_BYTES (read no further than that)."""
    data = upload.stream.read(MAX_BYTES + 1)
    return None if len(data) > MAX_BYTES else data


def add_file(data: bytes) -> Agregados:
    """Every valid number of a file on the list (the RNE's reader: one a line, or a «numero» column)."""
    lines = io.StringIO(data.decode("utf-8-sig", errors="replace"), newline="")
    numeros, invalidas = rne.parse(lines)
    there = on_list(sorted(numeros))
    nuevos = sorted(numeros - there)
    conn, actor = db.session.connection(), current_user.id
    consent.record_numbers(conn, tenant(), nuevos, False, consent.FUENTE_A_MANO, actor=actor)
    return Agregados(len(nuevos), len(there), invalidas)


class ExclusionesView(TenantModelView):
    """The list is Flask-Admin's (search, filters, sort, export); adding and removing are pages
    of their own that go through the consent path, never Flask-Admin's create and delete."""

    list_template = "admin/exclusiones/list.html"
    read_only = True
    can_view_details = False
    column_list = ("numero", "fuente", "creado", "motivo")
    column_labels = {"numero": "Número", "fuente": "Fuente", "creado": "Fecha", "motivo": "Nota"}
    column_formatters = {"numero": lambda v, c, m, n: formatting.phone(m.numero)}
    column_searchable_list = ("numero", "motivo")
    column_filters = ("fuente", "creado")
    column_default_sort = ("creado", True)
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-times glyphicon glyphicon-remove", ".quitar", title="Quitar de la lista")
    ]

    def is_accessible(self) -> bool:
        """Admins of a tenant manage their list; the superadmin reads and exports every tenant's
        (as every list), but has no tenant to add to or remove from (``_manages``)."""
        return panel_user_ok() and can_write(current_user)

    @staticmethod
    def _manages() -> None:
        """Adding and removing are a tenant's own acts: 403 for the superadmin."""
        if current_user.tenant_id is None:
            abort(403)

    def export_columns(self, query):
        """The number as the exporter writes phones (formula-safe), the rest as listed."""
        columnas, query = super().export_columns(query)
        columnas[0] = export.Columna("Número", NumeroExcluidoPropio.numero, "telefono")
        return columnas, query

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs.setdefault("agregar", AgregarForm(prefix="agregar"))
            kwargs.setdefault("subir", ArchivoForm(prefix="subir"))
            kwargs["max_mb"] = MAX_BYTES // (1024 * 1024)
            kwargs["gestiona"] = current_user.tenant_id is not None
        return super().render(template, **kwargs)

    @expose("/agregar/", methods=("POST",))
    def agregar(self):
        self._manages()
        form = AgregarForm(prefix="agregar")
        if not form.validate_on_submit():
            return self._refused(form)
        numero = phones.e164(form.numero.data.strip(), REGION)
        if numero is None:
            flash(NO_VALIDO, "error")
        elif on_list([numero]):
            flash(f"El {formatting.phone(numero)} ya está en la lista.", "info")
        else:
            clientes = add(numero, form.motivo.data.strip())
            self._audit("crear", numero, form.motivo.data.strip(), clientes)
            db.session.commit()
            flash(
                f"{formatting.phone(numero)} añadido a la lista de exclusión{_clientes(clientes)}.", "success"
            )
        return redirect(url_for(".index_view"))

    @expose("/archivo/", methods=("POST",))
    def archivo(self):
        self._manages()
        form = ArchivoForm(prefix="subir")
        if not form.validate_on_submit():
            return self._refused(form)
        upload = request.files[form.archivo.name]
        data = read_upload(upload)
        if data is None:
            flash(f"El archivo supera {MAX_BYTES // (1024 * 1024)} MB; divídalo en partes.", "error")
            return redirect(url_for(".index_view"))
        hecho = add_file(data)
        if hecho.nuevos:
            detalle = {"archivo": upload.filename or "", "omitidos": hecho.ya_estaban + hecho.invalidas}
            resumen = f"Exclusiones desde archivo: {hecho.resumen()}"
            audit.record("accion", MODELO, filas=hecho.nuevos, resumen=resumen, detalle=detalle)
        db.session.commit()
        flash(f"Lista de exclusión: {hecho.resumen()}.", "success" if hecho.nuevos else "info")
        return redirect(url_for(".index_view"))

    @expose("/quitar/", methods=("GET", "POST"))
    def quitar(self):
        self._manages()
        pk = as_id(request.args.get("id", ""))
        if pk is None:
            abort(404)
        row = self.get_one(pk)  # another tenant's row is a 404 (the tenancy hook)
        form = QuitarForm()
        if form.validate_on_submit():
            numero, motivo = row.numero, form.motivo.data.strip()
            clientes = consent.record_number(
                db.session.connection(), tenant(), numero, True, consent.FUENTE_A_MANO, actor=current_user.id
            )
            self._audit("eliminar", numero, motivo, clientes, fuente=row.fuente, objeto_id=row.id)
            db.session.commit()
            flash(f"{formatting.phone(numero)} quitado de la lista{_clientes(clientes, True)}.", "success")
            return redirect(url_for(".index_view"))
        return self.render(
            "admin/exclusiones/quitar.html", form=form, row=row, afectados=withdrawn_clients(row.numero)
        )

    def _refused(self, form):
        errors = [e for field in form for e in field.errors]
        flash("Revise el formulario: " + " ".join(errors), "error")
        return redirect(url_for(".index_view"))

    def _audit(self, accion: str, numero: str, motivo: str, clientes: int, fuente=None, objeto_id=None):
        """One Historial entry per number added or removed by hand, with its reason."""
        valores = {"numero": numero, "fuente": fuente or consent.FUENTE_A_MANO, "motivo": motivo}
        verbo = "añadido a" if accion == "crear" else "quitado de"
        audit.record(
            accion,
            MODELO,
            objeto_id=objeto_id if objeto_id is not None else _id_of(numero),
            resumen=f"Exclusión: {formatting.phone(numero)} {verbo} la lista ({motivo or 'sin nota'})",
            detalle={"valores": valores | {"clientes": clientes}},
        )


def _id_of(numero: str) -> int | None:
    return db.session.scalar(sa.select(NumeroExcluidoPropio.id).where(NumeroExcluidoPropio.numero == numero))


def _clientes(n: int, vuelven: bool = False) -> str:
    if not n:
        return ""
    cambio = "vuelve a aceptar SMS" if vuelven else "deja de aceptar SMS"
    plural = "vuelven a aceptar SMS" if vuelven else "dejan de aceptar SMS"
    return f" ({formatting.plural(n, 'cliente', 'clientes')} {cambio if n == 1 else plural})"


def register(admin: Admin) -> None:
    admin.add_view(
        ExclusionesView(
            NumeroExcluidoPropio,
            name="Exclusiones",
            endpoint="exclusiones",
            url="exclusiones",
            category="Configuración",
        )
    )
