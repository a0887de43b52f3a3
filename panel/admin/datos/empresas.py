"""Datos → Empresas: a tenant's companies, one per NIT (its check digit computed if missing)."""

import sqlalchemy as sa
from wtforms import ValidationError
from wtforms.validators import Optional

from ... import identificacion
from ...extensions import db
from ...models import Empresa
from ..comun.modelview import TenantModelView
from .compartido import COMMON


class EmpresaView(TenantModelView):
    needs_owner = True
    column_list = ("nombre", "nit", "telefono", "email", "creado")
    column_labels = {**COMMON, "nombre": "Nombre", "nit": "NIT", "telefono": "Teléfono", "email": "Correo"}
    column_searchable_list = ("nombre", "nit", "email")
    column_sortable_list = ("nombre", "nit", "creado")
    column_default_sort = ("nombre", False)
    column_formatters = {"nit": lambda v, c, m, n: identificacion.mostrado("NIT", m.nit)}
    form_columns = ("nombre", "nit", "telefono", "email")
    form_args = {
        "nombre": {"description": "Razón social."},
        "nit": {
            # Typed without its verification digit, the digit is computed (SPEC §16).
            "filters": [
                lambda v: identificacion.normalizado("NIT", v.strip()) or None if isinstance(v, str) else v
            ],
            "validators": [Optional(), lambda form, field: _nit_valido(field.data)],
            "description": "Con o sin dígito de verificación (900.123.456-8): si falta, se calcula.",
        },
    }

    def on_model_change(self, form, model, is_created) -> None:
        """One empresa per NIT in a tenant (the hook scopes the lookup; the key backs it up)."""
        super().on_model_change(form, model, is_created)
        if model.nit is None:
            return
        query = sa.select(Empresa.id).where(Empresa.nit == model.nit)
        if model.id_propietario is not None:  # a superadmin sees every tenant: the row's own
            query = query.where(Empresa.id_propietario == model.id_propietario)
        if model.id is not None:
            query = query.where(Empresa.id != model.id)
        with db.session.no_autoflush:  # the new row is not written before it is checked
            taken = db.session.scalar(query.limit(1)) is not None
        if taken:
            raise ValidationError("Ya existe una empresa con este NIT.")


def _nit_valido(nit: str | None) -> None:
    problem = identificacion.problema_nit(nit) if nit else None
    if problem:
        raise ValidationError(problem)
