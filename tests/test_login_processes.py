"""Login throttling across real processes and real sockets: gunicorn with two workers, clients
bound to 127.0.0.2 and 127.0.0.3 (the whole 127/8 is loopback on Linux)."""

import http.client
import re
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from panel.extensions import db

from . import factories
from .conftest import make_app, migrated_database
from .helpers import PASSWORD, csrf_from
from .reliability.load import Gunicorn

EMAIL = "dueno@test.co"


@pytest.fixture(scope="module")
def server(databases):
    """gunicorn -w 2 on its own migrated database (SQLite file or PostgreSQL), with one admin."""
    url = migrated_database(databases)
    app = make_app(url)
    with app.app_context():
        factories.user(EMAIL, "admin")
        db.engine.dispose()
    gunicorn = Gunicorn(url, workers=2)
    yield gunicorn
    gunicorn.stop()


class Browser:
    """A browser on its own loopback address: a new connection per request, its own cookies."""

    def __init__(self, port: int, address: str):
        self.port, self.address, self.cookies = port, address, SimpleCookie()

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.address, 0)
        )
        headers = {"Cookie": "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())}
        body = urlencode(form) if form else None
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or ():
                self.cookies.load(header)
            return response.status, response.read().decode()
        finally:
            conn.close()

    def login(self, password: str) -> int:
        _, page = self.request("GET", "/login")
        form = {"email": EMAIL, "password": password, "csrf_token": csrf_from(page)}
        return self.request("POST", "/login", form)[0]


def workers(server) -> list[int]:
    """The pids of the gunicorn workers (children of the master we started)."""
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text()
    return [int(pid) for pid in re.findall(r"\d+", children)]


def test_two_workers_share_one_count_and_the_owner_gets_in_from_another_address(server):
    assert len(workers(server)) == 2
    attacker = Browser(server.port, "127.0.0.2")
    statuses = [attacker.login("clave-equivocada") for _ in range(5)]
    assert statuses == [401] * 5
    assert attacker.login(PASSWORD) == 429  # the 6th, whichever worker answers
    assert attacker.login(PASSWORD) == 429
    owner = Browser(server.port, "127.0.0.3")
    assert owner.login(PASSWORD) == 302
    status, page = owner.request("GET", "/admin/")
    assert status == 200 and EMAIL in page
