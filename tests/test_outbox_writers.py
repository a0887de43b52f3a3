"""The outbox written fast (issue #31): a preparation's next chunk planned while one is written
(panel/ahead.py), two chunks written at once behind one chain of checkpoints
(panel/sms/writers.py), and sms_log's SID and cap indexes holding only the rows that left.

Real database (both engines), real threads. The preparation's whole behaviour (nothing sends
before the outbox is whole, a killed preparer resumed, "Cancelar" mid-way) is
tests/test_preparando.py's, which runs these writers on PostgreSQL.
"""

import signal
import threading
import time

import pytest
import sqlalchemy as sa

from panel import ahead, tenancy
from panel.extensions import db
from panel.models import CampanaSMS, Cliente, utcnow
from panel.sms import lifecycle, outbox, writers
from panel.sms.planning import OutboxError, plan

from . import factories
from .support.sms import configure, rows

pytestmark = pytest.mark.usefixtures("ventana_abierta")
WAIT = 30  # seconds a thread is given to reach a point (a bound, not a measure)


def _index_sql(name: str) -> str:
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name})
    return db.session.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name})


def test_sms_log_sid_and_cap_indexes_hold_only_the_rows_that_left(app):
    sid, cap = _index_sql("ix_sms_log_twilio_sid"), _index_sql("ix_sms_log_tope")
    assert "twilio_sid" in sid and "telefono" in cap  # the indexes are there
    assert "WHERE" in sid.upper() and "twilio_sid IS NOT NULL" in sid
    assert "WHERE" in cap.upper() and "enviado_en IS NOT NULL" in cap


def test_the_planner_runs_one_item_ahead_and_raises_its_error_in_the_caller(app):
    made, second = [], threading.Event()

    def make(item: int) -> int:
        made.append(item)
        if item == 2:
            second.set()
        if item == 3:
            raise OutboxError("la plantilla falló")
        return item * 10

    worker = ahead.Ahead(make)
    taken = worker.run([1, 2, 3])
    try:
        assert next(taken) == 10
        assert second.wait(WAIT), "the planner did not plan the next item meanwhile"
        assert next(taken) == 20
        with pytest.raises(OutboxError, match="la plantilla falló"):
            next(taken)
    finally:
        worker.stop()
    assert made == [1, 2, 3] and not worker.thread.is_alive()


def test_a_caller_that_stops_early_stops_the_planner(app):
    worker = ahead.Ahead(lambda item: item)
    taken = worker.run(range(1000))
    assert next(taken) == 0
    worker.stop()  # the planner is blocked handing over the next item: it gives up
    assert not worker.thread.is_alive()


def test_the_items_are_taken_one_at_a_time_in_the_thread(app):
    """An import's rows are read by the thread as it goes: never the whole file at once."""
    pulled, taken_by = [], set()

    def items():
        for n in range(1000):
            pulled.append(n)
            taken_by.add(threading.current_thread().name)
            yield n

    made = ahead.ahead(lambda item: item, items(), name="importa-lectura")
    assert next(made) == 0
    assert next(made) == 1
    assert len(pulled) <= 4, f"{len(pulled)} items taken for 2 handed over"
    made.close()  # the caller stops: the thread is stopped and joined
    assert taken_by == {"importa-lectura"}
    assert not any(t.name == "importa-lectura" for t in threading.enumerate())


@pytest.fixture
def preparing(app, twilio_app_config, tenants):
    """A campaign ``preparando`` to 10 clients, taken by this test's preparer (its token)."""
    configure(app, twilio_app_config, SMS_PREPARE_FROM=5)
    owner = tenants.admin_a
    ids = [factories.cliente(owner, telefono=f"300888{i:04d}").id_cliente for i in range(10)]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        campana = outbox.create_campaign(user_id=owner.id, cliente_query=query, mensaje="Hola {nombre}")
    assert campana.estado == lifecycle.PREPARING and rows(campana.id) == []
    token = utcnow()
    with db.engine.begin() as conn:
        assert lifecycle.take_preparation(conn, campana.id, campana.preparacion_latido, token)
    return campana.id, owner.tenant_id, ids, token


