"""Whose tenant a write runs for: a superadmin creating or editing a tenant-owned row writes
under that row's tenant (``tenancy.writing_for``), picked in the form (``needs_owner``) or taken
from the parent row chosen (``owner_from``: a vehículo joins its client's tenant)."""

from contextlib import nullcontext

import sqlalchemy as sa
from flask import has_request_context, request
from flask_admin import expose
from flask_admin.helpers import get_form_data
from flask_login import current_user
from wtforms.validators import InputRequired

from ... import tenancy, users
from ...extensions import db
from ...forms.cliente_form import ChoiceField
from ...ids import as_id, coerce_choice
from ...models import TenantOwned
from ...models.users import sees_every_tenant
from .acceso import allowed


class OwnerMixin:
    """Mixed into ``TenantModelView`` before Flask-Admin's ``ModelView``."""

    needs_owner = False  # a tenant-owned row that does not take its tenant from a parent
    owner_from: str | None = None  # the form field of the parent a new row takes its tenant from

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Flask-Admin's create page, run for the tenant the new row will belong to."""
        with self._writing_for(self._owner_of_new()):
            return super().create_view()

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Flask-Admin's edit page, run for the tenant of the edited row."""
        with self._writing_for(self._owner_of_row(as_id(request.args.get("id", "")))):
            return super().edit_view()

    def _writing_for(self, tenant: int | None):
        """A superadmin writes under the tenant (``tenancy.writing_for``): choice lists, lookups and
        checks are that tenant's and new rows are stamped with it."""
        if not has_request_context() or not issubclass(self.model, TenantOwned):
            return nullcontext()
        return tenancy.writing_for(current_user, tenant)

    def _owner_of_new(self) -> int | None:
        """The tenant a superadmin picked (``propietario``), or that of the parent row chosen in
        the form (``owner_from``: a vehículo joins its client's tenant)."""
        if self.needs_owner:
            return as_id(request.form.get("propietario", ""))
        if self.owner_from and (parent_id := as_id(request.form.get(self.owner_from, ""))):
            parent = getattr(self.model, self.owner_from).property.mapper.class_
            key = sa.inspect(parent).primary_key[0]
            return db.session.scalar(sa.select(parent.id_propietario).where(key == parent_id))
        return None

    def _owner_of_row(self, pk: int | None) -> int | None:
        if pk is None or not issubclass(self.model, TenantOwned):
            return None
        key = getattr(self.model, self._primary_key)
        return db.session.scalar(sa.select(self.model.id_propietario).where(key == pk))

    def create_form(self, obj=None):
        """A superadmin creating a tenant-owned row picks the tenant it belongs to."""
        if not (self.needs_owner and allowed(sees_every_tenant)):
            return super().create_form(obj)
        field = ChoiceField("Propietario (administrador)", coerce=coerce_choice, validators=[InputRequired()])
        form = type("ConPropietario", (self._create_form_class,), {"propietario": field})(
            get_form_data(), obj=obj
        )
        form.propietario.choices = [(u.id, str(u)) for u in users.tenant_admins()]
        return form
