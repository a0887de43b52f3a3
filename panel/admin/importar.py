"""Importar clientes (/admin/clientes/importar/): upload, preview with the mapping the user
corrects, confirm, live progress, result. The work is in panel/importing; this page formats it."""

from flask import Response, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField

from .. import users
from ..extensions import db
from ..forms.base import PanelForm
from ..forms.clientes import ChoiceField
from ..ids import coerce_choice
from ..importing import background, columns, reading, service
from ..models import ImportacionClientes
from ..models.users import can_import, sees_every_tenant
from .base import PanelAccessMixin

MAX_BYTES = 64 * 1024 * 1024  # 200,000 rows of a wide CSV fit with room to spare
MODOS = [("crear", "Solo crear clientes nuevos"), ("actualizar", "Crear y actualizar (misma cédula)")]
ERRORES = [
    ("omitir", "Omitir las filas con errores"),
    ("rechazar", "Rechazar el archivo si alguna fila tiene errores"),
]
ESTADOS = {
    "subido": "Vista previa",
    "pendiente": "En cola",
    "procesando": "Importando",
    "completado": "Completada",
    "rechazado": "Rechazada",
    "error": "Error",
}


class ModosForm(PanelForm):
    modo = RadioField("Clientes que ya existen", choices=MODOS, default="crear")
    errores = RadioField("Filas con errores", choices=ERRORES, default="omitir")


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


def progress(job: ImportacionClientes) -> dict:
    """What the progress bar polls (and the page starts from)."""
    total = job.total or 0
    hechas = min(job.procesadas or 0, total) if total else job.procesadas or 0
    terminado = job.estado in ("completado", "rechazado", "error")
    return {
        "estado": job.estado,
        "etiqueta": ESTADOS[job.estado],
        "total": total,
        "procesadas": job.procesadas or 0,
        "nuevos": job.nuevos,
        "actualizados": job.actualizados,
        "con_errores": job.con_errores,
        "porcentaje": 100 if terminado else (int(100 * hechas / total) if total else 0),
        "terminado": terminado,
        "mensaje": job.mensaje,
    }


class ImportarView(PanelAccessMixin, BaseView):
    """Admins (and the superadmin, for a tenant it picks) import clients from a file."""

    permission = staticmethod(can_import)

    def is_visible(self) -> bool:
        return False  # reached from the Clientes list

    def _job(self, importacion_id: int) -> ImportacionClientes:
        job = db.session.get(ImportacionClientes, importacion_id)  # scoped: another tenant's is 404
        if job is None:
            abort(404)
        return job

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = _upload_form()
        if form.validate_on_submit():
            job = self._create(form)
            if job is not None:
                return redirect(url_for(".ver", importacion_id=job.id))
        return self.render("admin/importar/subir.html", form=form, max_filas=reading.MAX_FILAS)

    def _create(self, form) -> ImportacionClientes | None:
        upload = request.files["archivo"]
        data = upload.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            form.archivo.errors.append(f"El archivo pasa de {MAX_BYTES // (1024 * 1024)} MB.")
            return None
        tenant = form.propietario.data if hasattr(form, "propietario") else current_user.tenant_id
        try:
            job = service.create(
                data,
                upload.filename or "archivo",
                tenant,
                current_user.id,
                actualizar=form.modo.data == "actualizar",
                todo_o_nada=form.errores.data == "rechazar",
            )
        except reading.ArchivoIlegible as exc:
            form.archivo.errors.append(str(exc))
            return None
        service.preview(job)
        return job

    @expose("/<int:importacion_id>/")
    def ver(self, importacion_id: int):
        job = self._job(importacion_id)
        if job.estado != "subido":
            return self.render("admin/importar/progreso.html", job=job, p=progress(job))
        vista = job.vista_previa or {}
        form = ModosForm(
            modo="actualizar" if job.actualizar else "crear",
            errores="rechazar" if job.todo_o_nada else "omitir",
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
        form = ModosForm()
        if job.estado != "subido" or not form.validate_on_submit():
            abort(400, "No se puede cambiar esta importación.")
        width = len((job.vista_previa or {}).get("encabezados", []))
        chosen = {i: request.form.get(f"col-{i}", "") for i in range(width)}
        job.mapeo = columns.to_json({i: c for i, c in chosen.items() if c in columns.CAMPOS})
        job.actualizar, job.todo_o_nada = form.modo.data == "actualizar", form.errores.data == "rechazar"
        db.session.commit()
        service.preview(job)
        flash("Vista previa actualizada.", "info")
        return redirect(url_for(".ver", importacion_id=job.id))

    @expose("/<int:importacion_id>/confirmar/", methods=("POST",))
    def confirmar(self, importacion_id: int):
        job = self._job(importacion_id)
        if not FlaskForm().validate_on_submit():
            abort(400, "El formulario caducó: vuelva a cargar la página.")
        if job.estado != "subido":  # a second click: the import already runs
            return redirect(url_for(".ver", importacion_id=job.id))
        if (job.vista_previa or {}).get("problemas"):
            flash("Corrija la asignación de columnas antes de importar.", "error")
            return redirect(url_for(".ver", importacion_id=job.id))
        job.estado = "pendiente"
        db.session.commit()
        background.dispatch(job.id, current_app._get_current_object())
        return redirect(url_for(".ver", importacion_id=job.id))

    @expose("/<int:importacion_id>/progreso.json")
    def progreso(self, importacion_id: int):
        return jsonify(progress(self._job(importacion_id)))

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
