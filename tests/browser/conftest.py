"""Browser tests: the app served for real in its own process, driven by Debian's Chromium."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.services import CHROMIUM, require_chromium

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


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
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
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"el servidor no arrancó: {proc.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"{url}/login", timeout=1).status_code == 200:
                return SimpleNamespace(url=url, proc=proc)
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("el servidor no respondió en 30 s")


@pytest.fixture(scope="session")
def live_server(database_url):
    require_chromium()
    server = serve(database_url)
    yield server
    server.proc.terminate()
    server.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


def axe_violations(page, serious_only: bool = True) -> list[dict]:
    """Run axe-core in the page; the serious and critical violations."""
    page.add_script_tag(path=str(AXE))
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
