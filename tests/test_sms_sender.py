"""The sender against the fake Twilio over real HTTP, with the real SDK."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from panel.extensions import db
from panel.models import CampanaSMS, Cliente, SMSLog, utcnow
from panel.sms import lifecycle, outcomes, send_run, sender
from panel.sms.claims import claim
from panel.sms.client import make_twilio_client, sender_kwargs
from panel.sms.send_run import Result
from panel.sms.twilio_errors import Outcome

from . import factories
from .helpers import hold_the_gil
from .support.sms import ROOT, assert_aggregates_match_rows, campaign, configure, rows


def test_success_records_sid_status_and_segments(app, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 3, mensaje="Hola {nombre}, ¿cómo está?")
    counts = sender.run_campaign(cid)
    assert counts["enviado"] == 3
    logs = rows(cid)
    assert {r.twilio_sid for r in logs} == {m["sid"] for m in fake_twilio.created}
    assert all(r.estado == "enviado" and r.estado_entrega == "queued" and r.segmentos == 1 for r in logs)
    assert all(r.intentos == 1 and r.reclamado is not None for r in logs)
    campana = assert_aggregates_match_rows(cid)
    assert (campana.estado, campana.completado is not None) == ("completado", True)
    assert fake_twilio.duplicates() == []


def test_permanent_errors_keep_twilio_code_and_opt_out_sets_acepta_sms(
    app, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 3)
    logs = rows(cid)
    fake_twilio.set(opt_out={logs[0].telefono}, invalid={logs[1].telefono})
    sender.run_campaign(cid)
    baja, invalido, bien = rows(cid)
    assert (baja.estado, baja.error_codigo, baja.reintentable) == ("fallido", 21610, False)
    assert "unsubscribed" in baja.error_mensaje
    assert (invalido.estado, invalido.error_codigo) == ("fallido", 21211)
    assert bien.estado == "enviado"
    assert db.session.get(Cliente, baja.id_cliente).acepta_sms is False
    assert db.session.get(Cliente, bien.id_cliente).acepta_sms is True
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_transient_errors_are_retried_until_sent(app, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config, SMS_MAX_ATTEMPTS=12)
    fake_twilio.set(error_rates={"503": 0.3, "429": 0.2})
    cid = campaign(tenants.admin_a, 8)
    sender.run_campaign(cid)
    assert all(r.estado == "enviado" for r in rows(cid))
    assert fake_twilio.injected["503"] + fake_twilio.injected["429"] > 0
    assert sum(r.intentos for r in rows(cid)) > 8  # some rows needed more than one attempt
    assert len(fake_twilio.created) == 8 and fake_twilio.duplicates() == []
    assert_aggregates_match_rows(cid)


@pytest.mark.parametrize("kind", ["500", "drop", "timeout"])
def test_ambiguous_outcome_is_reconciled_not_resent(app, tenants, fake_twilio, twilio_app_config, kind):
    """Twilio created the message but the answer was lost: found by listing, never sent twice."""
    configure(app, twilio_app_config, TWILIO_TIMEOUT=1)
    fake_twilio.set(error_rates={kind: 1.0})
    cid = campaign(tenants.admin_a, 2)
    sender.run_campaign(cid)
    logs = rows(cid)
    created = {m["to"]: m["sid"] for m in fake_twilio.created}
    assert [(r.estado, r.twilio_sid, r.requiere_revision) for r in logs] == [
        ("enviado", created[r.telefono], False) for r in logs
    ]
    assert fake_twilio.duplicates() == [] and len(fake_twilio.created) == 2
    assert assert_aggregates_match_rows(cid).estado == "completado"


def _leave_in_enviando(row_id: int, minutes_ago: float) -> None:
    """What a crash leaves behind: a claimed row whose outcome was never written."""
    with db.engine.begin() as conn:
        conn.execute(
            SMSLog.__table__.update()
            .where(SMSLog.__table__.c.id == row_id)
            .values(estado="enviando", reclamado=utcnow() - timedelta(minutes=minutes_ago))
        )


def test_crash_recovery_flags_an_unknown_row_for_review_and_never_resends(
    app, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config, SMS_CLAIM_TIMEOUT=60)
    cid = campaign(tenants.admin_a, 3)
    stuck = rows(cid)[0]
    _leave_in_enviando(stuck.id, minutes_ago=10)
    sender.run_campaign(cid)
    stuck = rows(cid)[0]
    assert (stuck.estado, stuck.requiere_revision, stuck.reintentable) == ("fallido", True, False)
    assert stuck.error_mensaje.startswith("Resultado incierto")
    assert fake_twilio.count_by(stuck.telefono, stuck.mensaje) == 0  # not re-sent
    assert len(fake_twilio.created) == 2
    campana = assert_aggregates_match_rows(cid)
    assert campana.estado == "completado" and lifecycle.counts(cid)["revision"] == 1


def test_crash_recovery_reconciles_a_row_twilio_did_create(app, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config, SMS_CLAIM_TIMEOUT=60)
    cid = campaign(tenants.admin_a, 2)
    stuck = rows(cid)[0]
    _leave_in_enviando(stuck.id, minutes_ago=5)
    # The crashed worker had reached Twilio before dying.
    message = make_twilio_client(app.config).messages.create(
        to=stuck.telefono, body=stuck.mensaje, **sender_kwargs(app.config)
    )
    sender.run_campaign(cid)
    stuck = rows(cid)[0]
    assert (stuck.estado, stuck.twilio_sid, stuck.requiere_revision) == ("enviado", message.sid, False)
    assert fake_twilio.duplicates() == [] and len(fake_twilio.created) == 2
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_a_recent_claim_of_another_worker_is_left_alone(app, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config, SMS_CLAIM_TIMEOUT=300)
    cid = campaign(tenants.admin_a, 2)
    busy = rows(cid)[0]
    _leave_in_enviando(busy.id, minutes_ago=0.1)
    sender.run_campaign(cid)
    busy = rows(cid)[0]
    assert (busy.estado, busy.requiere_revision) == ("enviando", False)
    assert fake_twilio.count_by(busy.telefono, busy.mensaje) == 0
    assert assert_aggregates_match_rows(cid).estado == "procesando"  # not complete while a row is in flight


def test_recovery_with_twilio_unreachable_flags_for_review(app, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config, SMS_CLAIM_TIMEOUT=60, SMS_MAX_ATTEMPTS=2)
    cid = campaign(tenants.admin_a, 1)
    _leave_in_enviando(rows(cid)[0].id, minutes_ago=10)
    fake_twilio.stop()
    sender.run_campaign(cid)
    row = rows(cid)[0]
    assert (row.estado, row.requiere_revision) == ("fallido", True)


def test_wrong_credentials_end_the_campaign_in_error_with_the_reason_on_each_row(
    app, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config, TWILIO_AUTH_TOKEN="equivocado", SMS_BATCH_SIZE=2, SMS_CONCURRENCY=1)
    cid = campaign(tenants.admin_a, 6)
    sender.run_campaign(cid)
    logs = rows(cid)
    assert all(r.estado == "fallido" and r.reintentable for r in logs)
    assert all("Credenciales de Twilio" in r.error_mensaje for r in logs)
    campana = assert_aggregates_match_rows(cid)
    assert campana.estado == "error" and "Credenciales" in campana.error_mensaje
    assert fake_twilio.created == []


def test_twilio_down_ends_the_campaign_in_error_and_sends_nothing(
    app, tenants, fake_twilio, twilio_app_config
):
    configure(
        app, twilio_app_config, SMS_BATCH_SIZE=2, SMS_CONCURRENCY=1, SMS_MAX_ATTEMPTS=2, SMS_ABORT_AFTER=2
    )
    cid = campaign(tenants.admin_a, 6)
    fake_twilio.stop()
    sender.run_campaign(cid)
    logs = rows(cid)
    assert all(r.estado == "fallido" and r.reintentable and not r.requiere_revision for r in logs), [
        r.error_mensaje for r in logs
    ]
    assert sum("No se pudo enviar tras 2 intentos" in r.error_mensaje for r in logs) == 2, [
        r.error_mensaje for r in logs
    ]
    assert all("Twilio no disponible" in r.error_mensaje for r in logs[2:])
    campana = assert_aggregates_match_rows(cid)
    assert campana.estado == "error" and "Twilio no disponible" in campana.error_mensaje
    assert fake_twilio.created == []


def test_rate_limit_is_never_exceeded(app, tenants, fake_twilio, twilio_app_config):
    """20 messages at 10/s are paced over ~1.9 s and never more than 10 arrive in one second."""
    configure(app, twilio_app_config, SMS_RATE_PER_SECOND=10, SMS_CONCURRENCY=8)
    cid = campaign(tenants.admin_a, 20)
    start = time.monotonic()
    sender.run_campaign(cid)
    elapsed = time.monotonic() - start
    assert elapsed >= 1.8  # paced: the 20th message leaves 19 slots of 0.1 s after the first
    times = sorted(m["t"] for m in fake_twilio.created)
    assert len(times) == 20
    # The limiter spaces the sends; arrival adds the network and thread scheduling on top of
    # it, so the window checked at the server leaves 0.1 s for that jitter.
    assert max(sum(1 for t in times if t0 <= t < t0 + 0.9) for t0 in times) <= 10
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert sum(gaps) / len(gaps) >= 0.09  # paced about every 0.1 s, not in bursts


def test_a_claim_takes_at_most_its_batch(app, tenants):
    """PostgreSQL once ran the claim's ``IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` again for
    every row updated, so one claim took the whole campaign: a crash then left every row in
    enviando (all flagged for review) and a second worker found nothing to send."""
    cid = campaign(tenants.admin_a, 10)
    assert lifecycle.begin(cid)  # claims take rows only while the campaign is procesando
    claims = [claim(cid, 4) for _ in range(4)]
    assert [len(c) for c in claims] == [4, 4, 2, 0]
    ids = [r.id for c in claims for r in c]
    assert len(set(ids)) == 10 and all(r.estado == "enviando" for r in rows(cid))


@pytest.fixture
def capped_twilio():
    """The fake Twilio in a process of its own, as Twilio is (this process' pauses are not its
    pauses), answering 429 past 50 creates in any rolling second; yields (url, app config)."""
    cmd = [sys.executable, "-m", "panel.testing.fake_server", "--latency", "0.05", "--rate-cap", "50"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        yield url, dict(proc.stdout.readline().strip().split("=", 1) for _ in range(4))
    finally:
        proc.terminate()
        proc.wait(10)


def test_paced_sends_never_exceed_the_cap_where_twilio_counts_them(app, tenants, capped_twilio):
    """At SMS_RATE_PER_SECOND=50 no rolling second ever holds more than 50 arrivals at Twilio
    (a 51st would be answered 429), not even when the sending process stalls now and then (as
    in a garbage collection), and the rate is not exceeded overall either."""
    url, config = capped_twilio
    configure(app, {**config, "TWILIO_TIMEOUT": 5}, SMS_RATE_PER_SECOND=50)
    cid = campaign(tenants.admin_a, 150)
    done = threading.Event()
    stalls = threading.Thread(target=_stall_now_and_then, args=(done,), daemon=True)
    start = time.monotonic()
    stalls.start()
    try:
        assert sender.run_campaign(cid)["enviado"] == 150
    finally:
        done.set()
    elapsed = time.monotonic() - start
    stats = requests.get(url + "/_fake/stats", timeout=10).json()
    assert (stats["rejected_429"], stats["created"], stats["duplicates"]) == (0, 150, [])
    assert elapsed >= 149 / 50


def _stall_now_and_then(done: threading.Event) -> None:
    """Every 0.4 s, keep the other threads of this process from running for ~0.1 s."""
    while not done.wait(0.4):
        hold_the_gil(0.1)


def test_the_pool_stays_fed_between_claims(app, tenants, fake_twilio, twilio_app_config):
    """Claiming one row at a time, 5 threads still keep 5 calls in flight: with each create held
    0.2 s at the fake, 5 are under way together at some moment. A sender that waited for each
    claim's sends before claiming again would never have more than one (one row a claim)."""
    configure(app, twilio_app_config, SMS_BATCH_SIZE=1, SMS_CONCURRENCY=5)
    lock, under_way, most = threading.Lock(), [0], [0]

    def held(message):  # counts the creates under way at once (not how long anything takes)
        with lock:
            under_way[0] += 1
            most[0] = max(most[0], under_way[0])
        time.sleep(0.2)
        with lock:
            under_way[0] -= 1

    fake_twilio.on_create = held
    cid = campaign(tenants.admin_a, 20)
    try:
        assert sender.run_campaign(cid)["enviado"] == 20
    finally:
        fake_twilio.on_create = None
    assert most[0] == 5
    assert len(fake_twilio.created) == 20 and fake_twilio.duplicates() == []
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_outcomes_finished_together_are_written_in_one_transaction_only_over_enviando(
    app, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 6)
    assert lifecycle.begin(cid)
    claimed = claim(cid, 6)
    messages = make_twilio_client(app.config).messages
    sent = [messages.create(to=r.telefono, body=r.mensaje, **sender_kwargs(app.config)) for r in claimed]
    finished = [(row, Result("sent", 1, message)) for row, message in zip(claimed, sent, strict=True)]
    finished[4] = (claimed[4], Result("permanent", 2, outcome=Outcome("permanent", 21211, "inválido")))
    taken = claimed[5].id  # meanwhile taken over and reconciled by another worker: no longer ours
    with db.engine.begin() as conn:
        conn.execute(SMSLog.__table__.update().where(SMSLog.__table__.c.id == taken).values(estado="fallido"))
    run = send_run._Run(cid)  # it reads the campaign's rules: not part of what store() costs
    seen = {"commit": 0, "statements": 0}
    count = {name: (lambda *a, _n=name, **k: seen.__setitem__(_n, seen[_n] + 1)) for name in seen}
    sa.event.listen(db.engine, "commit", count["commit"])
    sa.event.listen(db.engine, "before_cursor_execute", count["statements"])
    try:
        outcomes.store(run, finished)
    finally:
        sa.event.remove(db.engine, "commit", count["commit"])
        sa.event.remove(db.engine, "before_cursor_execute", count["statements"])
    # Sent rows, the failed row, estado_entrega; then the totals in the same transaction (the
    # campaign's lock — FOR NO KEY UPDATE on PostgreSQL, a write of its row on SQLite —, the
    # count, the update) and the cancelled-campaign guard.
    assert seen == {"commit": 1, "statements": 3 + 1 + 3}
    logs = rows(cid)
    assert [(r.estado, r.twilio_sid, r.intentos) for r in logs[:4]] == [
        ("enviado", m.sid, 1) for m in sent[:4]
    ]
    assert all(r.estado_entrega == "queued" for r in logs[:4])
    assert (logs[4].estado, logs[4].error_codigo, logs[4].intentos) == ("fallido", 21211, 2)
    assert (logs[5].estado, logs[5].twilio_sid) == ("fallido", None)  # not overwritten


