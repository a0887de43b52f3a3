"""The superadmin loads the Registro de Números Excluidos (CRC) from a file; a new list replaces
the one in force whole (panel/sms/rne.py) and the page says how many numbers it holds."""

import io

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from .. import audit
from ..extensions import db
from ..models.users import can_load_rne
from ..sms import rne
from .base import PanelAccessMixin


class RNEForm(FlaskForm):
    archivo = FileField(
        "Archivo del RNE (CSV: un número por línea o una columna «numero»)",
        validators=[FileRequired("Elija un archivo.")],
    )


class RNEView(PanelAccessMixin, BaseView):
    """Load and look at the list in force."""

    permission = staticmethod(can_load_rne)

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = RNEForm()
        if form.validate_on_submit():
            upload = request.files["archivo"]
            stream = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", errors="replace", newline="")
            carga = rne.load(stream, archivo=upload.filename or "", id_usuario=current_user.id)
            audit.record("accion", "ListaExcluidos", filas=carga.cargados, resumen=f"RNE: {carga.resumen()}")
            db.session.commit()
            flash(f"Registro de Números Excluidos reemplazado: {carga.resumen()}.", "success")
            return redirect(url_for(".index"))
        return self.render("admin/rne/index.html", form=form, lista=rne.active_list())
