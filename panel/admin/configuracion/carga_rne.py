"""The superadmin loads the Registro de Números Excluidos (CRC) from a file; a new list replaces
the one in force whole (panel/sms/rne.py). The upload is stored and loaded in the background
(panel/sms/rne_background.py) while the page shows its progress, then its result."""

import sqlalchemy as sa
from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from ...extensions import db
from ...forms.base import PanelForm
from ...models import CargaExcluidos
from ...models.users import can_load_rne
from ...sms import rne, rne_background
from ..comun.acceso import CONTROL, PanelAccessMixin


class RNEForm(PanelForm):
    archivo = FileField(
        "Archivo del RNE (CSV: un número por línea o una columna «numero»)",
        validators=[FileRequired("Elija un archivo.")],
    )
    confirmar = BooleanField(
        "Confirmo que la lista nueva reemplaza a la vigente aunque no tenga números válidos"
        " o tenga menos de la mitad de sus números."
    )


def progress(carga: CargaExcluidos) -> dict:
    """What the progress bar polls (and the page starts from)."""
    total, hechas = carga.total or 0, carga.procesadas or 0
    terminado = carga.en_curso is None
    return {
        "id": carga.id,
        "estado": carga.estado,
        "etiqueta": rne.ESTADOS[carga.estado],
        "total": total,
        "procesadas": hechas,
        "invalidas": carga.invalidas or 0,
        "porcentaje": 100 if terminado else (int(100 * min(hechas, total) / total) if total else 0),
        "terminado": terminado,
        "mensaje": carga.mensaje,
    }


def last_load() -> CargaExcluidos | None:
    return db.session.scalar(sa.select(CargaExcluidos).order_by(CargaExcluidos.id.desc()).limit(1))


class RNEView(PanelAccessMixin, BaseView):
    """Load and look at the list in force."""

    permission = staticmethod(can_load_rne)

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = RNEForm()
        if form.validate_on_submit() and self._start(form):
            return redirect(url_for(".index"))
        carga = last_load()
        return self.render(
            "admin/rne/index.html",
            form=form,
            lista=rne.active_list(),
            carga=carga,
            p=progress(carga) if carga else None,
            max_mb=rne.MAX_BYTES // (1024 * 1024),
        )

    def _start(self, form: RNEForm) -> bool:
        """Store the upload with a new load (refused while another runs) and start it."""
        upload = request.files["archivo"]
        if CONTROL.search(upload.filename or ""):
            form.archivo.errors.append("El nombre del archivo contiene caracteres de control no permitidos.")
            return False
        data = upload.stream.read(rne.MAX_BYTES + 1)  # hostile input: never more than the limit
        if len(data) > rne.MAX_BYTES:
            form.archivo.errors.append(f"El archivo pasa de {rne.MAX_BYTES // (1024 * 1024)} MB.")
            return False
        try:
            carga_id = rne.start(upload.filename or "", current_user.id, form.confirmar.data, data)
        except rne.CargaEnCurso as exc:
            form.archivo.errors.append(str(exc))
            return False
        rne_background.dispatch(carga_id, current_app._get_current_object())
        return True

    @expose("/<int:carga_id>/progreso.json")
    def progreso(self, carga_id: int):
        carga = db.session.get(CargaExcluidos, carga_id)
        if carga is None:
            abort(404)
        return jsonify(progress(carga))
