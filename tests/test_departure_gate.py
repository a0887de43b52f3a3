# ruff: noqa: F811 — pytest fixtures (keys, queue_name) are imported and then named as parameters
"""The departure gate (SPEC §18): at Twilio's pace of one message a second, with a batch of 32
rows claimed, a pause, a cancel or the window's close lets through only the request already on
the wire — counted at the fake Twilio — and the rest leave exactly once when sending resumes.

Everything real: the sender (the embedded thread, or an RQ worker), the database, the Twilio SDK
over HTTP to the fake. The clock is the test's where the window matters (time-machine)."""

import threading
from datetime import datetime

import pytest
import sqlalchemy as sa

from panel import clock, tenancy
from panel.extensions import db
from panel.formatting import BOGOTA
from panel.models import Cliente, NumeroExcluidoPropio, SMSLog
from panel.sms import elegibilidad, outbox, rne, runners, sender

from .api_support import keys  # noqa: F401 — the fixture
from .clock_fixtures import at
from .support.pages import url, wait_until
from .support.sms import (
    assert_aggregates_match_rows,
    bogota,
    campaign,
    campana,
    clientes,
    commercial,
    configure,
    poll_and_send,
    rows,
)

ONE_A_SECOND = {"SMS_RATE_PER_SECOND": 1, "SMS_BATCH_SIZE": 32, "SMS_CONCURRENCY": 4}


@pytest.fixture
def paced(app, twilio_app_config):
    """Twilio's pace for a long code: one message a second; 32 rows claimed at once."""
    configure(app, twilio_app_config, **ONE_A_SECOND)
    return app


def arrivals_after(fake_twilio, n: int):
    """A hook for the fake: counts the requests that arrive once ``n`` had arrived."""
    late = []

    def hook(message):
        if len(fake_twilio.created) > n:
            late.append(message)

    return late, hook


# --- a person stops it ------------------------------------------------------------------------


@pytest.mark.parametrize("action, estado_final", [("pausar", "pausada"), ("cancelar", "cancelada")])
def test_after_pause_or_cancel_only_the_request_on_the_wire_arrives(
    paced, tenants, fake_twilio, keys, action, estado_final
):
    cid = campaign(tenants.admin_a, 8)  # transactional: the hour CI runs at does not matter here
    thread = runners.dispatch(cid, paced)
    wait_until(lambda: fake_twilio.received_count >= 2, "los primeros envíos")
    answer = paced.test_client().post(url(cid, action), headers=keys.admin_a)
    at_answer = fake_twilio.received_count
    assert answer.status_code == 200 and answer.json["estado"] == estado_final, answer.json
    thread.join(60)
    assert not thread.is_alive()
    # The claim took all 8 rows; only the one whose request was being written may still arrive.
    assert fake_twilio.received_count <= at_answer + 1, (at_answer, fake_twilio.received_count)
    logs = rows(cid)
    unsent = "pendiente" if action == "pausar" else "cancelado"
    assert {r.estado for r in logs} == {"enviado", unsent}
    assert sum(r.estado == "enviado" for r in logs) == len(fake_twilio.created)
    assert_aggregates_match_rows(cid)
    if action == "pausar":
        resumed = paced.test_client().post(url(cid, "reanudar"), headers=keys.admin_a)
        assert resumed.status_code == 200, resumed.json
        wait_until(lambda: campana(cid).estado == "completado", "la campaña completada", seconds=90)
        assert len(fake_twilio.created) == 8 and fake_twilio.duplicates() == []
        assert all(r.estado == "enviado" for r in rows(cid))
        assert_aggregates_match_rows(cid)


# --- the window closes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, close, opening",
    [
        ("2026-12-09 18:59:55", datetime(2026, 12, 9, 19, 0, tzinfo=BOGOTA), "2026-12-10 07:00"),  # Wednesday
        ("2026-12-12 14:59:55", datetime(2026, 12, 12, 15, 0, tzinfo=BOGOTA), "2026-12-14 07:00"),  # Saturday
    ],
)
def test_at_the_windows_close_only_the_request_on_the_wire_arrives(
    paced, tenants, fake_twilio, start, close, opening
):
    ids = clientes(tenants.admin_a, 6)
    with at(start, tick=True) as traveller:
        cid = commercial(tenants.admin_a, ids)
        late, count_late = arrivals_after(fake_twilio, 2)

        def hook(message):
            count_late(message)
            if len(fake_twilio.created) == 2:  # the second request arrived: the window closes
                traveller.move_to(close)

        fake_twilio.on_create = hook
        sender.run_campaign(cid)  # the 6 rows were claimed at once, before the close
        fake_twilio.on_create = None
        assert late == [], [m["t"] for m in late]  # nothing left after the close
        assert len(fake_twilio.created) == 2
        c = campana(cid)
        assert c.estado == "programada" and c.siguiente_envio == bogota(opening)
        assert sorted(r.estado for r in rows(cid)) == ["enviado"] * 2 + ["pendiente"] * 4
        traveller.move_to(datetime.fromisoformat(opening).replace(tzinfo=BOGOTA))
        assert poll_and_send() == [cid]
    assert campana(cid).estado == "completado"
    assert len(fake_twilio.created) == 6 and fake_twilio.duplicates() == []
    assert_aggregates_match_rows(cid)


