"""The real Twilio SDK against the fake server over real HTTP, and how every outcome is classified."""

import secrets
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from panel.config import load
from panel.sms import ratelimit
from panel.sms.client import PanelHttpClient, is_simulation, make_twilio_client, sender_kwargs
from panel.sms.simulator import SIM_FROM_NUMBER, SimulatedHttpClient
from panel.sms.twilio_errors import Outcome, classify, is_credentials_error

TO = "+573001234567"


def send(config, to=TO, body="Hola María"):
    """One messages.create through the real SDK, as the sender does it."""
    return make_twilio_client(config).messages.create(to=to, body=body, **sender_kwargs(config))


def outcome_of(config, **kwargs) -> Outcome:
    """The classified failure of one send; fails the test when the send succeeds."""
    with pytest.raises(Exception) as caught:  # noqa: B017 — each test checks the class below
        send(config, **kwargs)
    return classify(caught.value)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_create_goes_through_the_sdk_and_the_fake_records_it(fake_twilio, twilio_app_config):
    message = send(twilio_app_config)
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.num_segments == "1"  # "María" is UCS-2 but short
    assert [m["sid"] for m in fake_twilio.created] == [message.sid]
    assert fake_twilio.created[0]["to"] == TO and fake_twilio.created[0]["body"] == "Hola María"


def test_fetch_and_list_since_a_claim_find_the_message(twilio_app_config):
    """Reconciliation: list the account's messages to a number since the claim time."""
    claimed_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    sid = send(twilio_app_config).sid
    send(twilio_app_config, to="+573001112233")
    client = make_twilio_client(twilio_app_config)
    assert client.messages(sid).fetch().to == TO
    found = client.messages.list(to=TO, date_sent_after=claimed_at)
    assert [m.sid for m in found] == [sid]
    assert client.messages.list(to=TO, date_sent_after=claimed_at + timedelta(hours=1)) == []


@pytest.mark.parametrize(
    ("setup", "to", "code", "opt_out"),
    [
        ({}, "+5712", 21211, False),
        ({"invalid": {TO}}, TO, 21211, False),
        ({"opt_out": {TO}}, TO, 21610, True),
        ({"error_rates": {"21211": 1}}, TO, 21211, False),
        ({"error_rates": {"21610": 1}}, TO, 21610, True),
    ],
)
def test_permanent_errors_carry_twilios_code_and_message(
    fake_twilio, twilio_app_config, setup, to, code, opt_out
):
    fake_twilio.set(**setup)
    with pytest.raises(TwilioRestException) as caught:
        send(twilio_app_config, to=to)
    outcome = classify(caught.value)
    assert (outcome.kind, outcome.code, outcome.opt_out) == ("permanent", code, opt_out)
    assert outcome.message and not outcome.message.startswith("Unable to")
    assert fake_twilio.created == []


@pytest.mark.parametrize(("kind", "code"), [("429", 20429), ("503", 20503)])
def test_429_and_503_are_retried_and_nothing_was_created(fake_twilio, twilio_app_config, kind, code):
    fake_twilio.set(error_rates={kind: 1})
    outcome = outcome_of(twilio_app_config)
    assert (outcome.kind, outcome.code) == ("retry", code)
    assert fake_twilio.created == [] and fake_twilio.received_count == 1


@pytest.mark.parametrize("kind", ["500", "502", "504"])
def test_other_5xx_are_ambiguous_because_the_message_may_exist(fake_twilio, twilio_app_config, kind):
    fake_twilio.set(error_rates={kind: 1})
    outcome = outcome_of(twilio_app_config)
    assert outcome.kind == "ambiguous"
    assert len(fake_twilio.created) == 1  # the fake created it: a blind retry would duplicate it


def test_read_timeout_after_sending_is_ambiguous(fake_twilio, twilio_app_config):
    fake_twilio.set(error_rates={"timeout": 1})
    config = {**twilio_app_config, "TWILIO_TIMEOUT": 0.3}
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout) as caught:
        send(config)
    assert time.monotonic() - started < 2  # the SDK's default would wait forever
    assert classify(caught.value).kind == "ambiguous"
    assert len(fake_twilio.created) == 1


def test_connection_dropped_mid_response_is_ambiguous(fake_twilio, twilio_app_config):
    fake_twilio.set(error_rates={"drop": 1})
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        send(twilio_app_config)
    assert classify(caught.value).kind == "ambiguous"
    assert len(fake_twilio.created) == 1


def test_refused_connection_is_retried(fake_twilio, twilio_app_config):
    send(twilio_app_config)  # a pooled keep-alive connection exists, then the server goes away
    fake_twilio.stop()
    with pytest.raises(requests.exceptions.ConnectionError) as caught:
        send(twilio_app_config)
    assert classify(caught.value).kind == "retry"


def test_unused_port_is_retried(twilio_app_config):
    config = {**twilio_app_config, "TWILIO_API_BASE": f"http://127.0.0.1:{closed_port()}"}
    outcome = outcome_of(config)
    assert (outcome.kind, outcome.code) == ("retry", None)


