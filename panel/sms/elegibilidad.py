"""Who may get a campaign's SMS, and why not: the one rule read by the plan (the review and the
outbox at confirmation), the claim's recheck and the departure gate (panel/sms/gate.py).

A reason is a pair (kind, text): ``kind`` is a key of ``MOTIVOS`` (stored as ``SMSLog.motivo``'s
label), ``text`` what the row's ``error_mensaje`` says (sometimes with a detail: the number, the
other client). The exclusions themselves are answered by ``exclusions.blocked`` (RNE, the
tenant's own list, landlines) and the cap by ``tope``; this module only words and orders them.
"""

import sqlalchemy as sa

from ..extensions import db
from ..models import Pais
from . import tope

MOTIVOS = {
    "inactivo": "Cliente inactivo",
    "deshabilitado": "Cliente deshabilitado",
    "opt_out": "El cliente no acepta SMS (se dio de baja)",
    "sin_telefono": "Sin teléfono",
    "telefono_invalido": "Teléfono inválido para su país",
    "duplicado": "Teléfono duplicado en la campaña",
    "fijo": "Teléfono fijo: no recibe SMS",
    "excluido": "En la lista de exclusión de la empresa (se dio de baja)",
    "rne": "Inscrito en el Registro de Números Excluidos",
    "tope": tope.MOTIVO["dia"],
    "tope_semana": tope.MOTIVO["semana"],
    "planificado": "Ya tiene un SMS comercial programado ese día",
    "planificado_semana": "Ya tiene un SMS comercial programado en esos 7 días",
}


def reason(kind: str) -> tuple[str, str]:
    """The plain reason of a kind, as (kind, text)."""
    return kind, MOTIVOS[kind]


def cap_reason(tope_: str) -> tuple[str, str]:
    """The skip reason of the daily (or weekly) cap, as (kind, text)."""
    return reason("tope" if tope_ == "dia" else "tope_semana")


def planned_reason(tope_: str) -> tuple[str, str]:
    """The review's reason for a phone another campaign of the tenant already takes that day."""
    return reason("planificado" if tope_ == "dia" else "planificado_semana")


def skip_reason(
    c, seen: dict[str, int] | None = None, iso: dict | None = None, blocked: dict[str, str] | None = None
) -> tuple[str, str] | None:
    """Why a client gets no SMS, as (kind, text), or None when it does (``c``: a row with the
    client's estado, acepta_sms, telefono, telefono_e164 and id_pais; ``blocked``:
    exclusions.blocked, plus the cap's kinds; ``seen``: the campaign's phones so far)."""
    phone, seen = c.telefono_e164, seen if seen is not None else {}
    if c.estado != 1:
        return reason("deshabilitado" if c.estado == 3 else "inactivo")
    if not c.acepta_sms:
        return reason("opt_out")
    if not (c.telefono or "").strip():
        return reason("sin_telefono")
    if phone is None:
        pais = (iso if iso is not None else countries()).get(c.id_pais, "?")
        return "telefono_invalido", f"{MOTIVOS['telefono_invalido']} ({pais}): {c.telefono}"
    if blocked and phone in blocked:
        return reason(blocked[phone])
    if phone in seen:
        return "duplicado", f"{MOTIVOS['duplicado']} (igual al del cliente #{seen[phone]})"
    return None


def countries() -> dict[int, str]:
    """{id_pais: ISO code}, for the invalid-phone reason."""
    return {i: code for i, code in db.session.execute(sa.select(Pais.id, Pais.codigo_iso))}
