"""A fake Twilio over real HTTP on 127.0.0.1, for tests, benchmarks and manual staging.

    with FakeTwilio(latency=0.05, error_rates={"429": 0.1, "timeout": 0.02}, seed=1) as fake:
        app = make_app(url, **fake.config())

error_rates keys: "429" and "503" (refused, nothing created), "500"/"502"/"504" (created, then
the error is answered), "timeout" (created, then no answer until long past the client's read
timeout), "drop" (created, then the connection is closed without an answer), "21211"/"21610"
(refused as invalid / opted out). rate_cap: at most N creates per rolling second, then 429/20429.
Several accounts (SPEC §20: each tenant's own): the one given to the constructor is the primary,
whose state is the server's own attributes (``simulator``, ``created``, ``rate_cap``…, as
always); ``add_account(sid, token, rate_cap=…)`` adds another, a ``FakeAccount`` with its own
token, rate cap and created list, served on the same port under its SID.
A create counts when it *arrives* (the kernel's receive time of its first bytes), not after the
simulated latency nor when a handler thread gets to run: that is where Twilio counts, and a stamp
taken after a 100 ms sleep, or by a thread waiting for the GIL, adds that wait's jitter to every
arrival (threads woken together look like a burst that never was). The rule is unchanged: no
more than rate_cap creates in any rolling second of arrivals.

Standalone: ``python -m panel.testing.fake_server --port 0 --latency 0.1 --rate-cap 50`` prints
its URL and serves until killed (``--deliver``: it posts each message's signed, priced status
callbacks to its StatusCallback, as Twilio does); ``GET /_fake/stats`` returns the counters as JSON and
``POST /_fake/reset`` clears them.
"""

import argparse
import bisect
import contextlib
import json
import random
import signal
import socket
import struct
import threading
import time
import urllib.request
from collections import Counter
from decimal import Decimal
from urllib.parse import urlencode

from panel.sms.simulator import (
    SIM_FROM_NUMBER,
    SIM_PRICE,
    SIM_PRICE_UNIT,
    TwilioSimulator,
    error,
    twilio_error,
)
from panel.testing.fake_http import FakeHTTPServer, _Handler

FAKE_ACCOUNT_SID = "AC" + "fa4e" * 8
FAKE_AUTH_TOKEN = "token-de-prueba"
# status, Twilio code, message — for the injected failures that answer at all.
_INJECTED = {
    "429": (429, 20429, "Too Many Requests"),
    "500": (500, 20500, "Internal Server Error"),
    "502": (502, 20502, "Bad Gateway"),
    "503": (503, 20503, "Service Unavailable"),
    "504": (504, 20504, "Gateway Timeout"),
}
_BEFORE_CREATE = {"429", "503", "21211", "21610"}  # these never create the message
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python names it from 3.12 only
FORGET = 10.0  # seconds after which an admitted create can no longer share a second with a new one


class _ArrivalHandler(_Handler):
    """The HTTP handler, noting when each request arrived: the kernel's receive time of its first
    bytes where the socket gives it (SO_TIMESTAMPNS), so a handler thread that waits for the GIL
    or a CPU does not move an arrival later and bunch it with the next ones."""

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)

    def handle_one_request(self) -> None:
        self.server.fake.arrived(_kernel_arrival(self.connection))
        super().handle_one_request()


def _kernel_arrival(conn: socket.socket) -> float | None:
    """When the next request's first byte reached this host (time.monotonic's clock), peeking at
    it without reading; None when the socket gives no time. Waits for that byte: our clients
    never pipeline, so nothing of the next request is ever in the handler's buffer already."""
    with contextlib.suppress(OSError, ValueError):
        data, ancillary, _, _ = conn.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
        for level, kind, value in ancillary:
            if data and level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanos = struct.unpack("qq", value[:16])
                return seconds + nanos / 1e9 - (time.time() - time.monotonic())
    return None