def _sender_process(app, campana_id: int, **settings) -> subprocess.Popen:
    """A sender in a process of its own (so it can really crash), on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "REDIS_"))}
    env.update(PANEL_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    env.update({k: str(v) for k, v in app.config.items() if k.startswith("TWILIO_")})
    env.update({k: str(v) for k, v in settings.items()})
    code = "import sys; from panel import create_app; from panel.sms import runners; "
    code += "runners.run_in_app(create_app(), int(sys.argv[1]))"
    return subprocess.Popen([sys.executable, "-c", code, str(campana_id)], cwd=ROOT, env=env)


def _count(campana_id: int, estado: str) -> int:
    t = SMSLog.__table__
    with db.engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(t.c.id_campana == campana_id, t.c.estado == estado)
        return conn.scalar(stmt)


def test_a_crash_mid_campaign_loses_no_outcome_and_nothing_is_sent_twice(
    app, tenants, fake_twilio, twilio_app_config
):
    """SIGKILL a sender while outcomes are being written: every message Twilio created is on
    its row (enviado with the SID) or that row is still in enviando — at most concurrency + batch
    rows — and recovery reconciles those, re-sending nothing."""
    configure(app, twilio_app_config)
    fake_twilio.set(latency=0.05)
    cid = campaign(tenants.admin_a, 150)
    proc = _sender_process(app, cid, SMS_CONCURRENCY=4, SMS_BATCH_SIZE=4, SMS_RATE_PER_SECOND=0)
    deadline = time.monotonic() + 60
    while _count(cid, "enviado") < 30 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    time.sleep(0.2)  # the fake finishes the creates that were on the wire
    logs, created = rows(cid), {m["sid"]: m for m in fake_twilio.created}
    enviando = {(r.telefono, r.mensaje) for r in logs if r.estado == "enviando"}
    assert 0 < _count(cid, "pendiente") and 0 < len(enviando) <= 4 + 4
    assert {r.twilio_sid for r in logs if r.estado == "enviado"} <= set(created)
    recorded = {r.twilio_sid for r in logs}
    assert all((m["to"], m["body"]) in enviando for sid, m in created.items() if sid not in recorded)

    configure(app, twilio_app_config, SMS_CLAIM_TIMEOUT=0)  # the dead sender's claims are stale now
    sender.run_campaign(cid)
    logs = rows(cid)
    assert fake_twilio.duplicates() == []
    sids = [r.twilio_sid for r in logs if r.estado == "enviado"]
    assert sorted(sids) == sorted(m["sid"] for m in fake_twilio.created)  # each message on one row
    review = [r for r in logs if r.requiere_revision]
    assert all(r.estado == "fallido" and (r.telefono, r.mensaje) in enviando for r in review)
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_finished_campaign_is_not_run_again(app, tenants, fake_twilio, twilio_app_config):
    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 2)
    sender.run_campaign(cid)
    sender.run_campaign(cid)
    assert len(fake_twilio.created) == 2


def test_sender_and_webhook_work_under_row_level_security(rls_app, fake_twilio, twilio_app_config):  # noqa: F811
    """PostgreSQL RLS (a role that cannot bypass it): the background sender acts for every tenant,
    the outbox only inside the user's tenant."""
    from twilio.request_validator import RequestValidator

    configure(rls_app, twilio_app_config)
    admin = factories.snapshot(factories.user("rls.sms@test.co", "admin"))
    cid = campaign(admin, 2)
    assert sender.run_campaign(cid)["enviado"] == 2
    sid = rows(cid)[0].twilio_sid
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    signature = RequestValidator(twilio_app_config["TWILIO_AUTH_TOKEN"]).compute_signature(
        "http://localhost/twilio/status", params
    )
    response = rls_app.test_client().post(
        "/twilio/status", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 204
    assert rows(cid)[0].estado_entrega == "delivered"
    assert fake_twilio.duplicates() == []


def _finished(campana_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(CampanaSMS, campana_id).estado not in ("pendiente", "procesando")


def test_embedded_thread_resumes_pending_campaigns_on_start(app, tenants, fake_twilio, twilio_app_config):
    """After a restart the resident thread's first pass finds the campaigns left pending."""
    from panel.sms import runners

    configure(app, twilio_app_config, SMS_POLL_SECONDS=0.2)
    first, second = campaign(tenants.admin_a, 2), campaign(tenants.admin_a, 3)
    thread = runners.start_embedded(app)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(_finished(c) for c in (first, second)):
            time.sleep(0.1)
        for cid in (first, second):
            assert assert_aggregates_match_rows(cid).estado == "completado"
    finally:
        thread.stop()
        thread.join(5)
        app.extensions.pop("sms_embedded", None)
    assert len(fake_twilio.created) == 5 and fake_twilio.duplicates() == []


@pytest.mark.parametrize(
    "config,expected",
    [
        ({}, True),
        ({"SMS_EMBEDDED_SENDER": "0"}, False),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, False),
        ({"TESTING": True}, False),
    ],
)
def test_when_the_embedded_sender_runs(config, expected):
    from flask import Flask

    from panel.config import load
    from panel.sms.runners import embedded_enabled

    app = Flask("x")
    app.config.update(load({"TESTING": False, "REDIS_URL": None, **config}))
    assert embedded_enabled(app) is expected
