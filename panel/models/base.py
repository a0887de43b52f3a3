"""Shared column helpers and the tenancy mixins."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..clock import utcnow

__all__ = ["NEVER_REUSE_IDS", "TenantOwned", "TenantScoped", "utcnow"]

# Table kwargs of every table whose ids the Historial names: SQLite reuses the highest deleted
# id unless the key is AUTOINCREMENT, and an old entry would then point at another record
# (PostgreSQL sequences never go back). Migration 0014 rebuilds the existing tables.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class TenantScoped:
    """Marker: the tenancy hook filters these models on ``id_propietario``."""

    id_propietario: Mapped[int | None]


class TenantOwned(TenantScoped):
    """A row owned by one tenant (the admin user whose id is ``id_propietario``)."""

    @declared_attr
    def id_propietario(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True, nullable=False)
