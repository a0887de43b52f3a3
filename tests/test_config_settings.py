"""Typed settings: one table in panel/config.py types, checks and defaults every SMS_* setting."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from panel import create_app
from panel.config import SETTINGS, ConfigError, is_simulation

from .conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
BAD_VALUES = [
    ("SMS_BATCH_SIZE", "abc", "SMS_BATCH_SIZE debe ser un número"),
    ("SMS_BATCH_SIZE", "2.5", "SMS_BATCH_SIZE debe ser un número entero"),
    ("SMS_CONCURRENCY", "0", "SMS_CONCURRENCY debe ser al menos 1"),
    ("SMS_JOBS_PER_CAMPAIGN", "-2", "SMS_JOBS_PER_CAMPAIGN debe ser al menos 1"),
    ("SMS_RATE_PER_SECOND", "-1", "SMS_RATE_PER_SECOND no puede ser negativo"),
    ("SMS_RETRY_BACKOFF", "medio", "SMS_RETRY_BACKOFF debe ser un número"),
    ("SMS_RATE_HEADROOM", "1.5", "SMS_RATE_HEADROOM debe estar entre 0 y 1"),
    ("SMS_POLL_SECONDS", "0", "SMS_POLL_SECONDS debe ser mayor que cero"),
    ("SMS_EMBEDDED_SENDER", "quizás", "SMS_EMBEDDED_SENDER debe ser 1 o 0"),
    ("TWILIO_TIMEOUT", "0", "TWILIO_TIMEOUT debe ser mayor que cero"),
    ("PUBLIC_BASE_URL", "panel.example.co", "PUBLIC_BASE_URL debe ser una URL"),
    ("SMS_PRICE_CURRENCY", "pesos", "SMS_PRICE_CURRENCY debe ser un código de moneda ISO 4217"),
    ("SMS_PRICE_CURRENCY", "XYZ", "SMS_PRICE_CURRENCY debe ser un código de moneda ISO 4217"),
    ("PASSWORD_HASH_METHOD", "md5", "PASSWORD_HASH_METHOD debe ser scrypt, scrypt:N:r:p o pbkdf2"),
    ("PASSWORD_HASH_METHOD", "scrypt:mucho", "PASSWORD_HASH_METHOD debe ser scrypt, scrypt:N:r:p o pbkdf2"),
]


@pytest.fixture
def clean_env(monkeypatch):
    """No typed setting in the environment: each test sets what it needs."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("name,raw,message", BAD_VALUES)
def test_a_bad_value_in_the_environment_stops_create_app_naming_it(clean_env, name, raw, message):
    clean_env.setenv(name, raw)
    with pytest.raises(ConfigError) as caught:
        create_app({"TESTING": True})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.parametrize("name,raw,message", BAD_VALUES)
def test_a_bad_text_in_an_explicit_config_is_refused_the_same_way(clean_env, name, raw, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        create_app({"TESTING": True, name: raw})


def test_the_command_line_start_up_names_a_bad_sms_setting_in_one_line(clean_env):
    clean_env.setenv("PANEL_ENV", "development")
    clean_env.setenv("SMS_BATCH_SIZE", "abc")
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "Error de configuración: SMS_BATCH_SIZE debe ser un número, no 'abc'"


def test_settings_from_the_environment_arrive_typed(clean_env, database_url):
    clean_env.setenv("SMS_BATCH_SIZE", "32")
    clean_env.setenv("SMS_RETRY_BACKOFF", "0.25")
    clean_env.setenv("SMS_EMBEDDED_SENDER", "off")
    clean_env.setenv("PUBLIC_BASE_URL", "https://panel.example.co/")
    config = make_app(database_url).config
    assert (config["SMS_BATCH_SIZE"], type(config["SMS_BATCH_SIZE"])) == (32, int)
    assert (config["SMS_RETRY_BACKOFF"], config["SMS_EMBEDDED_SENDER"]) == (0.25, False)
    assert config["PUBLIC_BASE_URL"] == "https://panel.example.co"  # callbacks append /twilio/...


def test_an_explicit_config_wins_over_the_environment_and_its_text_is_typed(clean_env, database_url):
    clean_env.setenv("SMS_QUEUE", "de-entorno")
    clean_env.setenv("SMS_CONCURRENCY", "3")
    config = make_app(database_url, SMS_QUEUE="mia", SMS_CONCURRENCY="8").config
    assert (config["SMS_QUEUE"], config["SMS_CONCURRENCY"]) == ("mia", 8)


def test_every_setting_has_its_default_when_nothing_sets_it(clean_env, database_url):
    config = make_app(database_url, PASSWORD_HASH_METHOD=None).config  # the tests set a lighter one
    assert {s.name: config[s.name] for s in SETTINGS} == {s.name: s.default for s in SETTINGS}
    assert config["SMS_RATE_PER_SECOND"] == 10.0 and config["SMS_EMBEDDED_SENDER"] is True


def test_the_readme_configuration_table_documents_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)`", table, flags=re.MULTILINE))
    assert {s.name for s in SETTINGS} <= documented


@pytest.mark.parametrize(
    "credentials,simulated",
    [
        ({}, True),
        ({"TWILIO_ACCOUNT_SID": "AC1"}, True),
        ({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, False),
    ],
)
def test_the_simulation_banner_follows_the_one_simulation_rule(database_url, credentials, simulated):
    app = make_app(database_url, **({"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None} | credentials))
    page = app.test_client().get("/login").get_data(as_text=True)
    assert is_simulation(app.config) is simulated
    assert ('data-testid="banner-simulacion"' in page) is simulated
