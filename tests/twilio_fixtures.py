"""Pytest fixtures for the fake Twilio server (registered from conftest.py).

``fake_twilio`` is a started ``panel.testing.fake_server.FakeTwilio`` (127.0.0.1, ephemeral port, zero
latency, no injected failures), stopped after the test. Change its behaviour live with
``fake_twilio.set(latency=..., error_rates={"429": 0.5}, rate_cap=5, opt_out={...})`` and read
``.created``, ``.received_count``, ``.rejected_429``, ``.count_by(to, body)``, ``.duplicates()``.

An app whose real Twilio SDK talks to it over real HTTP::

    from tests.conftest import make_app
    app = make_app(database_url, **twilio_app_config)   # or **fake_twilio.config()

``twilio_app_config`` is ``fake_twilio.config()`` plus a short ``TWILIO_TIMEOUT`` (2 s), so an
injected "timeout" ends the call quickly as an ambiguous read timeout.
"""

import pytest

from panel.testing.fake_server import FakeTwilio


@pytest.fixture
def fake_twilio():
    """A fake Twilio HTTP server for one test."""
    with FakeTwilio(seed=1234) as fake:
        yield fake


@pytest.fixture
def twilio_app_config(fake_twilio):
    """App settings that point the real SDK at the fake server, with a short timeout."""
    return {**fake_twilio.config(), "TWILIO_TIMEOUT": 2}
