"""Browser tests: the app served for real in its own process, driven by Debian's Chromium."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import time_machine
from playwright.sync_api import expect

from tests.clock_fixtures import next_open_morning, real_time
from tests.services import CHROMIUM, require_chromium

# A bounded wait for what a page shows, never a measure of speed: on a loaded 2-core machine
# (CI runs both engines at once) a bulk action's answer took more than Playwright's default 5 s.
expect.set_options(timeout=30_000)

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# The browser stories send commercial SMS, which leave only inside the contact window: the test
# process and the servers it starts all live on the next weekday morning, by one offset from the
# real time (tests/clocked.py passes it to the servers), so they agree on what "now" is.
CLOCK_OFFSET = (next_open_morning() - datetime.now(UTC)).total_seconds()  # at import: the real time


@pytest.fixture(scope="package", autouse=True)
def reloj_de_la_ventana():
    """This package's tests run on the browser servers' clock (a weekday morning, ticking)."""
    with time_machine.travel(real_time() + CLOCK_OFFSET, tick=True):
        yield


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            # Not one xdist group: on one worker the walk alone (four roles, every page through
            # axe-core) made that worker the pass's long pole. Each worker that runs browser
            # tests starts its own servers, database and Chromium (session fixtures) once.
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require_chromium()
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(database_url: str, extra_env: dict | None = None) -> SimpleNamespace:
    """Start the app with gunicorn-free `flask run` in its own process and wait until it answers."""
    port = _free_port()
    # A file, not a pipe: nobody reads a pipe while tests run, and once its buffer fills with
    # request logs the server blocks on its next write and stops answering.
    log = tempfile.TemporaryFile()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PANEL_ENV": "development",
        "SECRET_KEY": "navegador",
        **(extra_env or {}),
    }
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "REDIS_URL"):
        if key not in (extra_env or {}):
            env.pop(key, None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.clocked",
            str(CLOCK_OFFSET),
            "flask",
            "--app",
            "wsgi",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-reload",
            "--with-threads",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a bound for a loaded CI machine (two passes at once), not a speed
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"el servidor no arrancó: {log.read().decode()[-2000:]}")
        try:
            if requests.get(f"{url}/login", timeout=1).status_code == 200:
                return SimpleNamespace(url=url, proc=proc, log=log)
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("el servidor no respondió en 90 s")


def stop(server: SimpleNamespace) -> None:
    server.proc.terminate()
    server.proc.wait(timeout=10)
    server.log.close()


@pytest.fixture(scope="session")
def database_url(databases):
    """The browser tests' own database: their served processes (one with a resident SMS sender)
    live until the session ends and must never touch the rows of the other tests."""
    from tests.conftest import migrated_database

    return migrated_database(databases)


@pytest.fixture(scope="session")
def live_server(database_url):
    """The app in simulation mode. Its resident sender is off: only the SMS server's sender (below)
    may pick up campaigns, so a campaign always goes to the fake Twilio its test expects."""
    require_chromium()
    server = serve(database_url, {"SMS_EMBEDDED_SENDER": "0"})
    yield server
    stop(server)


SMS_SERVER_CONCURRENCY = 2  # Twilio calls in flight at once in the SMS server's sender
INVALID_PHONE = "+573009999999"  # well-formed, but the fake Twilio answers 21211 for it


@pytest.fixture(scope="session")
def fake_twilio():
    """A fake Twilio over real HTTP for the whole browser session."""
    from panel.testing.fake_server import FakeTwilio

    with FakeTwilio(latency=0.05, invalid={INVALID_PHONE}, seed=1) as fake:
        yield fake


@pytest.fixture(scope="session")
def sms_server(database_url, fake_twilio):
    """A second served app on the same database, with Twilio credentials pointing at the fake
    server and its embedded sender thread on."""
    require_chromium()
    settings = {k: str(v) for k, v in fake_twilio.config().items()}
    # A one-second poll, so a scheduled campaign made due by a test starts without a long wait;
    # two calls in flight, so a campaign sent slowly can be paused half-way (the lifecycle story).
    extra = {
        "SMS_EMBEDDED_SENDER": "1",
        "SMS_POLL_SECONDS": "1",
        "SMS_CONCURRENCY": str(SMS_SERVER_CONCURRENCY),
    }
    server = serve(database_url, {**settings, **extra})
    yield server
    stop(server)


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


def axe_violations(page, serious_only: bool = True) -> list[dict]:
    """Run axe-core in the page; the serious and critical violations."""
    # After a click that navigates, the new DOM can be queried before its stylesheets apply:
    # contrast would be judged on unstyled Bootstrap. Wait for the load event first.
    page.wait_for_load_state("load")
    # Through DevTools, not a <script> tag: the page's Content-Security-Policy would block an inline one.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    levels = {"serious", "critical"} if serious_only else {"minor", "moderate", "serious", "critical"}
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in levels
    ]


def screenshot(page, name: str) -> Path:
    """Save a screenshot for the README under docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
