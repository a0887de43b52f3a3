"""Idempotency keys: the same key from the same user within 24 h gets the first answer again.

The first request inserts its key row in its own committed transaction before doing the work,
so a concurrent duplicate (another thread, process or server) finds it: the unique constraint
on (user, key) decides who goes first, on SQLite and PostgreSQL alike. The duplicate waits
(bounded) for the first to finish and answers what it answered, or gets 409 "en curso". A 5xx
is not stored: the key is freed, and a retry does the work. Keys older than 24 h (the one
clock) are ignored and purged lazily, by the next claim.

Used by the API (``api/idempotent.py``: the ``Idempotency-Key`` header) and the panel's
confirmation form (``claim``/``finish``/``forget`` with the form's one-time key). Neither face is
imported here: the keys are a rule, the answers are the faces' own.
"""

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from . import clock
from .extensions import db
from .models import ClaveIdempotencia

MAX_KEY = 255
EXPIRY = timedelta(hours=24)
EN_CURSO = "Una petición con esta Idempotency-Key todavía está en curso; reintente en unos segundos."
OTRO_CUERPO = "Esta Idempotency-Key ya se usó con otro cuerpo: use una clave nueva para otra petición."
KEYS = ClaveIdempotencia.__table__


class KeyConflict(Exception):
    """The key cannot be used for this request: another body, or the first is still running."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Stored:
    """What the first request with a key answered."""

    codigo: int
    cuerpo: dict | None
    recurso_id: int | None


def fingerprint(scope: str, body) -> str:
    """SHA-256 of the endpoint and the body, equal for bodies equal as JSON (key order aside)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{scope}\n{canonical}".encode()).hexdigest()


def _cutoff():
    return clock.utcnow() - EXPIRY


def _insert(user_id: int, clave: str, huella: str) -> int | None:
    """Insert the key row, committed at once; its id, or None when the key is taken."""
    try:
        with db.engine.begin() as conn:
            conn.execute(KEYS.delete().where(KEYS.c.creado < _cutoff()))  # lazy purge
            values = dict(id_usuario=user_id, clave=clave, huella=huella, estado="en_curso")
            return conn.execute(KEYS.insert().values(**values, creado=clock.utcnow())).inserted_primary_key[0]
    except IntegrityError:
        return None


def _read(user_id: int, clave: str):
    """The live (unexpired) row of a key, read outside the request's transaction."""
    stmt = sa.select(KEYS).where(KEYS.c.id_usuario == user_id, KEYS.c.clave == clave)
    with db.engine.connect() as conn:
        return conn.execute(stmt.where(KEYS.c.creado >= _cutoff())).first()


def claim(user_id: int, clave: str, huella: str) -> tuple[int | None, Stored | None]:
    """(row id, None) when this request goes first; (None, the first answer) for a duplicate.

    Raises KeyConflict for another body, or when the first is still running after the wait."""
    deadline = time.monotonic() + current_app.config["IDEMPOTENCY_WAIT"]
    pause = 0.02
    while True:
        row_id = _insert(user_id, clave, huella)
        if row_id is not None:
            return row_id, None
        row = _read(user_id, clave)
        if row is not None and row.huella != huella:
            raise KeyConflict(OTRO_CUERPO)
        if row is not None and row.estado == "hecha":
            return None, Stored(row.codigo, row.cuerpo, row.recurso_id)
        # In progress, or just freed by a 5xx or the purge: wait and try again, bounded.
        if time.monotonic() >= deadline:
            raise KeyConflict(EN_CURSO)
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def finish(row_id: int, codigo: int, cuerpo: dict | None = None, recurso_id: int | None = None) -> None:
    """Record the answer of the request that went first."""
    values = dict(estado="hecha", codigo=codigo, cuerpo=cuerpo, recurso_id=recurso_id)
    with db.engine.begin() as conn:
        conn.execute(KEYS.update().where(KEYS.c.id == row_id).values(**values))


def forget(row_id: int) -> None:
    """Free the key: the work failed without an answer worth repeating (a 5xx, a crash)."""
    with db.engine.begin() as conn:
        conn.execute(KEYS.delete().where(KEYS.c.id == row_id))
