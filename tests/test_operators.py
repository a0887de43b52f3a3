"""What a sysadmin meets first: production refuses demo data and a short secret (through the real
``flask`` command and the app factory), and every package the panel imports is pinned."""

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel.config import MIN_SECRET_KEY, ConfigError
from panel.extensions import db
from panel.models import Usuario
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")
GOOD_SECRET = "s" * MIN_SECRET_KEY


def _flask(args: list[str], **env) -> subprocess.CompletedProcess:
    """The operator's command line: ``flask --app wsgi …`` in a clean environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PANEL_ENV")}
    return subprocess.run(
        [str(FLASK), "--app", "wsgi", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flask_demo_data_is_refused_in_production(database_url):
    result = _flask(["demo-data"], PANEL_ENV="production", SECRET_KEY=GOOD_SECRET, DATABASE_URL=database_url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no se cargan en producción" in result.stderr and "flask create-user" in result.stderr
    assert "demo12345" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_flask_refuses_a_short_secret_key_in_production(database_url):
    result = _flask(["demo-data"], PANEL_ENV="production", SECRET_KEY="x", DATABASE_URL=database_url)
    assert result.returncode == 2
    assert f"SECRET_KEY debe tener al menos {MIN_SECRET_KEY} caracteres" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_same_command_runs_outside_production(database_url):
    """The positive path of the same command line: --help of demo-data answers in development."""
    result = _flask(["demo-data", "--help"], PANEL_ENV="development", DATABASE_URL=database_url)
    assert result.returncode == 0 and "demo" in result.stdout


@pytest.mark.parametrize("secret", ["", "x", "s" * (MIN_SECRET_KEY - 1)])
def test_app_factory_refuses_a_short_secret_in_production(database_url, secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app(database_url, PANEL_ENV="production", SECRET_KEY=secret)


def test_app_factory_takes_a_long_secret_in_production(database_url):
    app = make_app(database_url, PANEL_ENV="production", SECRET_KEY=GOOD_SECRET)
    assert app.config["SECRET_KEY"] == GOOD_SECRET and app.config["PANEL_ENV"] == "production"


def test_demo_data_creates_nobody_in_production(database_url):
    app = make_app(database_url, PANEL_ENV="production", SECRET_KEY=GOOD_SECRET)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Usuario.__table__))
        result = app.test_cli_runner().invoke(args=["demo-data"])
        after = db.session.scalar(sa.select(sa.func.count()).select_from(Usuario.__table__))
    assert result.exit_code == 1 and "no se cargan en producción" in result.output
    assert after == before


# --- every import pinned ------------------------------------------------------------------

IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


def _imported_distributions() -> dict[str, str]:
    """The installed distribution of each top-level third-party import of panel/ and wsgi.py."""
    names = set()
    for path in [*ROOT.joinpath("panel").rglob("*.py"), ROOT / "wsgi.py"]:
        text = re.sub(r'"""[\s\S]*?"""', "", path.read_text(encoding="utf-8"))  # not docstrings
        names |= set(IMPORT.findall(text))
    owners = importlib.metadata.packages_distributions()
    local = {"panel", "migrations"}
    return {n: owners[n][0] for n in sorted(names - local - set(sys.stdlib_module_names)) if n in owners}


def _pinned(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    names = (re.split(r"[\[=<>]", line)[0] for line in lines if line and not line.startswith(("#", "-r")))
    return {re.sub(r"[-_.]+", "-", n).lower() for n in names}


def test_every_package_the_panel_imports_is_pinned_in_requirements():
    imported = _imported_distributions()
    assert {"flask", "babel", "urllib3", "phonenumbers"} <= set(imported)  # the scan sees them
    pinned = _pinned(ROOT / "requirements.txt")
    missing = {n: d for n, d in imported.items() if re.sub(r"[-_.]+", "-", d).lower() not in pinned}
    assert missing == {}


def test_requirements_are_pinned_exactly_and_tests_stay_out_of_the_runtime():
    runtime = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert all("==" in line for line in runtime if line and not line.startswith("#"))
    assert _pinned(ROOT / "requirements.txt").isdisjoint({"pytest", "ruff", "playwright", "schemathesis"})
    assert "pytest" in _pinned(ROOT / "requirements-dev.txt")