def test_connect_timeout_is_retried(twilio_app_config):
    """A listener whose accept queue is full never completes the handshake: ConnectTimeout."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(server.getsockname())
        config = {
            **twilio_app_config,
            "TWILIO_API_BASE": f"http://127.0.0.1:{server.getsockname()[1]}",
            "TWILIO_TIMEOUT": 0.3,
        }
        try:
            with pytest.raises(requests.exceptions.ConnectTimeout) as caught:
                send(config)
        finally:
            for filler in fillers:
                filler.close()
    assert classify(caught.value).kind == "retry"


def test_rate_cap_answers_429_which_is_retried(fake_twilio, twilio_app_config):
    fake_twilio.set(rate_cap=2)
    send(twilio_app_config)
    send(twilio_app_config)
    outcome = outcome_of(twilio_app_config)
    assert (outcome.kind, outcome.code) == ("retry", 20429)
    assert fake_twilio.rejected_429 == 1 and len(fake_twilio.created) == 2


def test_wrong_credentials_are_a_credentials_error(fake_twilio, twilio_app_config):
    config = {**twilio_app_config, "TWILIO_AUTH_TOKEN": "equivocado"}
    with pytest.raises(TwilioRestException) as caught:
        send(config)
    outcome = classify(caught.value)
    assert (outcome.kind, outcome.code) == ("permanent", 20003)
    assert is_credentials_error(outcome)
    assert fake_twilio.created == []


def test_wrong_credentials_on_a_list_page_are_a_credentials_error(twilio_app_config):
    client = make_twilio_client({**twilio_app_config, "TWILIO_AUTH_TOKEN": "equivocado"})
    with pytest.raises(TwilioException) as caught:
        client.messages.list(to=TO)
    assert is_credentials_error(classify(caught.value))


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (requests.exceptions.ChunkedEncodingError("truncado"), "ambiguous"),
        (requests.exceptions.ConnectionError("sin causa conocida"), "ambiguous"),
        (RuntimeError("algo raro"), "ambiguous"),
        (TwilioRestException(404, "/x", "Unable to fetch record: not found", 20404), "permanent"),
        (TwilioRestException(400, "/x", "Unable to create record: x", 21614), "permanent"),
        (TwilioRestException(400, "/x", "Unable to create record: rate", 14107), "retry"),
    ],
)
def test_classify_other_outcomes(exc, kind):
    outcome = classify(exc)
    assert outcome.kind == kind
    assert not is_credentials_error(outcome)


# -- simulation mode --------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("la simulación abrió una conexión de red")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def sim_config(**extra):
    """No credentials, and an API base where nothing listens: only the simulator can answer."""
    return {"TWILIO_API_BASE": f"http://127.0.0.1:{closed_port()}", **extra}


def test_simulation_without_credentials():
    assert is_simulation({}) and is_simulation({"TWILIO_ACCOUNT_SID": "AC1"})
    assert not is_simulation({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"})
    assert isinstance(make_twilio_client({}).http_client, SimulatedHttpClient)


def test_simulation_returns_queued_sids_without_network(no_network):
    config = sim_config()
    message = send(config)
    assert message.sid.startswith("SM") and message.status == "queued"
    assert make_twilio_client(config).messages(message.sid).fetch().status == "sent"


@pytest.mark.parametrize(
    ("to", "extra", "code"),
    [
        ("+5712", {}, 21211),
        ("+573009990001", {"TWILIO_SIMULATOR_INVALID": "+573009990001"}, 21211),
        ("+573009990002", {"TWILIO_SIMULATOR_OPT_OUT": ["+573009990002"]}, 21610),
    ],
)
def test_simulation_answers_twilio_errors_without_network(no_network, to, extra, code):
    with pytest.raises(TwilioRestException) as caught:
        send(sim_config(**extra), to=to)
    assert classify(caught.value).code == code


# -- configuration ----------------------------------------------------------------------------


def test_sender_kwargs_prefer_the_messaging_service():
    assert sender_kwargs({"TWILIO_MESSAGING_SERVICE_SID": "MG1", "TWILIO_FROM_NUMBER": "+1"}) == {
        "messaging_service_sid": "MG1"
    }
    assert sender_kwargs({"TWILIO_FROM_NUMBER": "+15551234567"}) == {"from_": "+15551234567"}
    assert sender_kwargs({}) == {"from_": SIM_FROM_NUMBER}


def test_messaging_service_creates_an_accepted_message(fake_twilio, twilio_app_config):
    config = {**twilio_app_config, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32}
    assert send(config).status == "accepted"


@pytest.mark.parametrize(
    "url",
    [
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
        "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
    ],
)
def test_http_client_rewrites_the_api_base_and_always_has_a_timeout(url):
    client = PanelHttpClient(api_base="http://127.0.0.1:9/", timeout=7)
    assert client.rewrite(url) == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json"
    assert client.rewrite("https://example.com/x") == "https://example.com/x"
    assert client.timeout == (5.0, 7.0)
    assert PanelHttpClient(timeout=2).timeout == (2.0, 2.0)
    with pytest.raises(ValueError):
        PanelHttpClient(timeout=0)


def test_a_create_takes_the_rate_limits_departure_right_before_it_is_written(fake_twilio, twilio_app_config):
    """With the departure log full (both slots of 2/s held open, as by two sends being written),
    a create is not written at all; it goes once a slot is free. Fetches are not limited."""
    sid = send(twilio_app_config).sid
    config = {
        **load({"SMS_RATE_PER_SECOND": 2, "SMS_RATE_STORAGE_URI": "memory://"}),
        **twilio_app_config,
        "SMS_RATE_KEY": f"test:client:{secrets.token_hex(4)}",
    }
    client = make_twilio_client(config)
    limit, release, held = ratelimit.from_config(config), threading.Event(), threading.Barrier(3)

    def hold() -> None:
        with limit.departure():
            held.wait(10)
            release.wait(10)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for t in holders:
        t.start()
    held.wait(10)
    sender = threading.Thread(
        target=lambda: client.messages.create(to="+573001112233", body="Hola", **sender_kwargs(config))
    )
    sender.start()
    assert client.messages(sid).fetch().sid == sid  # a GET goes through the full log
    sender.join(0.3)
    assert sender.is_alive() and fake_twilio.received_count == 1  # only the unlimited first send
    release.set()
    for t in [*holders, sender]:
        t.join(10)
    assert fake_twilio.received_count == 2 and len(fake_twilio.created) == 2
