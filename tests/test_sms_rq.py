"""At scale: RQ jobs on real Redis, run by real ``rq worker`` processes (and by a burst worker in
this process, where the test's app is the worker's app), share one campaign."""

from datetime import UTC, timedelta

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job

from panel import jobs
from panel.extensions import db
from panel.models import SMSLog, utcnow
from panel.sms import runners

from .services import REDIS_URL, require_redis
from .support.rq_workers import start_worker, worker_env
from .support.sms import assert_aggregates_match_rows, campaign, configure, rows


def run_workers(app, fake, queue: str, n: int = 2, **settings) -> list[str]:
    env = worker_env(app, fake) | {k: str(v) for k, v in settings.items()}
    workers = [start_worker(env, queue) for _ in range(n)]
    outputs = [w.communicate(timeout=180)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    return outputs


def test_two_workers_share_one_campaign_without_duplicates(app, tenants, fake_twilio, queue_name):
    fake_twilio.set(latency=0.02)
    cid = campaign(tenants.admin_a, 60)
    app.config.update(REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=4)
    jobs = runners.dispatch(cid, app)
    assert len(jobs) == 4
    run_workers(app, fake_twilio, queue_name)
    connection = Redis.from_url(REDIS_URL)
    finished = [Job.fetch(job.id, connection=connection) for job in jobs]
    assert all(job.get_status() == "finished" for job in finished)
    assert len({job.worker_name for job in finished}) == 2  # both workers took part
    assert all(r.estado == "enviado" for r in rows(cid))
    assert len(fake_twilio.created) == 60 and fake_twilio.duplicates() == []
    assert {m["sid"] for m in fake_twilio.created} == {r.twilio_sid for r in rows(cid)}
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_a_row_left_enviando_by_a_dead_worker_is_not_resent(app, tenants, fake_twilio, queue_name):
    cid = campaign(tenants.admin_a, 4)
    stuck = rows(cid)[0]
    with db.engine.begin() as conn:  # a worker died between its claim and Twilio's answer
        conn.execute(
            SMSLog.__table__.update()
            .where(SMSLog.__table__.c.id == stuck.id)
            .values(estado="enviando", reclamado=utcnow() - timedelta(minutes=10))
        )
    app.config.update(REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=2)
    runners.dispatch(cid, app)
    run_workers(app, fake_twilio, queue_name)
    stuck = rows(cid)[0]
    # Older than SMS_CLAIM_TIMEOUT: reconciled with Twilio (nothing there) → review, not re-sent.
    assert (stuck.estado, stuck.requiere_revision) == ("fallido", True)
    assert fake_twilio.count_by(stuck.telefono, stuck.mensaje) == 0
    assert len(fake_twilio.created) == 3 and fake_twilio.duplicates() == []
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_a_job_timeout_returns_the_rows_not_sent_yet_and_records_what_was(
    app, tenants, fake_twilio, queue_name
):
    """RQ stops a job past its timeout with an exception in the middle of sending: the claimed rows
    not handed to Twilio yet go back to pendiente, the sends under way end and are written, so no
    row is left in enviando for review and nothing is sent unrecorded."""
    # The timeout also covers the worker building its app (5 s were not enough on a machine running
    # both engines' suites at once): 20 s at 1 msg/s leaves room for that and still stops the job
    # long before its 60 rows are sent.
    cid = campaign(tenants.admin_a, 60)
    app.config.update(REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=1, SMS_JOB_TIMEOUT=20)
    runners.dispatch(cid, app)
    run_workers(app, fake_twilio, queue_name, n=1, SMS_RATE_PER_SECOND=1, SMS_CONCURRENCY=2, SMS_BATCH_SIZE=6)
    logs = rows(cid)
    estados = [r.estado for r in logs]
    assert estados.count("enviando") == 0 and estados.count("fallido") == 0
    assert 0 < estados.count("enviado") < 30 and estados.count("pendiente") > 25
    sent = sorted(r.twilio_sid for r in logs if r.estado == "enviado")
    assert sent == sorted(m["sid"] for m in fake_twilio.created) and fake_twilio.duplicates() == []
    assert all(r.reclamado is None for r in logs if r.estado == "pendiente")


@pytest.mark.parametrize("name", [runners.RUN_CAMPAIGN, runners.RESUME_ACTIVE])
def test_the_job_names_the_queue_carries_resolve_to_the_jobs_module(name):
    require_redis()
    job = Job.create(
        name, args=(1,) if name == runners.RUN_CAMPAIGN else (), connection=Redis.from_url(REDIS_URL)
    )
    assert job.func is getattr(jobs, name.rpartition(".")[2])
    assert job.func.__module__ == "panel.jobs"


@pytest.fixture
def in_process_worker(app):
    """The jobs of this process run in the test's app (a worker process builds its own)."""
    jobs.use_app(app)
    yield lambda queue: SimpleWorker([queue], connection=queue.connection).work(burst=True)
    jobs.use_app(None)


def test_a_burst_worker_in_this_process_sends_a_dispatched_campaign(
    app, tenants, fake_twilio, twilio_app_config, queue_name, in_process_worker
):
    configure(app, twilio_app_config, REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=2)
    cid = campaign(tenants.admin_a, 5)
    enqueued = runners.dispatch(cid, app)
    assert [job.func_name for job in enqueued] == [runners.RUN_CAMPAIGN] * 2  # by name, not by object
    in_process_worker(runners.queue(app))
    assert all(job.get_status(refresh=True) == "finished" for job in enqueued)
    assert [r.estado for r in rows(cid)] == ["enviado"] * 5
    assert len(fake_twilio.created) == 5 and fake_twilio.duplicates() == []
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_the_resume_job_sends_every_campaign_left_active(
    app, tenants, fake_twilio, twilio_app_config, queue_name, in_process_worker
):
    configure(app, twilio_app_config, REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name)
    first, second = campaign(tenants.admin_a, 2), campaign(tenants.admin_a, 3)
    job = runners.queue(app).enqueue(runners.RESUME_ACTIVE)
    in_process_worker(runners.queue(app))
    assert job.get_status(refresh=True) == "finished" and job.return_value() == [first, second]
    assert len(fake_twilio.created) == 5 and fake_twilio.duplicates() == []
    assert {assert_aggregates_match_rows(c).estado for c in (first, second)} == {"completado"}


def test_a_scheduled_campaign_is_started_once_by_racing_workers_and_sends_nothing_early(
    app, tenants, fake_twilio, queue_name
):
    """The schedule lives in the database: two plain burst workers each run a poll_due job; both
    look at the due time, exactly one claims the start, and nothing reaches Twilio before it."""
    from panel import clock
    from panel.sms import lifecycle

    from .support.sms import scheduled

    due = clock.utcnow() + timedelta(seconds=3)
    cid = scheduled(tenants.admin_a, 6, due)
    app.config.update(REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=2)
    q = runners.queue(app)
    polls = [q.enqueue(runners.POLL_DUE) for _ in range(2)]  # two pollers racing for one start
    run_workers(app, fake_twilio, queue_name, SMS_QUEUE=queue_name, SMS_POLL_SECONDS=5)
    started = [Job.fetch(job.id, connection=q.connection).return_value() for job in polls]
    assert sorted(started, key=len) == [[], [cid]]
    assert all(m["t"] >= due.replace(tzinfo=UTC).timestamp() for m in fake_twilio.created)
    assert len(fake_twilio.created) == 6 and fake_twilio.duplicates() == []
    assert assert_aggregates_match_rows(cid).estado == "completado"
    assert lifecycle.progress(cid)["siguiente_envio"] is None
