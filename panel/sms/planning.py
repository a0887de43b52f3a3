"""The plan of a campaign, shared by the review (``outbox.dry_run``) and the write
(``outbox.create_campaign``): which recipients get which text, who is skipped and why, and when
sending starts under which rules. The plan reads plain column rows (no ORM objects); every
recipient (``Destinatario``) points at one shared ``Contenido`` (the text, its encoding and
segments, or the skip reason), computed once per distinct text or reason."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from .. import clock
from ..extensions import db
from ..models import Cliente
from . import enlaces, exclusions, reglas, tope
from .elegibilidad import MOTIVOS, cap_reason, countries, planned_reason, skip_reason
from .encoding import analyze
from .render import TemplateError, personalizer


class OutboxError(ValueError):
    """Bad input for a campaign; nothing was created. The message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Contenido(NamedTuple):
    """What a log row says: shared by every recipient with the same text (or the same reason)."""

    mensaje: str
    estado: str
    motivo: str | None
    error_mensaje: str | None
    segmentos: int | None
    codificacion: str | None
    non_gsm: tuple[str, ...] = ()
    # "Acortar y medir enlaces": the text cut around its URLs (panel/sms/enlaces.py); ``mensaje``
    # then shows each short link at its final length, until the outbox writes the codes.
    acortado: enlaces.Acortado | None = None


# The columns a Contenido fills, in its field order (the rest of a row is the recipient's or fixed).
CONTENIDO_KEYS = Contenido._fields[:6]


class Destinatario(NamedTuple):
    """One recipient of the plan: the client's column row, the phone written and its Contenido."""

    cliente: object
    telefono: str | None
    contenido: Contenido

    @property
    def id_cliente(self) -> int:
        return self.cliente.id_cliente

    @property
    def nombre(self) -> str:
        c = self.cliente
        return f"{c.nombre_cliente} {c.apellido_cliente}" if c.apellido_cliente else c.nombre_cliente


@dataclass
class Plan:
    """Every recipient's row: the text to send, or the reason it is skipped; and when sending
    starts (``inicio``, aware UTC) under which rules (``reglas``: None when exempt)."""

    rows: list[Destinatario] = field(default_factory=list)
    tipo: str = "comercial"
    rules: reglas.Reglas | None = None
    inicio: datetime | None = None

    @property
    def sendable(self) -> list[Destinatario]:
        return [r for r in self.rows if r.contenido.estado == "pendiente"]

    @property
    def skipped(self) -> list[Destinatario]:
        return [r for r in self.rows if r.contenido.estado == "omitido"]


def _recipients(cliente_query):
    """The selected clients as plain rows (the tenancy hook scopes the query); the phone comes
    already in E.164 (``telefono_e164``, derived on save by panel/phones.py)."""
    stmt = cliente_query.with_only_columns(
        Cliente.id_cliente,
        Cliente.id_propietario,
        Cliente.nombre_cliente,
        Cliente.apellido_cliente,
        Cliente.telefono,
        Cliente.telefono_e164,
        Cliente.estado,
        Cliente.acepta_sms,
        Cliente.id_pais,
    )
    return db.session.execute(stmt.order_by(None).order_by(Cliente.id_cliente)).all()


def _memo(personalise, base: str | None = None):
    """The Contenido of a sendable row per (nombre, apellido): names repeat across a campaign (many
    clients share a first name), so each distinct one is personalised once, and each distinct
    text analysed once (two names may give one text: a message without {apellido}). With a
    ``base`` for short links, its URLs are counted as the short links that replace them."""
    by_name: dict[tuple, Contenido] = {}
    by_text: dict[str, Contenido] = {}

    def contenido_of(nombre, apellido) -> Contenido:
        key = (nombre, apellido)
        if key not in by_name:
            text = personalise(nombre, apellido)
            if text not in by_text:
                cut = enlaces.split(text, base) if base else None
                shown = cut.muestra if cut else text
                info = analyze(shown)
                by_text[text] = Contenido(
                    shown, "pendiente", None, None, info.segments, info.encoding, tuple(info.non_gsm), cut
                )
            by_name[key] = by_text[text]
        return by_name[key]

    return contenido_of


