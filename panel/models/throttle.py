"""Failed-login counters, when there is no Redis: one row per key and fixed window."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class IntentoLogin(db.Model):
    """How many failed logins a key (account and address, or address) has in its window."""

    __tablename__ = "intento_login"

    clave: Mapped[str] = mapped_column(String(100), primary_key=True)
    inicio: Mapped[datetime]  # the window's start (naive UTC, panel/clock.py)
    expira: Mapped[datetime] = mapped_column(index=True)  # the window's end: then the count restarts
    cuenta: Mapped[int] = mapped_column(default=0)