# --- the client's state changes after the claim ------------------------------------------------


def run_changing_after_first(fake_twilio, cid: int, change) -> None:
    """Run the campaign's sender; ``change`` happens once the first message arrived at the fake,
    while the other rows are claimed and waiting for their turn."""
    fake_twilio.on_create = _after_first(fake_twilio, change)
    try:
        sender.run_campaign(cid)
    finally:
        fake_twilio.on_create = None


def _after_first(fake_twilio, change):
    """Run ``change`` (in a thread of its own, with the app) once the first message arrived."""
    done = threading.Event()

    def hook(message):
        if len(fake_twilio.created) == 1 and not done.is_set():
            done.set()
            change()

    return hook


def test_a_client_who_withdraws_consent_after_the_claim_is_skipped_at_the_gate(paced, tenants, fake_twilio):
    ids = clientes(tenants.admin_a, 3)
    last = ids[-1]

    def withdraw():
        with paced.app_context(), tenancy.using(tenants.admin_a):
            db.session.get(Cliente, last).acepta_sms = False
            db.session.commit()

    with at("2026-12-09 10:00", tick=True):
        cid = commercial(tenants.admin_a, ids)
        run_changing_after_first(fake_twilio, cid, withdraw)
    skipped = {r.id_cliente: r for r in rows(cid)}[last]
    assert (skipped.estado, skipped.motivo) == ("omitido", elegibilidad.MOTIVOS["opt_out"])
    assert len(fake_twilio.created) == 2  # the other two left
    assert "3104000002" not in "".join(m["to"] for m in fake_twilio.created)
    assert_aggregates_match_rows(cid)


def test_a_number_excluded_by_hand_after_the_claim_is_skipped_at_the_gate(paced, tenants, fake_twilio):
    ids = clientes(tenants.admin_a, 3)

    def exclude():
        with paced.app_context(), tenancy.using(tenants.admin_a):
            db.session.add(NumeroExcluidoPropio(numero="+573104000002", motivo="A mano"))
            db.session.commit()

    with at("2026-12-09 10:00", tick=True):
        cid = campaign_to(tenants.admin_a, ids, tipo="transaccional")  # the tenant's list binds it too
        run_changing_after_first(fake_twilio, cid, exclude)
    skipped = {r.id_cliente: r for r in rows(cid)}[ids[-1]]
    assert (skipped.estado, skipped.motivo) == ("omitido", elegibilidad.MOTIVOS["excluido"])
    assert len(fake_twilio.created) == 2


def test_a_number_put_in_the_rne_after_the_claim_is_skipped_at_the_gate(paced, tenants, fake_twilio):
    ids = clientes(tenants.admin_a, 3)

    def register():
        with paced.app_context():
            rne.load(["+573104000002"])

    with at("2026-12-09 10:00", tick=True):
        cid = commercial(tenants.admin_a, ids)
        run_changing_after_first(fake_twilio, cid, register)
    skipped = {r.id_cliente: r for r in rows(cid)}[ids[-1]]
    assert (skipped.estado, skipped.motivo) == ("omitido", elegibilidad.MOTIVOS["rne"])
    assert len(fake_twilio.created) == 2


def test_a_phone_that_used_up_its_day_after_the_claim_is_skipped_at_the_gate(paced, tenants, fake_twilio):
    """Another commercial campaign reached the number after this one claimed it (e.g. a sender
    of another process that claimed first): the gate reads the day's use at the turn."""
    ids = clientes(tenants.admin_a, 3)
    with at("2026-12-09 10:00", tick=True):
        other = commercial(tenants.admin_a, [ids[-1]])
        cid = commercial(tenants.admin_a, ids)

        def other_sent():
            with paced.app_context():
                log = SMSLog.__table__
                mine = sa.and_(log.c.id_campana == other, log.c.estado == "pendiente")
                with db.engine.begin() as conn:
                    now = clock.utcnow()
                    conn.execute(log.update().where(mine).values(estado="enviado", enviado_en=now))

        run_changing_after_first(fake_twilio, cid, other_sent)
    skipped = {r.id_cliente: r for r in rows(cid)}[ids[-1]]
    assert (skipped.estado, skipped.motivo) == ("omitido", elegibilidad.MOTIVOS["tope"])
    assert len(fake_twilio.created) == 2


def campaign_to(owner, ids: list[int], **extra) -> int:
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        return outbox.create_campaign(
            user_id=owner.id, cliente_query=query, mensaje="Hola {nombre}", **extra
        ).id


# --- the review counts what is already planned -------------------------------------------------


