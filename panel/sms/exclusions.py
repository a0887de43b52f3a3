"""Who must not get a commercial SMS although the client accepts them: numbers in the CRC's
Registro de Números Excluidos, numbers on the tenant's own exclusion list, and landlines (they
cannot receive SMS). One answer for the outbox's plan and for the sender's check at send time."""

from collections.abc import Iterable

import phonenumbers
import sqlalchemy as sa

from ..extensions import db
from ..models import NumeroExcluidoPropio
from . import rne


def is_landline(e164: str) -> bool:
    """A fixed line (phonenumbers' FIXED_LINE). Colombian mobiles (+573…) are answered at once."""
    if e164.startswith("+573"):
        return False
    number = phonenumbers.parse(e164)
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE


def blocked(tenant: int | None, numbers: Iterable[str], conn=None, comercial: bool = True) -> dict[str, str]:
    """{E.164: kind} of the numbers that must be skipped: "rne", "excluido" or "fijo".

    The RNE binds advertising only: a transactional campaign skips the tenant's own list (the
    opt-outs, which bind every message) and landlines, not the registry."""
    wanted = {n for n in numbers if n}
    if not wanted:
        return {}
    reader = conn if conn is not None else db.session
    out = {n: "fijo" for n in wanted if is_landline(n)}
    table = NumeroExcluidoPropio.__table__
    # A tenant's own list is short next to a campaign: read it whole, intersect here.
    mine = set(reader.scalars(sa.select(table.c.numero).where(table.c.id_propietario == tenant)))
    out |= {n: "excluido" for n in wanted & mine}
    if comercial:
        out |= {n: "rne" for n in rne.excluded(wanted, conn)}
    return out


def own_clause(tenant: int, numero: str):
    """SQL true when ``numero`` is on the tenant's own list: the departure gate's per-row form of
    the "excluido" kind above (one indexed lookup, in the gate's one statement)."""
    table = NumeroExcluidoPropio.__table__
    return sa.exists(sa.select(table.c.id).where(table.c.id_propietario == tenant, table.c.numero == numero))
