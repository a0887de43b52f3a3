"""Which external services the tests can reach; in CI (REQUIRE_SERVICES=1) a missing one fails."""

import os
import shutil
import socket

import pytest

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Debian's Chromium: its old headless shell (package chromium-headless-shell, the build Playwright
# itself runs headless) when installed, else the full browser in its new headless mode. The shell
# does the same pages with about a third less CPU (docs/performance.md, session 39).
CHROMIUM_BUILDS = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")


def chromium_build(environ=os.environ) -> str:
    """The Chromium the browser tests launch: CHROMIUM_PATH, else the first build installed."""
    installed = (path for path in CHROMIUM_BUILDS if shutil.which(path))
    return environ.get("CHROMIUM_PATH") or next(installed, CHROMIUM_BUILDS[-1])


CHROMIUM = chromium_build()


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, available: bool) -> None:
    """Skip (developer laptop) or fail (CI) when a service is missing."""
    if available:
        return
    message = f"{name} no está disponible"
    if REQUIRED:
        pytest.fail(f"{message} y REQUIRE_SERVICES=1: en CI no se omite ninguna prueba", pytrace=False)
    pytest.skip(f"{message} (defina REQUIRE_SERVICES=1 para que esto sea un fallo)")


def require_postgres() -> None:
    require("PostgreSQL en 127.0.0.1:5432", _port_open("127.0.0.1", 5432))


def require_redis() -> None:
    require("Redis en 127.0.0.1:6379", _port_open("127.0.0.1", 6379))


def require_chromium() -> None:
    require(f"Chromium ({CHROMIUM})", shutil.which(CHROMIUM) is not None)
