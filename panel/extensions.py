"""Unbound extension instances; each is bound to the app in create_app()."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that migrations (batch mode on SQLite included) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by every model."""

    metadata = MetaData(naming_convention=NAMING)


# Indexes that only migrations know (PostgreSQL expression indexes such as the search's trigram
# index, panel/search.py): autogenerate must not propose to drop them.
MIGRATION_ONLY_INDEXES = {"ix_cliente_busqueda_trgm"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's autogenerate filter (also used by the schema test)."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Login throttling is panel/auth/throttle.py: a store shared by every process (Redis or the database).