class FakeAccount:
    """One more Twilio account on a FakeTwilio: its own token, rate cap and what it created."""

    def __init__(self, account_sid: str, auth_token: str, rate_cap: int | None = None):
        self.simulator = TwilioSimulator(account_sid, auth_token)
        self.rate_cap = rate_cap
        self.clear()

    def clear(self) -> None:
        """Forget its messages and counters (the server's lock held)."""
        self.created: list[dict] = []
        self.rejected_429 = 0
        self.window: list[float] = []  # arrival times of the admitted creates, sorted
        self.arrivals: list[float] = []
        with self.simulator.lock:
            self.simulator.messages.clear()


class FakeTwilio:
    """A Twilio Messages API on an ephemeral port, with latency, failures and a rate cap."""

    def __init__(
        self,
        latency: float = 0.0,
        error_rates: dict | None = None,
        rate_cap: int | None = None,
        account_sid: str = FAKE_ACCOUNT_SID,
        auth_token: str = FAKE_AUTH_TOKEN,
        opt_out: set | None = None,
        invalid: set | None = None,
        seed: int | None = None,
        hang: float = 30.0,
        host: str = "127.0.0.1",
        port: int = 0,
        price: Decimal = SIM_PRICE,
        price_unit: str = SIM_PRICE_UNIT,
        deliver: bool | float = False,
    ):
        self.simulator = TwilioSimulator(account_sid, auth_token, opt_out, invalid, price, price_unit)
        self.host, self.port = host, port
        self.latency, self.rate_cap, self.hang = latency, rate_cap, hang
        self.error_rates = dict(error_rates or {})
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server: FakeHTTPServer | None = None
        self.connections: set[socket.socket] = set()
        self._arrival = threading.local()  # when the request this handler thread serves arrived
        # Called with each created message (outside the lock): a test moves its clock here,
        # e.g. to close the contact window in the middle of a campaign.
        self.on_create = None
        # As Twilio does: post "sent" then "delivered" (priced, signed) to a created message's
        # StatusCallback, from a thread of its own, ``deliver`` seconds later (True: 1 s) — Twilio's
        # come after the carrier, not before the sender has stored the message's SID (a callback
        # for a SID no row holds yet finds nothing: see docs/decisions.md). Off by default.
        self.deliver = deliver
        self.extra: dict[str, FakeAccount] = {}  # accounts other than the primary, by SID
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FakeTwilio":
        """Bind and serve in a daemon thread."""
        self.stopping.clear()
        self.server = FakeHTTPServer((self.host, self.port), self)
        self.server.RequestHandlerClass = _ArrivalHandler
        with contextlib.suppress(OSError):  # accepted sockets inherit it: their first bytes are stamped too
            self.server.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.server.fake = self
        self.port = self.server.server_address[1]
        serving = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="fake-twilio", daemon=True
        )
        serving.start()  # a short poll interval makes stop() quick
        return self

    def stop(self) -> None:
        """Stop serving and close the port (later connections are refused)."""
        self.stopping.set()  # wakes requests hanging in a simulated timeout
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for conn in list(self.connections):  # keep-alive connections would go on serving
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def config(self) -> dict:
        """Settings to merge into the app config so the real SDK talks to this server."""
        return {
            "TWILIO_ACCOUNT_SID": self.simulator.account_sid,
            "TWILIO_AUTH_TOKEN": self.simulator.auth_token,
            "TWILIO_FROM_NUMBER": SIM_FROM_NUMBER,  # Twilio's documented test sender
            "TWILIO_API_BASE": self.url,
        }

    # -- accounts --------------------------------------------------------------------------

    def add_account(self, account_sid: str, auth_token: str, rate_cap: int | None = None) -> FakeAccount:
        """Serve one more account (its own token, rate cap and created list) on this server."""
        with self.lock:
            self.extra[account_sid] = FakeAccount(account_sid, auth_token, rate_cap)
            return self.extra[account_sid]

    def account(self, account_sid: str | None):
        """The account a request names: an added one, else the primary (this server itself, whose
        credentials then refuse a SID that is not its own)."""
        return self.extra.get(account_sid or "", self)

    # -- behaviour and counters ------------------------------------------------------------

    def set(self, **changes) -> None:
        """Change behaviour live: latency, error_rates, rate_cap, hang, opt_out, invalid, seed."""
        with self.lock:
            if "seed" in changes:
                self.rng = random.Random(changes.pop("seed"))
            for name in ("opt_out", "invalid"):
                if name in changes:
                    setattr(self.simulator, name, set(changes.pop(name) or ()))
            if "error_rates" in changes:
                changes["error_rates"] = dict(changes["error_rates"] or {})
            for name, value in changes.items():
                if name not in ("latency", "error_rates", "rate_cap", "hang"):
                    raise TypeError(f"FakeTwilio.set: parámetro desconocido {name}")
                setattr(self, name, value)

    def reset(self) -> None:
        """Forget every message and counter."""
        with self.lock:
            self.created: list[dict] = []
            self.received_count = 0
            self.rejected_429 = 0
            self.injected: Counter = Counter()
            self.window: list[float] = []  # arrival times of the admitted creates, sorted
            self.arrivals: list[float] = []  # every create's arrival, admitted or not
            with self.simulator.lock:
                self.simulator.messages.clear()
            for extra in self.extra.values():
                extra.clear()

    def callback(self, url: str, sid: str, status: str, error_code: int | None = None) -> tuple[dict, str]:
        """The status callback Twilio would post to ``url`` for one created message: its form
        parameters (with Price and PriceUnit once billed) and X-Twilio-Signature."""
        return self.simulator.callback(url, sid, status, error_code)

    def count_by(self, to: str, body: str) -> int:
        """How many messages were created for this number with this body."""
        with self.lock:
            return sum(1 for m in self.created if m["to"] == to and m["body"] == body)

    def duplicates(self) -> list[tuple[str, str]]:
        """(to, body) pairs CREATED more than once: a customer who got the same SMS twice."""
        with self.lock:
            return _repeated(self.created)

    def stats(self) -> dict:
        """The counters as plain JSON data."""
        with self.lock:
            return {
                "url": self.url,
                "received": self.received_count,
                "created": len(self.created),
                "rejected_429": self.rejected_429,
                "injected": dict(self.injected),
                "duplicates": [list(pair) for pair in _repeated(self.created)],
            }

    # -- the create flow -------------------------------------------------------------------

    def arrived(self, at: float | None = None) -> None:
        """Note when the request this handler thread is about to read arrived (default: now)."""
        self._arrival.at = at if at is not None else time.monotonic()

    def admit(self, auth, account: str) -> tuple[str | None, tuple[int, dict] | None]:
        """Count a create request; return (injected failure kind, an answer to send now or None)."""
        at, self._arrival.at = getattr(self._arrival, "at", None) or time.monotonic(), None
        owner = self.account(account)
        with self.lock:
            self.received_count += 1
            owner.arrivals.append(at)
            if not owner.simulator.authorized(auth, account):
                return None, error(20003)
            if owner.rate_cap is not None and not self._under_cap(at, owner):
                owner.rejected_429 += 1
                return None, twilio_error(429, 20429, "Too Many Requests (límite por segundo)")
            kind = self._draw()
            if kind:
                self.injected[kind] += 1
        if kind in _INJECTED and kind in _BEFORE_CREATE:
            return kind, twilio_error(*_INJECTED[kind])
        return kind, None

    def _under_cap(self, at: float, owner=None) -> bool:
        """Admit a create that arrived at ``at`` only if no rolling second holding it would then
        have more than rate_cap admitted arrivals (caller holds the lock). Requests are judged
        after their latency, not always in the order they arrived: every second holding ``at``
        is checked, not only the one ending at it. Per account (``owner``; the primary by default)."""
        owner = owner or self
        times, cap = owner.window, owner.rate_cap
        del times[: bisect.bisect_left(times, time.monotonic() - FORGET)]
        first, start = bisect.bisect_right(times, at - 1.0), bisect.bisect_right(times, at)
        for begin in [*times[first:start], at]:  # a busiest second starts at one of its arrivals
            held = bisect.bisect_left(times, begin + 1.0) - bisect.bisect_left(times, begin)
            if held >= cap:  # with this one it would be rate_cap + 1
                return False
        bisect.insort(times, at)
        return True

    def _draw(self) -> str | None:
        """Pick an injected failure from error_rates with the seeded RNG (caller holds the lock)."""
        roll, edge = self.rng.random(), 0.0
        for kind, rate in self.error_rates.items():
            edge += float(rate)
            if roll < edge:
                return str(kind)
        return None

    def create_request(self, auth, account: str, form: dict) -> tuple[str | None, int, dict]:
        """One create through auth, the rate cap and the injected failures: (kind, status, body).

        For kind "timeout" or "drop" with status 201 the HTTP layer hangs or closes instead.
        """
        kind, answer = self.admit(auth, account)
        if answer:
            return kind, *answer
        status, body = self.create(form, kind, account)
        if status == 201 and kind in _INJECTED:
            status, body = twilio_error(*_INJECTED[kind])  # created, then the 5xx is answered
        return kind, status, body

    def create(self, form: dict, kind: str | None, account: str | None = None) -> tuple[int, dict]:
        """Create through the account's simulator, forcing 21211/21610 when injected; record what
        was created (in that account's ``created``)."""
        if kind == "21211":
            return error(21211, to=form.get("To", ""))
        if kind == "21610":
            return error(21610)
        owner = self.account(account)
        status, body = owner.simulator.create(form)
        if status == 201:
            with self.lock:
                created = {"sid": body["sid"], "to": body["to"], "body": body["body"], "t": time.time()}
                created["validez"] = form.get("ValidityPeriod")  # seconds, as Twilio received it
                created["account"], created["from"] = body["account_sid"], body["from"]
                created["servicio"] = body["messaging_service_sid"]
                owner.created.append(created)
            if self.on_create is not None:
                self.on_create(created)
            if self.deliver and form.get("StatusCallback"):
                args = (form["StatusCallback"], body["sid"])
                threading.Thread(
                    target=self._post_statuses, args=args, name="fake-callback", daemon=True
                ).start()
        return status, body

    def _post_statuses(self, url: str, sid: str) -> None:
        """Post the message's "sent" and "delivered" callbacks to ``url``; a refusal is the app's
        to answer for, and an app that is gone is none of the fake's business."""
        if self.stopping.wait(1.0 if self.deliver is True else float(self.deliver)):
            return  # the fake stopped first: nobody is waiting for these
        for status in ("sent", "delivered"):
            params, signature = self.callback(url, sid, status)
            request = urllib.request.Request(
                url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
            )
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=5).close()


