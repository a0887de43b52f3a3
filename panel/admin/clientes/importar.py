"""Importar clientes (/admin/clientes/importar/): upload, preview with the mapping the user
corrects, confirm, live progress, result. The work is in panel/importing; this page formats it."""

from flask import Response, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField

from ... import users
from ...extensions import db
from ...forms.base import PanelForm
from ...forms.cliente_form import ChoiceField, CiudadField
from ...ids import coerce_choice
from ...importing import background, columns, estado, limites, reading, service
from ...models import ImportacionClientes
from ...models.users import can_import, sees_every_tenant
from ..comun.acceso import PanelAccessMixin

MODOS = [("crear", "Solo crear clientes nuevos"), ("actualizar", "Crear y actualizar (misma cédula)")]
ERRORES = [
    ("omitir", "Omitir las filas con errores"),
    ("rechazar", "Rechazar el archivo si alguna fila tiene errores"),
]


class ModosForm(PanelForm):
    modo = RadioField("Clientes que ya existen", choices=MODOS, default="crear")
    errores = RadioField("Filas con errores", choices=ERRORES, default="omitir")


class CiudadOpcional(CiudadField):
    """The file's default municipio: blank keeps the form's own (Bogotá, D.C.)."""

    def pre_validate(self, form):
        if self.data in (None, ""):
            self.data = None
            return
        super().pre_validate(form)


class VistaForm(ModosForm):
    """The preview's choices (SPEC §17): new empresas, and the municipio of rows without one."""

    crear_empresas = BooleanField("Crear las empresas que no existan", default=True)
    id_ciudad = CiudadOpcional("Ciudad de las filas sin municipio", coerce=coerce_choice)


class SubirForm(ModosForm):
    archivo = FileField("Archivo (CSV o Excel .xlsx)", validators=[FileRequired("Elija un archivo.")])


def _upload_form() -> SubirForm:
    """The upload form; a superadmin also picks the tenant that receives the clients."""
    if not sees_every_tenant(current_user):
        return SubirForm()
    field = ChoiceField("Empresa cliente (administrador)", coerce=coerce_choice)
    form = type("SubirConPropietario", (SubirForm,), {"propietario": field})()
    form.propietario.choices = [(u.id, str(u)) for u in users.tenant_admins()]
    return form


