"""A tenant's lawful-sending rules (SPEC §10), read once per plan or per sender pass: its contact
window (the law's, or narrower), its cap (per day or per rolling week) and its opt-out text.

Read with an explicit tenant id (the sender works outside a request's scope), the same answer for
the review, the outbox and the sender.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event

from ..extensions import db
from ..models import CampanaSMS, ConfiguracionEnvio
from ..models.envio import TEXTO_BAJA
from .ventana import LEGAL, LEGAL_WINDOW, Ventana

# A tenant's settings start from the law's window (ventana.LEGAL: Monday's hours stand for the
# week's, Saturday's for Saturday's), a daily cap and the default opt-out text.
DEFAULTS = dict(
    semana_inicio=LEGAL[0][0],
    semana_fin=LEGAL[0][1],
    sabado_activo=True,
    sabado_inicio=LEGAL[5][0],
    sabado_fin=LEGAL[5][1],
    tope="dia",
    texto_baja=TEXTO_BAJA,
)


@event.listens_for(ConfiguracionEnvio, "init")
def _starts_from_the_law(target, args, kwargs) -> None:
    """A new settings row holds DEFAULTS for what it is not given (the model, a floor below the
    law's window, declares no hours of its own)."""
    for name, value in DEFAULTS.items():
        kwargs.setdefault(name, value)


@dataclass(frozen=True)
class Reglas:
    """What applies to a tenant's commercial SMS."""

    ventana: Ventana = LEGAL_WINDOW
    tope: str = "dia"  # "dia": one per Bogotá calendar day; "semana": one per rolling 7 days
    texto_baja: str = TEXTO_BAJA


LEGALES = Reglas()


def window_of(config) -> Ventana:
    """The window a settings row describes (raises VentanaError when it would widen the law's)."""
    horas = {d: (config.semana_inicio, config.semana_fin) for d in range(5)}
    if config.sabado_activo:
        horas[5] = (config.sabado_inicio, config.sabado_fin)
    return Ventana(horas)


def of_tenant(tenant: int | None, conn=None) -> Reglas:
    """The tenant's rules: its saved settings, else the law's defaults."""
    table = ConfiguracionEnvio.__table__
    reader = conn if conn is not None else db.session
    row = reader.execute(sa.select(table).where(table.c.id_propietario == tenant)).first()
    if row is None:
        return LEGALES
    return Reglas(ventana=window_of(row), tope=row.tope, texto_baja=row.texto_baja or TEXTO_BAJA)


def with_opt_out(text: str, rules: Reglas | None) -> str:
    """The text as it leaves: a message the rules bind ends with the tenant's opt-out text (and
    counts it in its segments); one they do not bind (``rules`` None) leaves as written."""
    return text if rules is None else text + rules.texto_baja


def binds(tipo: str, prueba: bool = False) -> bool:
    """Whether the window, the cap and the RNE bind a campaign: commercial ones, never a test
    send (SPEC §15) or a transactional one (opt-outs bind them all, elsewhere)."""
    return tipo == "comercial" and not prueba


def of_campaign(conn, campana_id: int) -> Reglas | None:
    """The rules binding a campaign at send time, or None when it is exempt."""
    t = CampanaSMS.__table__
    row = conn.execute(
        sa.select(t.c.tipo, t.c.prueba, t.c.id_propietario).where(t.c.id == campana_id)
    ).first()
    if row is None or not binds(row.tipo, row.prueba):
        return None
    return of_tenant(row.id_propietario, conn)