def busiest(times: list[float], window: float = 1.0) -> int:
    """The most of the sorted ``times`` that fall in any rolling window of ``window`` seconds
    (tests and benchmarks: how many creates a rate cap saw at once)."""
    most, first = 0, 0
    for i, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        most = max(most, i - first + 1)
    return most


def _repeated(created: list[dict]) -> list[tuple[str, str]]:
    counts = Counter((m["to"], m["body"]) for m in created)
    return [pair for pair, n in counts.items() if n > 1]


def _rates(text: str) -> dict:
    """Parse error rates given as JSON or as 429=0.1,500=0.05."""
    if not text:
        return {}
    if text.lstrip().startswith("{"):
        return json.loads(text)
    return {k.strip(): float(v) for k, v in (item.split("=") for item in text.split(","))}


def main(argv=None) -> None:
    """Serve a fake Twilio until killed, printing its URL and settings."""
    parser = argparse.ArgumentParser(description="Servidor Twilio falso para pruebas y benchmarks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate-cap", type=int, default=None)
    parser.add_argument("--error-rates", default="", help='JSON o "429=0.1,500=0.05"')
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--deliver",
        action="store_true",
        help="enviar los callbacks de estado (sent, delivered) con su precio",
    )
    parser.add_argument("--price", type=Decimal, default=SIM_PRICE, help="precio por segmento")
    parser.add_argument("--price-unit", default=SIM_PRICE_UNIT, help="moneda del precio (ISO 4217)")
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        latency=args.latency,
        error_rates=_rates(args.error_rates),
        rate_cap=args.rate_cap,
        seed=args.seed,
        host=args.host,
        port=args.port,
        price=args.price,
        price_unit=args.price_unit,
        deliver=args.deliver,
    ).start()
    done = threading.Event()  # before the URL is printed: a caller may terminate us right after
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(fake.url, flush=True)
    for key, value in fake.config().items():
        print(f"{key}={value}", flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    fake.stop()


if __name__ == "__main__":
    main()
