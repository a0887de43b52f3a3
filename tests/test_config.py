"""Configuration from the environment; bad configuration stops start-up with one line."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from panel.config import ConfigError, database_url, from_environment
from panel.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_missing_secret_key_in_production_is_refused(monkeypatch):
    monkeypatch.setenv("PANEL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY es obligatoria"):
        from_environment()


def test_development_runs_without_secret_key(monkeypatch):
    monkeypatch.setenv("PANEL_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert from_environment()["SECRET_KEY"]


@pytest.mark.parametrize("url", ["esto no es una url", "mysql://root@localhost/x"])
def test_bad_database_url_is_refused(url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        database_url(url)


def test_postgresql_urls_use_psycopg_3():
    assert database_url("postgresql://u@h/db").startswith("postgresql+psycopg://")


def test_default_database_is_a_sqlite_file_under_instance():
    assert database_url(None).endswith("instance/panel.db")


@pytest.mark.parametrize(
    "env,message",
    [
        ({"PANEL_ENV": "production"}, "SECRET_KEY es obligatoria"),
        ({"PANEL_ENV": "development", "DATABASE_URL": "::malformada::"}, "DATABASE_URL mal formada"),
        ({"PANEL_ENV": "development", "SMS_RATE_PER_SECOND": "rápido"}, "SMS_RATE_PER_SECOND"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_clear_line(env, message):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_connections_are_set_up_for_the_engine_in_use(app):
    """SQLite: WAL, busy timeout, foreign keys on every connection; PostgreSQL: psycopg 3."""
    if db.engine.dialect.name == "postgresql":
        assert db.engine.dialect.driver == "psycopg"
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert isinstance(conn.connection.dbapi_connection, sqlite3.Connection)


def test_the_database_in_use_is_the_one_configured(app):
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert db.engine.dialect.name == expected
    assert db.session.scalar(sa.text("SELECT 1")) == 1
