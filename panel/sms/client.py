"""The Twilio SDK client the sender uses: real HTTP with a timeout, or the in-process simulator.

Configuration keys: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER or
TWILIO_MESSAGING_SERVICE_SID, TWILIO_API_BASE (tests, benchmarks and staging point it at a fake or
a proxy), TWILIO_TIMEOUT (seconds); defaults and checks in panel/config.py. Whether the app is in
simulation is answered by ``panel.config.is_simulation``, used here and by the templates.
Simulation only: TWILIO_SIMULATOR_OPT_OUT / TWILIO_SIMULATOR_INVALID (numbers, list or
comma-separated) answer 21610 / 21211.

With SMS_RATE_PER_SECOND set, every create (POST …/Messages.json) takes a slot of the rate
limit's departure log (panel/sms/ratelimit.py) right before its headers are written to the
socket, on a kept-alive connection (a new one is connected first): nothing between the last
check and the first byte can bunch arrivals at Twilio.
"""

import re
import threading

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from panel.config import BY_NAME, is_simulation
from panel.sms import ratelimit
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
_CREATE = re.compile(r"/Messages\.json$")

# The departure the request being sent on this thread must take (requests and urllib3 send on
# the caller's thread): set by PanelHttpClient.request, taken by the connection's endheaders.
_pending = threading.local()


class _LastCheck:
    """A connection that takes the pending departure right before the request's first byte."""

    def endheaders(self, *args, **kwargs):
        departure, _pending.departure = getattr(_pending, "departure", None), None
        if departure is None:
            return super().endheaders(*args, **kwargs)
        if self.sock is None:
            self.connect()  # a new connection's handshake happens before the check, not inside it
        with departure():
            return super().endheaders(*args, **kwargs)  # headers out; the small form follows


class _CheckedHTTPConnection(_LastCheck, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_LastCheck, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


_CHECKED_POOLS = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


class _CheckedAdapter(HTTPAdapter):
    """requests' adapter with the connections above (keep-alive pool of POOL_SIZE)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _CHECKED_POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        """Through an HTTP(S) proxy too (HTTPS_PROXY); a SOCKS proxy keeps its own connections
        and would send creates without the last check: not supported with a rate limit."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _CHECKED_POOLS
        return manager


class PanelHttpClient(TwilioHttpClient):
    """TwilioHttpClient that talks to TWILIO_API_BASE, never waits forever, and lets a create
    leave only when the rate limit's departure log has room."""

    def __init__(
        self,
        api_base: str = DEFAULT_API_BASE,
        timeout: float | tuple = DEFAULT_TIMEOUT,
        limit: ratelimit.RateLimit | None = None,
    ):
        super().__init__(pool_connections=True, timeout=None)
        self.limit = limit
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        # requests takes (connect, read): a refused/slow connection is told apart from a slow answer.
        self.timeout = timeout if isinstance(timeout, tuple) else connect_read(float(timeout))
        self.session.mount("http://", _CheckedAdapter(pool_maxsize=POOL_SIZE))
        self.session.mount("https://", _CheckedAdapter(pool_maxsize=POOL_SIZE))

    def rewrite(self, url: str) -> str:
        """Point a Twilio API URL at the configured base."""
        return _TWILIO_HOST.sub(self.api_base, url, count=1)

    def request(self, method, url, *args, timeout=None, **kwargs):
        """The SDK's request, sent to the configured base with the client's (connect, read) timeout."""
        if not _limited(self.limit, method, url):
            return super().request(method, self.rewrite(url), *args, timeout=timeout, **kwargs)
        _pending.departure = self.limit.departure
        try:
            return super().request(method, self.rewrite(url), *args, timeout=timeout, **kwargs)
        finally:
            _pending.departure = None  # not left behind for another request if this one failed early


class _CheckedSimulatedHttpClient(SimulatedHttpClient):
    """The simulated http layer, with the same departure log around each create."""

    def __init__(self, simulator, limit: ratelimit.RateLimit | None = None):
        super().__init__(simulator)
        self.limit = limit

    def request(self, method, url, *args, **kwargs):
        if not _limited(self.limit, method, url):
            return super().request(method, url, *args, **kwargs)
        with self.limit.departure():
            return super().request(method, url, *args, **kwargs)


def _limited(limit: ratelimit.RateLimit | None, method: str, url: str) -> bool:
    """Whether this request is a message create under an enabled rate limit."""
    return limit is not None and limit.enabled and method.upper() == "POST" and bool(_CREATE.search(url))


def connect_read(timeout: float) -> tuple[float, float]:
    """The (connect, read) timeout pair for a total read timeout."""
    if timeout <= 0:
        raise ValueError("TWILIO_TIMEOUT debe ser mayor que cero")
    return (min(timeout, CONNECT_TIMEOUT_MAX), timeout)


def make_twilio_client(config, cuenta=None) -> Client:
    """The real Twilio SDK client, over real HTTP or the simulated http layer: for ``cuenta``
    (panel/sms/cuentas_envio.py: a tenant's own account), else the platform's as configured."""
    if is_simulation(config):
        simulator = shared_simulator()
        simulator.opt_out.update(_numbers(config.get("TWILIO_SIMULATOR_OPT_OUT")))
        simulator.invalid.update(_numbers(config.get("TWILIO_SIMULATOR_INVALID")))
        # The simulated account signs its callbacks with the deployment's webhook secret.
        simulator.auth_token = simulation_token(config) or simulator.auth_token
        http = _CheckedSimulatedHttpClient(simulator, _limit(config))
        return Client(SIM_ACCOUNT_SID, simulator.auth_token, http_client=http)
    own = cuenta is not None and cuenta.propia
    http_client = PanelHttpClient(
        api_base=config.get("TWILIO_API_BASE") or DEFAULT_API_BASE,
        timeout=config.get("TWILIO_TIMEOUT") or DEFAULT_TIMEOUT,
        limit=_limit(config, cuenta.sid if own else None),
    )
    if own:
        return Client(cuenta.sid, cuenta.token, http_client=http_client)
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=http_client)


def _limit(config, account_sid: str | None = None) -> ratelimit.RateLimit | None:
    """The account's rate limit (None for a bare mapping without one, or when there is no limit)."""
    return ratelimit.from_config(config, account_sid) if config.get("SMS_RATE_PER_SECOND") else None


def sender_kwargs(config, cuenta=None) -> dict:
    """The sender argument of messages.create: a messaging service, or a From number (a tenant's
    own account: its own sender)."""
    if cuenta is not None and cuenta.propia and not is_simulation(config):
        return cuenta.sender()
    if config.get("TWILIO_MESSAGING_SERVICE_SID"):
        return {"messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}
    return {"from_": config.get("TWILIO_FROM_NUMBER") or SIM_FROM_NUMBER}


def _numbers(value) -> set[str]:
    """A set of phone numbers from a list or a comma-separated string."""
    if not value:
        return set()
    items = value.split(",") if isinstance(value, str) else value
    return {item.strip() for item in items if item and item.strip()}
