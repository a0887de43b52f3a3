"""Which Twilio account a tenant sends through (SPEC §20): its own, saved in Configuración →
Envío de SMS (the token decrypted only here, for the client), or the platform's — the
environment's TWILIO_* exactly as before. The one answer for the sender's pass (campaigns and
test sends alike), the status and inbound webhooks, and the rate limit's key.

In simulation mode (no platform credentials) every tenant sends through the simulated account:
no SMS leaves the machine, whatever a tenant saved. The user's own verification code goes
through the platform's account (docs/decisions.md: it is the panel speaking, not the agency).
"""

from dataclasses import dataclass, field

import requests
import sqlalchemy as sa
from twilio.base.exceptions import TwilioException, TwilioRestException

from .. import secretos, tenancy
from ..config import ConfigError, is_simulation
from ..extensions import db
from ..models import CampanaSMS, ConfiguracionEnvio
from .client import make_twilio_client
from .simulator import SIM_ACCOUNT_SID, SIM_FROM_NUMBER, shared_simulator, simulation_token

CONFIG = ConfiguracionEnvio.__table__


@dataclass(frozen=True)
class Cuenta:
    """One Twilio account and its sender; ``propia``: a tenant's own, not the platform's."""

    sid: str
    token: str = field(repr=False)  # never in a log line or a traceback's locals
    from_number: str | None = None
    messaging_service_sid: str | None = None
    propia: bool = False

    def sender(self) -> dict:
        """The sender argument of messages.create: the messaging service, else the From number."""
        if self.messaging_service_sid:
            return {"messaging_service_sid": self.messaging_service_sid}
        return {"from_": self.from_number or SIM_FROM_NUMBER}

    @property
    def rate_key(self) -> str | None:
        """The rate limit's key suffix: the platform's keeps the shared key of before."""
        return self.sid if self.propia else None


def platform(config) -> Cuenta:
    """The environment's account (the simulated one in simulation mode)."""
    if is_simulation(config):
        token = simulation_token(config) or shared_simulator().auth_token
        return Cuenta(SIM_ACCOUNT_SID, token, SIM_FROM_NUMBER)
    return Cuenta(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        config.get("TWILIO_FROM_NUMBER"),
        config.get("TWILIO_MESSAGING_SERVICE_SID"),
    )


def stored(tenant: int | None, conn=None):
    """The tenant's saved account columns (a Core row), or None when it has none."""
    stmt = sa.select(
        CONFIG.c.twilio_account_sid,
        CONFIG.c.twilio_token_cifrado,
        CONFIG.c.twilio_from_number,
        CONFIG.c.twilio_messaging_service_sid,
    ).where(CONFIG.c.id_propietario == tenant, CONFIG.c.twilio_account_sid.is_not(None))
    with tenancy.using(tenancy.EVERY_TENANT):
        if conn is not None:
            return conn.execute(stmt).first()
        with db.engine.connect() as own:
            return own.execute(stmt).first()


def of_tenant(tenant: int | None, config, conn=None) -> Cuenta:
    """The account this tenant sends through now; SecretoError when its token cannot be opened."""
    if is_simulation(config):
        return platform(config)
    row = stored(tenant, conn)
    if row is None or not row.twilio_token_cifrado:
        return platform(config)
    token = secretos.decrypt(config, row.twilio_token_cifrado)
    return Cuenta(row[0], token, row.twilio_from_number, row.twilio_messaging_service_sid, propia=True)


def of_campaign(conn, campana_id: int, config) -> Cuenta:
    """The account a campaign's pass sends through: its tenant's, now."""
    t = CampanaSMS.__table__
    tenant = conn.scalar(sa.select(t.c.id_propietario).where(t.c.id == campana_id))
    return of_tenant(tenant, config, conn)


def tokens_of(account_sid: str | None, config, conn) -> list[str]:
    """The tokens a webhook naming ``account_sid`` may be signed with: the platform's when it is
    the platform's (or none is named, as before), each tenant's own with that SID; [] unknown."""
    if is_simulation(config):
        token = simulation_token(config)
        return [token] if token else []
    if not account_sid or account_sid == config["TWILIO_ACCOUNT_SID"]:
        return [config["TWILIO_AUTH_TOKEN"]]
    stmt = sa.select(CONFIG.c.twilio_token_cifrado).where(
        CONFIG.c.twilio_account_sid == account_sid, CONFIG.c.twilio_token_cifrado.is_not(None)
    )
    with tenancy.using(tenancy.EVERY_TENANT):
        stored_tokens = list(conn.scalars(stmt))
    return [_opened(config, s) for s in stored_tokens if _opened(config, s)]


def _opened(config, stored_token: str) -> str | None:
    """A stored token decrypted, or None when the keys cannot open it (then it cannot sign)."""
    try:
        return secretos.decrypt(config, stored_token)
    except secretos.SecretoError:
        return None


def tenants_of(account_sid: str | None, config, conn) -> list[int] | None:
    """The tenants whose own account has this SID (their replies are theirs); None: the platform's."""
    if is_simulation(config) or not account_sid or account_sid == config["TWILIO_ACCOUNT_SID"]:
        return None
    stmt = sa.select(CONFIG.c.id_propietario).where(CONFIG.c.twilio_account_sid == account_sid)
    with tenancy.using(tenancy.EVERY_TENANT):
        return list(conn.scalars(stmt))


def probe(config, cuenta: Cuenta) -> tuple[bool, str]:
    """«Probar conexión»: ask Twilio for the account (GET …/Accounts/{sid}.json through the SDK);
    (whether it answered, what to tell the admin in Spanish). The token is never in the answer."""
    if is_simulation(config):
        return False, SIMULACION
    try:
        account = make_twilio_client(config, cuenta).api.v2010.accounts(cuenta.sid).fetch()
    except TwilioRestException as exc:
        if exc.status == 401 or exc.code == 20003:
            return False, CREDENCIALES
        return False, f"Twilio respondió con un error (código {exc.code or exc.status}): intente más tarde."
    except (TwilioException, requests.RequestException):
        return False, SIN_CONEXION
    estado = "activa" if account.status == "active" else f"en estado «{account.status}»"
    return True, f"Conexión correcta: Twilio reconoce la cuenta «{account.friendly_name}», {estado}."


SIMULACION = (
    "Modo simulación (la plataforma no tiene credenciales de Twilio): ningún SMS sale de esta "
    "máquina y la conexión con Twilio no se prueba."
)
CREDENCIALES = (
    "Twilio rechazó las credenciales (error 20003): revise el Account SID y el Auth Token de su cuenta."
)
SIN_CONEXION = "No se pudo conectar con Twilio: intente de nuevo en unos minutos."


def check_key(config) -> None:
    """Start-up in production: stored tokens need PANEL_ENCRYPTION_KEY (ConfigError saying so).
    A database not reachable or not migrated yet is left to the rest of the app to report."""
    if config.get("PANEL_ENV") != "production" or secretos.has_key(config):
        return
    try:
        with tenancy.using(tenancy.EVERY_TENANT), db.engine.connect() as conn:
            stored_count = conn.scalar(
                sa.select(sa.func.count()).where(CONFIG.c.twilio_token_cifrado.is_not(None))
            )
    except sa.exc.SQLAlchemyError:
        return
    if stored_count:
        raise ConfigError(
            f"PANEL_ENCRYPTION_KEY es obligatoria: {stored_count} empresa(s) guardaron su propio "
            "Auth Token de Twilio y sin la clave no se puede usar (README, «Configuration»)."
        )
