"""Sending under faults, CI-size: a few campaigns of ~150 messages through real rq workers that are
SIGKILLed at random moments, a fake Twilio failing 20 % of creates, Redis restarted mid-campaign,
then duplicate and out-of-order status callbacks. Full size: ``make reliability``."""

import os
import random
import shutil

import pytest
from twilio.request_validator import RequestValidator

from panel.testing.fake_server import FakeTwilio

from .reliability import faults
from .services import require
from .support.sms import campaign, rows

RUNS = int(os.environ.get("FAULT_RUNS", 3))
SIZE = int(os.environ.get("FAULT_SIZE", 150))


@pytest.fixture
def faulty_twilio():
    with FakeTwilio(latency=0.005, error_rates=faults.FAULTS, hang=2.0, seed=7) as fake:
        yield fake


def _one_run(app, tenants, fake, seed: int, restart_redis: bool) -> dict:
    fake.reset()
    cid = campaign(tenants.admin_a, SIZE)
    app.config.update({**fake.config(), "TWILIO_TIMEOUT": 1})
    what = faults.drive(app, fake, cid, SIZE, random.Random(seed), kills=3, restart_redis=restart_redis)
    counts = faults.audit(fake, cid, SIZE) | what
    print(f"[fallos] corrida {seed}: {counts}")
    return counts | {"cid": cid}


def test_sending_under_worker_kills_twilio_errors_and_a_redis_restart(app, tenants, faulty_twilio):
    require("redis-server (un Redis privado por prueba)", shutil.which("redis-server") is not None)
    results = [
        _one_run(app, tenants, faulty_twilio, seed, restart_redis=(seed == RUNS - 1)) for seed in range(RUNS)
    ]
    totals = {k: sum(r[k] for r in results) for k in faults.BAD_KEYS}
    print(
        f"[fallos] {RUNS} corridas × {SIZE} mensajes, {sum(r['kills'] for r in results)} SIGKILL, "
        f"{sum(r['redis_restarted'] for r in results)} reinicios de Redis: {totals}; "
        f"máx. creaciones por fila {max(r['max_creates_per_row'] for r in results)}"
    )
    assert all(r["rows"] == SIZE for r in results)
    assert max(r["max_creates_per_row"] for r in results) <= 1
    assert all(v == 0 for v in totals.values()), totals
    assert sum(r["kills"] for r in results) >= RUNS  # the faults really happened
    assert sum(sum(r["injected"].values()) for r in results) > 0
    _callbacks_out_of_order(app, faulty_twilio, results[0]["cid"])


def _callbacks_out_of_order(app, fake, cid: int) -> None:
    """Duplicate and out-of-order status callbacks end at the furthest status; counts do not move."""
    sent = [r for r in rows(cid) if r.estado == "enviado"][:40]
    client = app.test_client()
    token = fake.config()["TWILIO_AUTH_TOKEN"]
    rng = random.Random(3)
    for r in sent:
        statuses = ["queued", "sent", "delivered", "sent", "delivered", "queued"]
        rng.shuffle(statuses)
        for st in statuses:
            params = {
                "MessageSid": r.twilio_sid,
                "MessageStatus": st,
                "AccountSid": fake.config()["TWILIO_ACCOUNT_SID"],
            }
            sig = RequestValidator(token).compute_signature("http://localhost/twilio/status", params)
            assert (
                client.post("/twilio/status", data=params, headers={"X-Twilio-Signature": sig}).status_code
                < 300
            )
    after = {r.id: r for r in rows(cid)}
    assert all(after[r.id].estado_entrega == "delivered" for r in sent)
    assert all(after[r.id].estado == "enviado" for r in sent)
    assert faults.audit(fake, cid, SIZE)["aggregate_mismatches"] == 0
    print(
        f"[fallos] {len(sent) * 6} callbacks duplicados/desordenados: "
        f"estado final 'delivered' en {len(sent)} filas"
    )
