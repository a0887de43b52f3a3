"""Shared column helpers and the tenancy mixins."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..clock import utcnow

__all__ = ["TenantOwned", "TenantScoped", "utcnow"]


class TenantScoped:
    """Marker: the tenancy hook filters these models on ``id_propietario``."""

    id_propietario: Mapped[int | None]


class TenantOwned(TenantScoped):
    """A row owned by one tenant (the admin user whose id is ``id_propietario``)."""

    @declared_attr
    def id_propietario(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True, nullable=False)
