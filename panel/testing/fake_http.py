"""The HTTP layer of the fake Twilio: a keep-alive threaded server that hands every call to FakeTwilio."""

import base64
import json
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from panel.sms.simulator import account_of, create_route, split_url


class FakeHTTPServer(ThreadingHTTPServer):
    """Threaded server for one FakeTwilio; it does not wait for hanging requests on close."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # the default 5 drops SYNs under a burst: 1 s client retransmits

    def __init__(self, address: tuple[str, int], fake):
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler delegating to the server's FakeTwilio."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeTwilio/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle adds ~40 ms per answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.fake.connections.add(self.connection)

    def finish(self) -> None:
        self.fake.connections.discard(self.connection)
        super().finish()

    def log_message(self, *args) -> None:  # quiet: tests and benchmarks read counters instead
        pass

    @property
    def fake(self):
        return self.server.fake

    def do_GET(self) -> None:
        path, query = split_url(self.path)
        if path == "/_fake/stats":
            return self._send(200, self.fake.stats())
        self._api("GET", path, query, {})

    def do_POST(self) -> None:
        path, query = split_url(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
        if path == "/_fake/reset":
            self.fake.reset()
            return self._send(200, {"ok": True})
        self._api("POST", path, query, form)

    def _api(self, method: str, path: str, query: dict, form: dict) -> None:
        """Answer an API call after the configured latency; creates go through the failure flow."""
        if self.fake.latency:
            time.sleep(self.fake.latency)
        auth = self._auth()
        route = create_route(method, path)
        if not route:  # fetch, list, the account: its account's simulator answers as for the app
            simulator = self.fake.account(account_of(path)).simulator
            return self._send(*simulator.handle(method, path, query, form, auth))
        kind, status, body = self.fake.create_request(auth, route["account"], form)
        if status == 201 and kind == "timeout":
            self.fake.stopping.wait(self.fake.hang)  # created; answer nothing until the client gave up
            self.close_connection = True
        elif status == 201 and kind == "drop":
            self.close_connection = True  # created; no status line at all: a dropped connection
        else:
            self._send(status, body)

    def _auth(self) -> tuple[str, str] | None:
        """The HTTP Basic credentials, if any."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        return user, password

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
