"""The standalone baseline of B1, B2 and B5: plain Flask-Admin on the same database, and nothing
of the panel (this module imports nothing from ``panel``; a test checks it).

What a team following Flask-Admin's documentation would write for "each tenant sees its own
clients": its own Flask app, the tables reflected, one ``ModelView`` with six column filters (the
departamento through the ciudad) and five searchable columns, ``get_query``/``get_count_query``
filtered by the logged-in user's tenant, Flask-Login for the session, Flask-Admin's built-in CSV
export. Nothing else: no count cap, no select tuning, no templates of its own.

    gunicorn 'bench.baseline_app:create()'   (BENCH_DATABASE_URL / DATABASE_URL choose the database)
"""

import sqlalchemy as sa
from flask import Flask, redirect, request
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_babel import Babel
from flask_login import LoginManager, UserMixin, current_user, login_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, relationship
from werkzeug.security import check_password_hash

from .common import database_url

COLUMNS = ("cedula_cliente", "nombre_cliente", "apellido_cliente", "telefono", "email", "estado")
RELATED = ("empresa", "campana", "ciudad")  # shown by name, joined by Flask-Admin's auto select-related
SEARCHABLE = ("cedula_cliente", "nombre_cliente", "apellido_cliente", "email", "telefono")
# The departamento through the ciudad relation: Flask-Admin joins it (a dotted filter, as its docs show).
FILTERS = ("estado", "id_empresa", "id_campana", "id_ciudad", "id_pais", "ciudad.id_departamento")
LOGIN_FORM = (
    '<form method="post"><input name="email"><input name="password" type="password">'
    "<button>Entrar</button></form>"
)


def _models(engine):
    """Mapped classes over the reflected tables (the many-to-one names the list shows)."""
    meta = sa.MetaData()
    meta.reflect(engine, only=["usuario", "cliente", "empresa", "campana_publicitaria", "ciudad"])

    class Base(DeclarativeBase):
        pass

    class Named:
        def __str__(self):
            return self.nombre

    class Usuario(Base, UserMixin):
        __table__ = meta.tables["usuario"]

        @property
        def tenant(self):
            return {"superadmin": None, "admin": self.id}.get(self.rol, self.creado_por)

    class Empresa(Named, Base):
        __table__ = meta.tables["empresa"]

    class Campana(Named, Base):
        __table__ = meta.tables["campana_publicitaria"]

    class Ciudad(Named, Base):
        __table__ = meta.tables["ciudad"]

    class Cliente(Base):
        __table__ = meta.tables["cliente"]
        c = __table__.c
        empresa = relationship(
            Empresa, primaryjoin=c.id_empresa == Empresa.id, foreign_keys=c.id_empresa, viewonly=True
        )
        campana = relationship(
            Campana, primaryjoin=c.id_campana == Campana.id, foreign_keys=c.id_campana, viewonly=True
        )
        ciudad = relationship(
            Ciudad, primaryjoin=c.id_ciudad == Ciudad.id, foreign_keys=c.id_ciudad, viewonly=True
        )
        del c

    return Usuario, Cliente


class ClienteView(ModelView):
    """Flask-Admin's defaults, with the tenancy override its docs show."""

    column_list = COLUMNS + RELATED
    column_searchable_list = SEARCHABLE
    column_filters = FILTERS
    column_default_sort = ("id_cliente", True)
    can_set_page_size = True
    can_export = True
    export_types = ["csv"]

    def is_accessible(self):
        return current_user.is_authenticated

    def _tenant(self, query):
        if current_user.tenant is None:
            return query
        return query.filter(self.model.id_propietario == current_user.tenant)

    def get_query(self):
        return self._tenant(super().get_query())

    def get_count_query(self):
        return self._tenant(super().get_count_query())


def filter_args(app: Flask, values: dict) -> str:
    """``flt`` arguments of the list for ``{column: value}``: Flask-Admin's "equals" filter of each."""
    view = next(v for v in app.extensions["baseline_admin"]._views if v.endpoint == "clientes")
    index = {f.column.name: n for n, f in reversed(list(enumerate(view._filters)))}  # first = equals
    return "&".join(f"flt{i}_{index[k]}={v}" for i, (k, v) in enumerate(values.items()))


def create(url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="baseline", SQLALCHEMY_DATABASE_URI=url or database_url())
    db = SQLAlchemy(app)
    Babel(app)  # Flask-Admin needs it initialised when Flask-Babel is installed
    with app.app_context():
        Usuario, Cliente = _models(db.engine)
    login = LoginManager(app)
    login.user_loader(lambda user_id: db.session.get(Usuario, int(user_id)))

    @app.route("/login", methods=["GET", "POST"])
    def login_view():
        if request.method == "POST":
            user = db.session.scalar(sa.select(Usuario).where(Usuario.email == request.form["email"]))
            if user and check_password_hash(user.password_hash, request.form["password"]):
                login_user(user)
                return redirect("/admin/")
        return LOGIN_FORM

    admin = Admin(app, name="Baseline")
    admin.add_view(ClienteView(Cliente, db, name="Clientes", endpoint="clientes"))
    app.extensions["baseline_admin"] = admin
    return app
