"""Tracked links (SPEC §20): one short code per recipient and URL of a campaign, and its clicks."""

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import TenantOwned, utcnow
from .clients import _owned_by_same_tenant

LARGO_CODIGO = 8  # characters of a code (panel/sms/enlaces.py draws them)


class EnlaceSMS(TenantOwned, db.Model):
    """A short link ``PUBLIC_BASE_URL/l/<codigo>`` sent to one recipient of one campaign. Nothing
    of the visitor is kept: only how many clicks and when the first and the last came."""

    __tablename__ = "enlace_sms"
    __table_args__ = (
        # The code is the public lookup: unique across every tenant (the redirect has no tenant).
        UniqueConstraint("codigo", name="uq_enlace_sms_codigo"),
        _owned_by_same_tenant("id_campana", "campana_sms.id"),
        _owned_by_same_tenant("id_cliente", "cliente.id_cliente"),
        # A campaign's clicks (``enlaces.clics``).
        Index("ix_enlace_sms_campana_cliente", "id_campana", "id_cliente"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the tenancy hook's criterion always comes with id_campana or codigo.
    id_propietario: Mapped[int] = mapped_column(nullable=False)
    id_campana: Mapped[int] = mapped_column()
    id_cliente: Mapped[int] = mapped_column()
    codigo: Mapped[str] = mapped_column(String(LARGO_CODIGO))
    url: Mapped[str] = mapped_column(Text)
    clics: Mapped[int] = mapped_column(default=0, server_default="0")
    primer_clic: Mapped[datetime | None]
    ultimo_clic: Mapped[datetime | None]
    creado: Mapped[datetime] = mapped_column(default=utcnow)
