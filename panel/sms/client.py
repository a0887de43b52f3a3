"""The Twilio SDK client the sender uses: real HTTP with a timeout, or the in-process simulator.

Configuration keys: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER or
TWILIO_MESSAGING_SERVICE_SID, TWILIO_API_BASE (tests, benchmarks and staging point it at a fake or
a proxy), TWILIO_TIMEOUT (seconds); defaults and checks in panel/config.py. Whether the app is in
simulation is answered by ``panel.config.is_simulation``, used here and by the templates.
Simulation only: TWILIO_SIMULATOR_OPT_OUT / TWILIO_SIMULATOR_INVALID (numbers, list or
comma-separated) answer 21610 / 21211.
"""

import re

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from panel.config import BY_NAME, is_simulation
from panel.sms.simulator import (
    SIM_ACCOUNT_SID,
    SIM_FROM_NUMBER,
    SimulatedHttpClient,
    shared_simulator,
    simulation_token,
)

# The app config always holds both (panel/config.py); these serve a bare mapping or constructor.
DEFAULT_API_BASE = BY_NAME["TWILIO_API_BASE"].default
DEFAULT_TIMEOUT = BY_NAME["TWILIO_TIMEOUT"].default
CONNECT_TIMEOUT_MAX = 5.0  # a connection that takes longer than this is not coming
POOL_SIZE = 32

# The SDK builds https://api.twilio.com/... (or api.<edge>.<region>.twilio.com with TWILIO_EDGE).
_TWILIO_HOST = re.compile(r"^https://api(?:\.[\w-]+)*\.twilio\.com(?=/|$)")


class PanelHttpClient(TwilioHttpClient):
    """TwilioHttpClient that talks to TWILIO_API_BASE and never waits forever."""

    def __init__(self, api_base: str = DEFAULT_API_BASE, timeout: float | tuple = DEFAULT_TIMEOUT):
        super().__init__(pool_connections=True, timeout=None)
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        # requests takes (connect, read): a refused/slow connection is told apart from a slow answer.
        self.timeout = timeout if isinstance(timeout, tuple) else connect_read(float(timeout))
        self.session.mount("http://", HTTPAdapter(pool_maxsize=POOL_SIZE))
        self.session.mount("https://", HTTPAdapter(pool_maxsize=POOL_SIZE))

    def rewrite(self, url: str) -> str:
        """Point a Twilio API URL at the configured base."""
        return _TWILIO_HOST.sub(self.api_base, url, count=1)

    def request(self, method, url, *args, timeout=None, **kwargs):
        """The SDK's request, sent to the configured base with the client's (connect, read) timeout."""
        return super().request(method, self.rewrite(url), *args, timeout=timeout, **kwargs)


def connect_read(timeout: float) -> tuple[float, float]:
    """The (connect, read) timeout pair for a total read timeout."""
    if timeout <= 0:
        raise ValueError("TWILIO_TIMEOUT debe ser mayor que cero")
    return (min(timeout, CONNECT_TIMEOUT_MAX), timeout)


def make_twilio_client(config) -> Client:
    """The real Twilio SDK client, over real HTTP or the simulated http layer."""
    if is_simulation(config):
        simulator = shared_simulator()
        simulator.opt_out.update(_numbers(config.get("TWILIO_SIMULATOR_OPT_OUT")))
        simulator.invalid.update(_numbers(config.get("TWILIO_SIMULATOR_INVALID")))
        # The simulated account signs its callbacks with the deployment's webhook secret.
        simulator.auth_token = simulation_token(config) or simulator.auth_token
        return Client(SIM_ACCOUNT_SID, simulator.auth_token, http_client=SimulatedHttpClient(simulator))
    http_client = PanelHttpClient(
        api_base=config.get("TWILIO_API_BASE") or DEFAULT_API_BASE,
        timeout=config.get("TWILIO_TIMEOUT") or DEFAULT_TIMEOUT,
    )
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=http_client)


def sender_kwargs(config) -> dict:
    """The sender argument of messages.create: a messaging service, or a From number."""
    if config.get("TWILIO_MESSAGING_SERVICE_SID"):
        return {"messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}
    return {"from_": config.get("TWILIO_FROM_NUMBER") or SIM_FROM_NUMBER}


def _numbers(value) -> set[str]:
    """A set of phone numbers from a list or a comma-separated string."""
    if not value:
        return set()
    items = value.split(",") if isinstance(value, str) else value
    return {item.strip() for item in items if item and item.strip()}
