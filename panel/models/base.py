"""Shared column helpers and the tenancy mixins."""

from datetime import UTC, datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    """Naive UTC timestamp: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class TenantScoped:
    """Marker: the tenancy hook filters these models on ``id_propietario``."""

    id_propietario: Mapped[int | None]


class TenantOwned(TenantScoped):
    """A row owned by one tenant (the admin user whose id is ``id_propietario``)."""

    @declared_attr
    def id_propietario(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("usuario.id", ondelete="RESTRICT"), index=True, nullable=False)
