"""The sender against the fake Twilio over real HTTP, with the real SDK."""

import itertools
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.models import CampanaSMS, Cliente, SMSLog, utcnow
from panel.sms import outbox, sender
from panel.sms.client import make_twilio_client, sender_kwargs

from . import factories
from .test_rls import rls_app  # noqa: F401 — the fixture: a PostgreSQL role bound by RLS

_keys = itertools.count()


def configure(app, twilio_app_config, **extra):
    """Point the app's sender at the fake, with fast retries and a private rate-limit key."""
    settings = {
        "SMS_RETRY_BACKOFF": 0.01,
        "SMS_RATE_PER_SECOND": 0,
        "SMS_RATE_KEY": f"test:sms:{next(_keys)}",
    }
    app.config.update({**twilio_app_config, **settings, **extra})


def campaign(owner, n: int = 3, mensaje: str = "Hola {nombre}", **fields) -> int:
    """A pending campaign of ``n`` sendable clients of ``owner``; returns its id."""
    ids = [
        factories.cliente(owner, telefono=f"3002{i:06d}{n % 10}"[:10], **fields).id_cliente for i in range(n)
    ]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        campana = outbox.create_campaign(
            user_id=owner.id, cliente_query=query, mensaje=mensaje, nombre="Prueba"
        )
    return campana.id


def rows(campana_id: int) -> list[SMSLog]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(SMSLog).where(SMSLog.id_campana == campana_id).order_by(SMSLog.id))
    )


def assert_aggregates_match_rows(campana_id: int) -> CampanaSMS:
    """The campaign's totals equal the counts of its log rows."""
    db.session.expire_all()
    campana = db.session.get(CampanaSMS, campana_id)
    logs = rows(campana_id)
    assert campana.total_clientes == len(logs)
    assert campana.enviados_exitosos == sum(r.estado == "enviado" for r in logs)
    assert campana.enviados_fallidos == sum(r.estado == "fallido" for r in logs)
    return campana


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
    assert campana.estado == "completado" and outbox.counts(cid)["revision"] == 1


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
    claims = [sender.claim(cid, 4) for _ in range(4)]
    assert [len(c) for c in claims] == [4, 4, 2, 0]
    ids = [r.id for c in claims for r in c]
    assert len(set(ids)) == 10 and all(r.estado == "enviando" for r in rows(cid))


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

    from panel.sms import embedded_enabled

    app = Flask("x")
    app.config.update({"TESTING": False, **config})
    assert embedded_enabled(app) is expected