def _omitted() -> Callable[[tuple[str, str]], Contenido]:
    """The Contenido of a skipped row per reason: most reasons are one text shared by many rows."""
    cache: dict[tuple[str, str], Contenido] = {}

    def contenido_of(reason: tuple[str, str]) -> Contenido:
        if reason not in cache:
            cache[reason] = Contenido("", "omitido", MOTIVOS[reason[0]], reason[1], None, None)
        return cache[reason]

    return contenido_of


def start_of(rules: reglas.Reglas | None, programada_para: datetime | None) -> datetime:
    """When a campaign starts sending (aware UTC): its scheduled time or now, moved to the next
    opening of the contact window when the rules bind it."""
    start = programada_para.replace(tzinfo=UTC) if programada_para else clock.now()
    start = max(start, clock.now())
    return rules.ventana.next_opening(start).astimezone(UTC) if rules else start


def plan(
    cliente_query,
    mensaje: str,
    tipo: str = "comercial",
    programada_para: datetime | None = None,
    review: bool = False,
    acortar_enlaces: bool = False,
    seen: dict[str, int] | None = None,
) -> Plan:
    """Personalise the message for every recipient (commercial ones end with the tenant's
    opt-out text, counted in the segments), or record why one is skipped. The ``review`` also
    skips the phones another campaign already plans to reach that day; the outbox leaves them to
    the check at send time (whichever campaign sends first takes the day). With
    ``acortar_enlaces`` every URL counts as its short link (``enlaces``). ``seen`` (phone →
    client) carries the phones already planned across the chunks of one outbox (preparacion.py)."""
    try:
        personalise = personalizer(mensaje)
    except TemplateError as exc:
        raise OutboxError(str(exc), field="mensaje") from None
    base = _short_links_base() if acortar_enlaces else None
    recipients = _recipients(cliente_query)
    tenant = recipients[0].id_propietario if recipients else None  # a campaign has one tenant
    rules = reglas.of_tenant(tenant) if reglas.binds(tipo) else None
    sent, omitted = _memo(_with_opt_out(personalise, rules), base), _omitted()
    iso = countries()
    result = Plan(tipo=tipo, rules=rules, inicio=start_of(rules, programada_para))
    seen = {} if seen is None else seen
    blocked = _blocked(recipients, rules, result.inicio, review)
    append = result.rows.append
    for c in recipients:
        phone = c.telefono_e164
        reason = skip_reason(c, seen, iso, blocked)
        if reason:
            append(Destinatario(c, phone or c.telefono or None, omitted(reason)))
        else:
            seen[phone] = c.id_cliente
            append(Destinatario(c, phone, sent(c.nombre_cliente, c.apellido_cliente)))
    return result


def _short_links_base() -> str:
    base = enlaces.base_url()
    if base is None:
        raise OutboxError("Para acortar enlaces falta PUBLIC_BASE_URL, la dirección pública del panel.")
    return base


def _with_opt_out(personalise, rules: reglas.Reglas | None):
    return lambda nombre, apellido: reglas.with_opt_out(personalise(nombre, apellido), rules)


def _blocked(recipients, rules: reglas.Reglas | None, inicio: datetime, review: bool) -> dict[str, str]:
    """The excluded numbers among the recipients, per tenant (a campaign has one), and — for a
    commercial campaign — those the cap already used up on the day sending starts (and, in the
    review, those another campaign plans to reach that day)."""
    by_tenant: dict[int, set[str]] = {}
    for tenant in {c.id_propietario for c in recipients}:
        by_tenant[tenant] = {c.telefono_e164 for c in recipients if c.id_propietario == tenant}
    out: dict[str, str] = {}
    for tenant, numbers in by_tenant.items():
        if rules is not None:
            if review:
                kind = planned_reason(rules.tope)[0]
                out |= {n: kind for n in tope.planned(tenant, numbers, inicio, rules.tope)}
            kind = cap_reason(rules.tope)[0]
            out |= {n: kind for n in tope.capped(tenant, numbers, inicio, rules.tope)}
        out |= exclusions.blocked(tenant, numbers, comercial=rules is not None)
    return out