class ImportarView(PanelAccessMixin, BaseView):
    """Admins (and the superadmin, for a tenant it picks) import clients from a file."""

    permission = staticmethod(can_import)

    def is_visible(self) -> bool:
        return False  # reached from the Clientes list

    def _job(self, importacion_id: int) -> ImportacionClientes:
        """The job, scoped (another tenant's is 404), a job whose worker died shown as fallida."""
        job = db.session.get(ImportacionClientes, importacion_id)
        if job is None:
            abort(404)
        return background.check(job, current_app._get_current_object())

    def _dispatch(self, job_id: int, intento: str | None, fase: str) -> None:
        if intento is not None:
            background.dispatch(job_id, intento, current_app._get_current_object(), fase)

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = _upload_form()
        if form.validate_on_submit():
            job = self._create(form)
            if job is not None:
                return redirect(url_for(".ver", importacion_id=job.id))
        return self.render(
            "admin/importar/subir.html",
            form=form,
            max_filas=reading.MAX_FILAS,
            max_mb=limites.mb(limites.max_bytes()),
        )

    def _create(self, form) -> ImportacionClientes | None:
        upload = request.files["archivo"]
        data = upload.stream.read(limites.max_bytes() + 1)  # never more than the limit is read
        if len(data) > limites.max_bytes():
            form.archivo.errors.append(str(limites.too_big()))
            return None
        tenant = form.propietario.data if hasattr(form, "propietario") else current_user.tenant_id
        job = service.create(
            data,
            upload.filename or "archivo",
            tenant,
            current_user.id,
            actualizar=form.modo.data == "actualizar",
            todo_o_nada=form.errores.data == "rechazar",
        )
        self._dispatch(job.id, job.intento, estado.VISTA)  # read there: the upload answers at once
        return job

    @expose("/<int:importacion_id>/")
    def ver(self, importacion_id: int):
        job = self._job(importacion_id)
        if job.estado != estado.PREVISUALIZADA:
            return self.render("admin/importar/progreso.html", job=job, p=estado.progress(job))
        vista = job.vista_previa or {}
        form = VistaForm(
            modo="actualizar" if job.actualizar else "crear",
            errores="rechazar" if job.todo_o_nada else "omitir",
            crear_empresas=job.crear_empresas,
            id_ciudad=job.id_ciudad_defecto,
        )
        mapping = columns.from_json(job.mapeo)
        return self.render(
            "admin/importar/vista.html",
            job=job,
            vista=vista,
            form=form,
            mapping=mapping,
            campos=columns.CAMPOS,
        )

    @expose("/<int:importacion_id>/mapeo/", methods=("POST",))
    def mapeo(self, importacion_id: int):
        """The user's corrected mapping and modes: the preview is made again."""
        job = self._job(importacion_id)
        form = VistaForm()
        if job.estado != estado.PREVISUALIZADA or not form.validate_on_submit():
            abort(400, "No se puede cambiar esta importación.")
        width = len((job.vista_previa or {}).get("encabezados", []))
        chosen = {i: request.form.get(f"col-{i}", "") for i in range(width)}
        job.mapeo = columns.to_json({i: c for i, c in chosen.items() if c in columns.CAMPOS})
        job.actualizar, job.todo_o_nada = form.modo.data == "actualizar", form.errores.data == "rechazar"
        job.crear_empresas, job.id_ciudad_defecto = form.crear_empresas.data, form.id_ciudad.data
        db.session.commit()
        self._dispatch(job.id, estado.queue_preview(job.id), estado.VISTA)
        flash("Calculando la vista previa con las columnas elegidas.", "info")
        return redirect(url_for(".ver", importacion_id=job.id))

    @expose("/<int:importacion_id>/confirmar/", methods=("POST",))
    def confirmar(self, importacion_id: int):
        job = self._job(importacion_id)
        if not FlaskForm().validate_on_submit():
            abort(400, "El formulario caducó: vuelva a cargar la página.")
        if job.estado == estado.PREVISUALIZADA and (job.vista_previa or {}).get("problemas"):
            flash("Corrija la asignación de columnas antes de importar.", "error")
            return redirect(url_for(".ver", importacion_id=job.id))
        # None on a second click: the import already runs.
        self._dispatch(job.id, estado.confirm(job.id), estado.IMPORTACION)
        return redirect(url_for(".ver", importacion_id=job.id))

    @expose("/<int:importacion_id>/reintentar/", methods=("POST",))
    def reintentar(self, importacion_id: int):
        """A failed preview or import again; an import resumes where its last checkpoint was."""
        job = self._job(importacion_id)
        if not FlaskForm().validate_on_submit():
            abort(400, "El formulario caducó: vuelva a cargar la página.")
        if retried := estado.retry(job.id):  # None on a second click
            fase, intento = retried
            self._dispatch(job.id, intento, fase)
        return redirect(url_for(".ver", importacion_id=job.id))

    @expose("/<int:importacion_id>/progreso.json")
    def progreso(self, importacion_id: int):
        return jsonify(estado.progress(self._job(importacion_id)))

    @expose("/<int:importacion_id>/rechazos.csv")
    def rechazos(self, importacion_id: int):
        job = self._job(importacion_id)
        if not job.rechazos:
            abort(404)
        nombre = f"rechazos-importacion-{job.id}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{nombre}"'}
        return Response(job.rechazos, content_type="text/csv; charset=utf-8", headers=headers)


def register(admin) -> None:
    admin.add_view(ImportarView(name="Importar clientes", endpoint="importar", url="clientes/importar"))
