"""The fake Twilio server itself: counters, rate cap, injected failures, stats, standalone mode."""

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
import requests

from panel.testing.fake_server import FakeTwilio

TO = "+573001234567"


def post(fake, to=TO, body="Hola", auth=None, timeout=2):
    """One raw create request, as Twilio's REST API takes it."""
    sid = fake.simulator.account_sid
    return requests.post(
        f"{fake.url}/2010-04-01/Accounts/{sid}/Messages.json",
        data={"To": to, "Body": body, "From": "+15005550006"},
        auth=auth or (sid, fake.simulator.auth_token),
        timeout=timeout,
    )


def test_context_manager_serves_on_an_ephemeral_port_and_closes_it():
    with FakeTwilio() as fake:
        url = fake.url
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        assert set(fake.config()) == {
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_FROM_NUMBER",
            "TWILIO_API_BASE",
        }
        assert fake.config()["TWILIO_API_BASE"] == url
        assert post(fake).status_code == 201
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/_fake/stats", timeout=1)


def test_created_message_looks_like_twilios(fake_twilio):
    answer = post(fake_twilio, body="á" * 71)
    body = answer.json()
    assert answer.status_code == 201
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert (body["status"], body["num_segments"], body["error_code"]) == ("queued", "2", None)
    assert body["to"] == TO and body["from"] == "+15005550006"
    assert body["account_sid"] == fake_twilio.simulator.account_sid


@pytest.mark.parametrize(
    ("auth", "status", "code"),
    [
        (("ACotro", "x"), 401, 20003),
        (None, 400, 21211),
    ],
)
def test_errors_have_twilios_json_shape(fake_twilio, auth, status, code):
    answer = post(fake_twilio, to="+5712" if code == 21211 else TO, auth=auth)
    body = answer.json()
    assert answer.status_code == status
    assert set(body) == {"code", "message", "more_info", "status"}
    assert (body["code"], body["status"]) == (code, status)


def test_counters_duplicates_and_reset(fake_twilio):
    post(fake_twilio, body="uno")
    post(fake_twilio, body="uno")
    post(fake_twilio, body="dos")
    post(fake_twilio, to="+5712")
    assert fake_twilio.received_count == 4 and len(fake_twilio.created) == 3
    assert fake_twilio.count_by(TO, "uno") == 2
    assert fake_twilio.duplicates() == [(TO, "uno")]
    fake_twilio.reset()
    assert (fake_twilio.received_count, fake_twilio.created, fake_twilio.duplicates()) == (0, [], [])


def test_retried_429_is_not_a_duplicate(fake_twilio):
    """duplicates() counts created messages: a request refused with 429 and retried is fine."""
    fake_twilio.set(error_rates={"429": 1})
    assert post(fake_twilio).status_code == 429
    fake_twilio.set(error_rates={})
    assert post(fake_twilio).status_code == 201
    assert fake_twilio.received_count == 2 and fake_twilio.duplicates() == []


def test_rate_cap_is_a_rolling_second(fake_twilio):
    fake_twilio.set(rate_cap=3)
    codes = [post(fake_twilio, body=str(i)).status_code for i in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert fake_twilio.rejected_429 == 2 and fake_twilio.injected == {}
    time.sleep(1.05)
    assert post(fake_twilio).status_code == 201


def test_error_rates_are_reproducible_with_a_seed():
    def run(seed):
        with FakeTwilio(error_rates={"429": 0.3, "503": 0.3}, seed=seed) as fake:
            return [post(fake, body=str(i)).status_code for i in range(20)]

    first = run(7)
    assert first == run(7)
    assert {201, 429, 503} <= set(first)


def test_latency_can_change_live(fake_twilio):
    fake_twilio.set(latency=0.2)
    started = time.monotonic()
    post(fake_twilio)
    assert time.monotonic() - started >= 0.2
    with pytest.raises(TypeError):
        fake_twilio.set(nada=1)


def test_stop_releases_a_hanging_timeout_quickly():
    fake = FakeTwilio(error_rates={"timeout": 1}).start()
    with pytest.raises(requests.exceptions.ReadTimeout):
        post(fake, timeout=0.2)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 1
    assert len(fake.created) == 1  # counted as created before hanging


def test_concurrent_creates_are_all_counted(fake_twilio):
    codes = []

    def worker(i):
        codes.append(post(fake_twilio, body=f"m{i}").status_code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [201] * 30
    assert len(fake_twilio.created) == 30 and fake_twilio.received_count == 30
    assert len({m["sid"] for m in fake_twilio.created}) == 30


def test_list_filters_by_to_and_date_sent(fake_twilio):
    post(fake_twilio, body="a")
    post(fake_twilio, to="+573001112233", body="b")
    sid = fake_twilio.simulator.account_sid
    url = f"{fake_twilio.url}/2010-04-01/Accounts/{sid}/Messages.json"
    auth = (sid, fake_twilio.simulator.auth_token)
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    found = requests.get(url, params={"To": TO, "DateSent>": today}, auth=auth, timeout=2).json()
    assert [m["body"] for m in found["messages"]] == ["a"]
    later = requests.get(url, params={"To": TO, "DateSent>": "2999-01-01"}, auth=auth, timeout=2).json()
    assert later["messages"] == []


def test_stats_endpoint(fake_twilio):
    post(fake_twilio)
    post(fake_twilio)
    stats = requests.get(f"{fake_twilio.url}/_fake/stats", timeout=2).json()
    assert (stats["received"], stats["created"], stats["rejected_429"]) == (2, 2, 0)
    assert stats["duplicates"] == [[TO, "Hola"]]
    assert requests.post(f"{fake_twilio.url}/_fake/reset", timeout=2).json() == {"ok": True}
    assert fake_twilio.received_count == 0


def test_runs_standalone_and_prints_its_url():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panel.testing.fake_server",
            "--port",
            "0",
            "--rate-cap",
            "50",
            "--error-rates",
            "429=0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/_fake/stats", timeout=2).json()["received"] == 0
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0


def test_a_create_counts_when_it_arrives_not_after_the_latency(fake_twilio):
    """Twilio counts arrivals: the stamp is taken before the simulated latency, so its sleep's
    wake-up jitter never bunches stamps (the answer comes at least the latency after it)."""
    fake_twilio.set(latency=0.3)
    assert post(fake_twilio).status_code == 201
    answered = time.monotonic()
    assert len(fake_twilio.arrivals) == 1
    assert answered - fake_twilio.arrivals[0] >= 0.3


def test_rate_cap_judges_every_second_holding_an_arrival_even_out_of_order(fake_twilio):
    """Requests are judged after their latency, not always in the order they arrived: a create
    is refused when any rolling second holding its arrival would go over the cap."""
    fake_twilio.set(rate_cap=2)
    base = time.monotonic()
    under = fake_twilio._under_cap
    assert [under(base + 10.0), under(base + 10.5)] == [True, True]
    assert under(base + 9.8) is False  # [9.8, 10.8) would hold three
    assert under(base + 8.9) is True  # no second holding 8.9 reaches 10.0
    assert under(base + 11.2) is True  # [10.5, 11.5) holds two with it
    assert under(base + 11.3) is False  # [10.5, 11.5) would hold three
    assert under(base + 11.6) is True  # 10.5 has left: [11.2, 12.2) holds two with it