def _plans(owner_tenant: int, ids: list[int], size: int) -> list:
    with tenancy.using(owner_tenant):
        return [
            plan(sa.select(Cliente).where(Cliente.id_cliente.in_(ids[i : i + size])), "Hola {nombre}")
            for i in range(0, len(ids), size)
        ]


def test_two_writers_have_two_chunks_in_flight_and_one_chain_of_checkpoints(preparing):
    campana_id, tenant, ids, token = preparing
    made = _plans(tenant, ids, 4)  # 3 chunks
    takers: set[str] = set()
    both = threading.Event()

    def handed_out():
        for p in made:
            takers.add(threading.current_thread().name)  # the writer taking this chunk
            if len(takers) == 2:
                both.set()
            yield p

    held = []

    def after_chunk(_campana_id: int, written: int) -> None:
        if not held:  # the first committed chunk waits until the other writer took one
            held.append(both.wait(WAIT))

    fence = writers.Fence(campana_id, tenant, token, after_chunk)
    with tenancy.using(tenant):
        assert writers.at_once(fence, handed_out(), 2)
    assert held == [True] and takers == {"sms-escritor-0", "sms-escritor-1"}
    assert sorted(r.id_cliente for r in rows(campana_id)) == sorted(ids) and fence.written == 10
    db.session.rollback()
    latido = db.session.scalar(sa.select(CampanaSMS.preparacion_latido).where(CampanaSMS.id == campana_id))
    assert latido == fence.token != token  # each checkpoint moved the token on, the last one is ours


def test_a_refused_checkpoint_rolls_its_chunk_back_and_stops_every_writer(preparing):
    campana_id, tenant, ids, token = preparing
    made = _plans(tenant, ids, 4)
    assert writers.Fence(campana_id, tenant, token, None).write(made[0].rows)  # the positive path
    assert len(rows(campana_id)) == 4
    stale = writers.Fence(campana_id, tenant, token, None)  # its token is no longer the campaign's
    with tenancy.using(tenant):
        assert writers.at_once(stale, iter(made[1:]), 2) is False
    assert stale.lost and stale.written == 0
    assert len(rows(campana_id)) == 4  # nothing of the refused chunks was kept


def _join_once_started(thread: threading.Thread) -> None:
    """Wait for a writer to end. The timeout can land while ``at_once`` is starting it: the thread
    is then listed but has not yet said it started, and joining it raises (CI met it once)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return thread.join(WAIT)
        except RuntimeError:  # "cannot join thread before it is started"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def test_a_preparer_interrupted_while_its_writers_run_commits_nothing_more(preparing):
    """An RQ job's timeout is an exception raised in the preparer's thread (SIGALRM) while it
    waits for its writers: they must not go on committing chunks for a preparer that is gone."""
    campana_id, tenant, ids, token = preparing
    made = _plans(tenant, ids, 4)
    interrupted, held = threading.Event(), []

    def after_chunk(_campana_id: int, written: int) -> None:
        if not held:  # the first chunk is committed: the job's time runs out, its writer is held
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            held.append(interrupted.wait(WAIT))

    def timeout(_signum, _frame):
        raise TimeoutError("la tarea excedió su tiempo")

    fence = writers.Fence(campana_id, tenant, token, after_chunk)
    previous = signal.signal(signal.SIGALRM, timeout)
    try:
        with tenancy.using(tenant), pytest.raises(TimeoutError):
            writers.at_once(fence, iter(made), 2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        interrupted.set()
    for t in [t for t in threading.enumerate() if t.name.startswith("sms-escritor-")]:
        _join_once_started(t)
    assert held == [True] and fence.lost
    assert len(rows(campana_id)) == 4  # the chunk committed before; none after