def test_the_review_of_a_second_campaign_for_the_same_day_counts_the_first(app, tenants):
    ids = clientes(tenants.admin_a, 3)
    monday = datetime(2026, 12, 14, 10, 0)  # naive UTC: 05:00 in Bogotá, before the opening
    with at("2026-12-12 16:00"):  # a Saturday after the close: both wait for Monday
        first = commercial(tenants.admin_a, ids[:2], programada_para=monday)
        assert campana(first).estado == "programada"
        query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
        with tenancy.using(tenants.admin_a):
            review = outbox.dry_run(query, "Oferta {nombre}", programada_para=monday)
    assert review["enviables"] == 1, review
    reasons = {o["id_cliente"]: o["error_mensaje"] for o in review["omitidos"]}
    assert reasons == {i: "Ya tiene un SMS comercial programado ese día" for i in ids[:2]}
    # Another day is free: the same review for Wednesday counts nobody.
    with at("2026-12-12 16:00"), tenancy.using(tenants.admin_a):
        free = outbox.dry_run(query, "Oferta {nombre}", programada_para=datetime(2026, 12, 16, 15, 0))
    assert free["enviables"] == 3, free


# --- the same under RQ (PostgreSQL in CI's second pass) ----------------------------------------


@pytest.mark.parametrize("action, estado_final", [("pausar", "pausada"), ("cancelar", "cancelada")])
def test_under_rq_a_pause_or_cancel_lets_through_only_the_request_on_the_wire(
    app, tenants, fake_twilio, twilio_app_config, keys, queue_name, action, estado_final
):
    from .support.rq_workers import start_worker, worker_env

    configure(app, twilio_app_config, **ONE_A_SECOND)
    app.config.update(REDIS_URL=redis_url(), SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=1)
    cid = campaign(tenants.admin_a, 8)
    runners.dispatch(cid, app)
    env = worker_env(app, fake_twilio) | {k: str(v) for k, v in ONE_A_SECOND.items()}
    env["SMS_RATE_KEY"] = app.config["SMS_RATE_KEY"]
    worker = start_worker(env, queue_name)  # a burst worker: it ends once its queue is empty
    try:
        wait_until(lambda: fake_twilio.received_count >= 2, "los primeros envíos")
        answer = app.test_client().post(url(cid, action), headers=keys.admin_a)
        at_answer = fake_twilio.received_count
        assert answer.status_code == 200 and answer.json["estado"] == estado_final
    finally:
        output = stop(worker)  # its job ends with the pause or the cancel
    assert fake_twilio.received_count <= at_answer + 1, (at_answer, fake_twilio.received_count, output)
    unsent = "pendiente" if action == "pausar" else "cancelado"
    assert {r.estado for r in rows(cid)} == {"enviado", unsent}
    assert sum(r.estado == "enviado" for r in rows(cid)) == len(fake_twilio.created)
    assert_aggregates_match_rows(cid)
    if action == "cancelar":
        return
    resumed = app.test_client().post(url(cid, "reanudar"), headers=keys.admin_a)
    assert resumed.status_code == 200, resumed.json
    output = stop(start_worker(env, queue_name))
    assert campana(cid).estado == "completado", output
    assert len(fake_twilio.created) == 8 and fake_twilio.duplicates() == [], output
    assert_aggregates_match_rows(cid)


def test_under_rq_the_19_00_close_lets_through_only_the_request_on_the_wire(
    paced, tenants, fake_twilio, queue_name
):
    """A burst worker in this process: the test's clock is its clock (SPEC §15 "One clock")."""
    from rq import SimpleWorker

    from panel import jobs

    paced.config.update(
        REDIS_URL=redis_url(), SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=1, SMS_POLL_SECONDS=0.05
    )
    jobs.use_app(paced)
    queue = runners.queue(paced)
    work = lambda **kw: SimpleWorker([queue], connection=queue.connection).work(burst=True, **kw)  # noqa: E731
    ids = clientes(tenants.admin_a, 6)
    try:
        with at("2026-12-09 18:59:55", tick=True) as traveller:
            cid = commercial(tenants.admin_a, ids)
            late, count_late = arrivals_after(fake_twilio, 2)

            def hook(message):
                count_late(message)
                if len(fake_twilio.created) == 2:
                    traveller.move_to(datetime(2026, 12, 9, 19, 0, tzinfo=BOGOTA))

            fake_twilio.on_create = hook
            runners.dispatch(cid, paced)
            work(max_jobs=1)
            fake_twilio.on_create = None
            assert late == [] and len(fake_twilio.created) == 2
            assert campana(cid).estado == "programada"
            traveller.move_to(datetime(2026, 12, 10, 7, 0, tzinfo=BOGOTA))
            work()
    finally:
        jobs.use_app(None)
    assert campana(cid).estado == "completado"
    assert len(fake_twilio.created) == 6 and fake_twilio.duplicates() == []
    assert_aggregates_match_rows(cid)


def redis_url() -> str:
    from .services import REDIS_URL

    return REDIS_URL


def stop(worker) -> str:
    """End a worker (a burst worker ends by itself once its queue is empty)."""
    try:
        return worker.communicate(timeout=120)[0]
    except Exception:  # noqa: BLE001 — a stuck worker must not outlive the test
        worker.kill()
        return worker.communicate()[0]
