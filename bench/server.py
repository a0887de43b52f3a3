"""The benchmark app: the product, plus the baseline view registered only here.

The baseline is what Flask-Admin's documentation suggests: a plain ``ModelView(Cliente, db)``
with the same ``column_filters`` and ``get_query``/``get_count_query`` overridden for tenancy;
its count is Flask-Admin's exact ``count(*)`` and its export is Flask-Admin's built-in one.

    gunicorn 'bench.server:create()'   (DATABASE_URL / BENCH_DATABASE_URL choose the database)
"""

from flask_admin.contrib.sqla import ModelView
from flask_login import current_user

from panel import create_app
from panel.admin.clientes import ClienteView
from panel.admin.clientes_filtros import FILTROS
from panel.extensions import db
from panel.models import Cliente

from .common import bench_config, database_url


class BaselineClienteView(ModelView):
    """Flask-Admin's defaults, with the tenancy override its docs show."""

    column_list = ClienteView.column_list
    column_searchable_list = ClienteView.column_searchable_list
    column_filters = FILTROS
    column_default_sort = ("id_cliente", True)
    can_set_page_size = True
    can_export = True
    export_types = ["csv"]

    def is_accessible(self):
        return current_user.is_authenticated

    def _tenant(self, query):
        if current_user.rol == "superadmin":
            return query
        return query.filter(Cliente.id_propietario == current_user.tenant_id)

    def get_query(self):
        return self._tenant(super().get_query())

    def get_count_query(self):
        return self._tenant(super().get_count_query())


def add_baseline(app):
    """Register the baseline at /admin/baseline/ (benchmark app only)."""
    app.extensions["panel_admin"].add_view(
        BaselineClienteView(Cliente, db, name="Baseline", endpoint="baseline", url="baseline")
    )
    return app


def create(**extra):
    """The served benchmark app."""
    return add_baseline(create_app(bench_config(database_url(), **extra)))
