"""Import jobs in the background (SPEC §17 "In the background", §11): the upload answers at once
and the preview runs on the import queue (or a thread of its own) with its progress on the page;
a job whose worker died is shown as "Fallida" with "Reintentar", which finishes it once; imports
never delay an SMS campaign, on RQ (their own queue and workers) or on the embedded runner (their
own thread)."""

import contextlib
import functools
import io
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job

from panel import jobs, tenancy
from panel.clock import now
from panel.extensions import db
from panel.importing import background, estado, service
from panel.importing.rows import CHUNK
from panel.models import CampanaSMS, Historial, ImportacionClientes, SMSLog
from panel.sms import runners

from .helpers import csrf_from, login
from .import_support import clientes, csv_bytes, row
from .services import REDIS_URL, require_redis
from .support.rq_workers import RQ, worker_env
from .support.sms import assert_aggregates_match_rows, campaign, configure

URL = "/admin/clientes/importar/"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = ImportacionClientes.__table__
PREVIEWED = 5_000  # rows of the files whose preview is watched
# Rows of the imports whose worker is killed mid-way (after the first 1,000-row chunk): `make
# test` leaves four chunks after the kill; `make reliability` the full 10,000.
KILLED = int(os.environ.get("IMPORT_KILLED_ROWS", 5_000))
# Rows of the import a campaign runs beside on RQ: `make test` 20,000, enough to outlast the
# 24-message campaign; `make reliability` the figure, 50,000.
BESIDE_SMS = int(os.environ.get("IMPORT_BESIDE_SMS_ROWS", 20_000))
BESIDE_THREAD = 20_000  # the same on the embedded runner: enough to outlast the campaign, cheaper


@functools.cache
def _file(n: int) -> bytes:
    return csv_bytes([row(i) for i in range(1, n + 1)], delimiter=";")


def _upload(client, data: bytes, name: str = "clientes.csv") -> int:
    page = client.get(URL)
    form = {"csrf_token": csrf_from(page.data), "modo": "crear", "errores": "omitir"}
    form["archivo"] = (io.BytesIO(data), name)
    response = client.post(URL, data=form, content_type="multipart/form-data")
    assert response.status_code == 302, response.data[:2000]
    return int(re.search(r"/importar/(\d+)/", response.headers["Location"]).group(1))


def _progress(client, job_id: int) -> dict:
    response = client.get(f"{URL}{job_id}/progreso.json")
    assert response.status_code == 200
    return response.get_json()


def _poll(client, job_id: int, seen: list, timeout: float = 120) -> dict:
    """Poll the progress JSON (bounded) until the job stops running; every answer goes to ``seen``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(_progress(client, job_id))
        if seen[-1]["terminado"]:
            return seen[-1]
        time.sleep(0.02)
    raise AssertionError(f"la importación {job_id} no terminó: {seen[-1]}")


def _row(job_id: int):
    """The job as stored now (a fresh read: other processes write it)."""
    db.session.rollback()
    with tenancy.using(tenancy.EVERY_TENANT):
        return db.session.execute(sa.select(TABLE).where(TABLE.c.id == job_id)).one()


def _until(condition, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.02)
    raise AssertionError(f"no llegó: {what}")


def _assert_moved_forward(seen: list[dict], estado_en_curso: str, total: int) -> None:
    done = [p["procesadas"] for p in seen if p["estado"] == estado_en_curso]
    assert done == sorted(done) and any(0 < n < total for n in done), [p["estado"] for p in seen]


def _historial(nombre: str) -> int:
    db.session.rollback()
    with tenancy.using(tenancy.EVERY_TENANT):
        resumenes = db.session.scalars(sa.select(Historial.resumen)).all()
    return sum(f"«{nombre}»" in (r or "") for r in resumenes)


@pytest.fixture
def import_queue(app):
    require_redis()
    name = f"import-test-{secrets.token_hex(4)}"
    app.config.update(REDIS_URL=REDIS_URL, IMPORT_QUEUE=name)
    jobs.use_app(app)  # the in-process burst worker runs the jobs in the test's app
    yield Queue(name, connection=Redis.from_url(REDIS_URL))
    jobs.use_app(None)
    Queue(name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


def _burst(queue: Queue) -> None:
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


# --- the preview in the background -----------------------------------------------------------


def test_the_upload_answers_at_once_and_the_preview_runs_on_the_import_queue(
    app, client, tenants, import_queue
):
    login(client, tenants.admin_a.email)
    job_id = _upload(client, _file(PREVIEWED))
    assert [j.func_name for j in import_queue.jobs] == [background.RUN_PREVIEW]  # nothing read yet
    page = client.get(f"{URL}{job_id}/").get_data(as_text=True)
    assert 'data-estado="recibido"' in page and "Vista previa en cola" in page
    assert 'data-testid="vista-previa"' not in page and "importar.js" in page  # the page polls
    seen: list[dict] = []
    poller = app.test_client()  # reads the progress while this thread is the worker
    login(poller, tenants.admin_a.email)
    watching = threading.Thread(target=_poll, args=(poller, job_id, seen))
    watching.start()
    _burst(import_queue)
    watching.join(timeout=180)
    _assert_moved_forward(seen, "previsualizando", PREVIEWED)
    assert seen[-1]["estado"] == "previsualizada" and seen[-1]["total"] is None  # a preview's
    page = client.get(f"{URL}{job_id}/").get_data(as_text=True)
    assert (
        'data-testid="vista-previa"' in page
        and f'data-campo="nuevos">{PREVIEWED:,}<'.replace(",", ".") in page
    )
    assert clientes(tenants.admin_a.id) == {}  # a preview writes nothing


def test_the_preview_runs_on_a_thread_of_its_own_without_redis(app, client, tenants):
    login(client, tenants.admin_a.email)
    before = {t.name for t in threading.enumerate()}
    job_id = _upload(client, _file(PREVIEWED))
    seen: list[dict] = []
    _poll(client, job_id, seen)
    assert f"import-{job_id}" not in before
    _assert_moved_forward(seen, "previsualizando", PREVIEWED)
    assert seen[-1]["estado"] == "previsualizada"
    assert 'data-testid="vista-previa"' in client.get(f"{URL}{job_id}/").get_data(as_text=True)


# --- a dead worker: "Fallida", "Reintentar" ---------------------------------------------------


def test_a_preview_whose_rq_job_was_lost_is_fallida_and_reintentar_runs_it_once(
    app, client, tenants, import_queue
):
    login(client, tenants.admin_a.email)
    job_id = _upload(client, _file(10))
    assert _progress(client, job_id)["estado"] == "recibido"  # queued, not taken for dead
    Job.fetch(import_queue.job_ids[0], connection=import_queue.connection).delete()  # Redis lost it
    p = _progress(client, job_id)
    assert (p["estado"], p["etiqueta"], p["reintentar"], p["terminado"]) == ("fallida", "Fallida", True, True)
    page = client.get(f"{URL}{job_id}/")
    assert page.status_code == 200 and 'data-testid="reintentar"' in page.get_data(as_text=True)
    token = csrf_from(page.data)
    assert client.post(f"{URL}{job_id}/reintentar/", data={"csrf_token": token}).status_code == 302
    assert client.post(f"{URL}{job_id}/reintentar/", data={"csrf_token": token}).status_code == 302
    assert [j.func_name for j in import_queue.jobs] == [background.RUN_PREVIEW]  # once, not twice
    _burst(import_queue)
    p = _progress(client, job_id)
    assert (p["estado"], p["reintentar"]) == ("previsualizada", False)
    assert _row(job_id).vista_previa["nuevos"] == 10


def _killable(command: list[str], env: dict) -> subprocess.Popen:
    """A process (and whatever it forks: RQ's work horse) in a group of its own, to kill at once;
    its output in a file, read when it fails."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)
    process.log = log
    return process


def _output(process: subprocess.Popen) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-4000:]


def _worker_process(app, runner: str, fase: str, job_id: int, intento: str, queue: Queue | None):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env |= {"PANEL_ENV": "testing", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    if runner == "rq":
        background.dispatch(job_id, intento, app, fase)
        return _killable(
            [RQ, "worker", "--burst", "--url", REDIS_URL, queue.name], env | {"REDIS_URL": REDIS_URL}
        )
    return _killable([sys.executable, "-m", "tests.import_worker", fase, str(job_id), intento], env)


@pytest.fixture(params=["rq", "thread"])
def runner(request, app):
    """Where the killed worker ran: an ``rq worker`` process, or a web process's own thread."""
    if request.param == "rq":
        yield request.param, request.getfixturevalue("import_queue")
    else:
        yield request.param, None


def _kill_when(process: subprocess.Popen, condition, what: str):
    try:
        found = _until(condition, what)
    finally:
        _kill(process)
    return found


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the process, its group and every process forked from it: RQ's work horse leaves
    its parent's group (``os.setpgrp``), so killing the group alone left the horse importing
    on its own (CI once saw the "killed" import completado)."""
    forked = _descendants(process.pid)  # read while the parent lives: the horse's parent is it
    os.killpg(process.pid, signal.SIGKILL)
    for pid in forked:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)
    _until(lambda: not any(map(_running, forked)), "los procesos hijos terminados")


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _descendants(pid: int) -> list[int]:
    """The processes forked from ``pid``, at any depth, read from /proc."""
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # ended while we looked
        parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += frontier
    return found


def _later(app):
    """This process's clock past the heartbeat's limit: the killed worker has been silent too long."""
    return time_machine.travel(
        now() + timedelta(seconds=app.config["IMPORT_HEARTBEAT_SECONDS"] + 5), tick=True
    )


def _retry(client, job_id: int, queue: Queue | None) -> dict:
    page = client.get(f"{URL}{job_id}/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-estado="fallida"' in text and "Se detuvo el proceso" in text
    assert client.post(f"{URL}{job_id}/reintentar/", data={"csrf_token": csrf_from(text)}).status_code == 302
    if queue is not None:
        _burst(queue)
    return _poll(client, job_id, [])


def test_a_killed_workers_import_is_fallida_and_reintentar_resumes_it_without_duplicates(
    app, client, tenants, runner
):
    kind, queue = runner
    login(client, tenants.admin_a.email)
    tenant = tenants.admin_a.id
    job = service.create(_file(KILLED), "muerto.csv", tenant, tenant, confirmada=True)
    worker = _worker_process(app, kind, estado.IMPORTACION, job.id, job.intento, queue)
    killed = _kill_when(
        worker, lambda: (r := _row(job.id)).escritas >= 1000 and r, "el primer bloque escrito"
    )
    stored = _row(job.id)
    assert stored.estado == "importando" and stored.escritas < KILLED, "killed mid-way"
    # The checkpoint is exact: the rows written are the rows it counted, in one transaction each.
    assert len(clientes(tenant)) == stored.escritas == stored.nuevos >= killed.escritas
    assert _progress(client, job.id)["estado"] == "importando"  # a fresh heartbeat: not dead yet
    with _later(app):
        assert _progress(client, job.id)["reintentar"] is True
        done = _retry(client, job.id, queue)
        assert (done["estado"], done["nuevos"], done["con_errores"]) == ("completado", KILLED, 0)
        assert len(clientes(tenant)) == KILLED  # none twice, none missing
        token = csrf_from(client.get(f"{URL}{job.id}/").data)
        client.post(f"{URL}{job.id}/reintentar/", data={"csrf_token": token})  # a second click: nothing
    assert _row(job.id).estado == "completado" and _historial("muerto.csv") == 1


def test_a_killed_workers_preview_is_fallida_and_reintentar_computes_it(app, client, tenants, runner):
    kind, queue = runner
    login(client, tenants.admin_a.email)
    job = service.create(_file(KILLED), "vista.csv", tenants.admin_a.id, tenants.admin_a.id)
    worker = _worker_process(app, kind, estado.VISTA, job.id, job.intento, queue)
    _kill_when(worker, lambda: _row(job.id).procesadas >= 1000, "el primer bloque leído")
    assert _row(job.id).estado == "previsualizando"
    with _later(app):
        page = client.get(f"{URL}{job.id}/").get_data(as_text=True)
        assert "Vista previa: vista.csv" in page and 'data-testid="reintentar"' in page
        done = _retry(client, job.id, queue)
    assert done["estado"] == "previsualizada" and _row(job.id).vista_previa["nuevos"] == KILLED
    assert clientes(tenants.admin_a.id) == {}


def test_a_worker_taken_for_dead_writes_nothing_after_the_retry(app, tenants):
    """A worker that was only slow: its job was failed and retried meanwhile; its next chunk's
    progress (and with it the chunk) is refused, so two attempts never both write."""
    tenant = tenants.admin_a.id
    job = service.create(_file(3), "lento.csv", tenant, tenant, confirmada=True)
    old = estado.claim(job.id)
    assert old and _row(job.id).estado == "importando"
    assert estado.fail(job.id, estado.SE_DETUVO, intento=old)
    fase, new = estado.retry(job.id)
    assert (fase, _row(job.id).estado) == ("importacion", "pendiente") and new != old
    with tenancy.using(tenant), pytest.raises(estado.Abandonada):
        estado.beat(db.session.get(ImportacionClientes, job.id), old, estado.Resumen(total=3, nuevos=3))
    assert _row(job.id).procesadas == 0
    assert service.run(job.id, old).total == 0  # the old attempt's job, run late: nothing
    assert service.run(job.id, new).nuevos == 3 and _row(job.id).estado == "completado"


# --- imports never delay SMS ----------------------------------------------------------------


def _big_import(tenant: int, n: int = BESIDE_SMS) -> ImportacionClientes:
    return service.create(_file(n), "grande.csv", tenant, tenant, confirmada=True)


def _campaign_done_while_importing(campana_id: int, job_id: int, sent: list, rows: int = BESIDE_SMS) -> None:
    """Wait for the campaign to complete, then look at the import: still running, rows ahead."""

    def completed():
        db.session.rollback()
        with tenancy.using(tenancy.EVERY_TENANT):
            return (
                db.session.scalar(sa.select(CampanaSMS.estado).where(CampanaSMS.id == campana_id))
                == "completado"
            )

    _until(completed, "la campaña completada")
    stored = _row(job_id)
    assert stored.estado == "importando" and 0 < stored.escritas < rows, "the import still runs"
    assert len(sent) == 24


def _last_sent(campana_id: int):
    db.session.rollback()
    with tenancy.using(tenancy.EVERY_TENANT):
        return db.session.scalar(
            sa.select(sa.func.max(SMSLog.enviado_en)).where(SMSLog.id_campana == campana_id)
        )


def test_a_campaign_completes_while_a_large_import_runs_on_rq(app, tenants, fake_twilio, queue_name):
    """SMS workers and import workers started apart (the README's commands): another tenant's
    campaign is sent while the import has rows ahead. The import worker is the README's `rq
    worker` with one hook (tests/support/held_import_worker.py): its last chunk waits until the
    campaign was seen complete, so a fast import cannot end first and leave nothing to compare."""
    imports = f"import-test-{secrets.token_hex(4)}"
    app.config.update(
        REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name, IMPORT_QUEUE=imports, SMS_JOBS_PER_CAMPAIGN=1
    )
    env = worker_env(app, fake_twilio)
    job = _big_import(tenants.admin_b.id)
    background.dispatch(job.id, job.intento, app)
    redis, held = Redis.from_url(REDIS_URL), f"test:import-held:{secrets.token_hex(4)}"
    held_worker = [sys.executable, "-m", "tests.support.held_import_worker", held, str(BESIDE_SMS)]
    import_worker = _killable([*held_worker, "--burst", "--url", REDIS_URL, imports], env)
    try:
        _until(lambda: _row(job.id).escritas > 0, "la importación escribiendo")
        cid = campaign(tenants.admin_a, 24)
        runners.dispatch(cid, app)
        sms_worker = _killable([RQ, "worker", "--burst", "--url", REDIS_URL, queue_name], env)
        _campaign_done_while_importing(cid, job.id, fake_twilio.created)
        redis.set(held, 1, ex=600)  # the import's last chunk may go now
        assert sms_worker.wait(timeout=60) == 0, _output(sms_worker)
        assert import_worker.wait(timeout=600) == 0, _output(import_worker)
    finally:
        if import_worker.poll() is None:  # held or not, killed at once
            _kill(import_worker)
        Queue(imports, connection=redis).delete(delete_jobs=True)
        redis.delete(held)
    done = _row(job.id)
    assert (done.estado, done.nuevos, done.con_errores) == ("completado", BESIDE_SMS, 0)
    assert assert_aggregates_match_rows(cid).estado == "completado" and fake_twilio.duplicates() == []
    assert _last_sent(cid) < done.terminado  # every message out before the import ended


def test_a_campaign_completes_while_a_20000_row_import_runs_on_the_embedded_runner(
    app, tenants, fake_twilio, twilio_app_config, monkeypatch
):
    """No Redis: the import on a thread of its own, the campaign on the resident sender thread."""
    configure(app, twilio_app_config)
    assert not app.config.get("REDIS_URL")
    job = _big_import(tenants.admin_b.id, BESIDE_THREAD)
    # The import works beside the campaign to its last chunk, which waits until the campaign was
    # seen complete: a fast import must not end first and leave nothing to compare.
    seen_complete = threading.Event()

    def before_the_last_chunk(_job_id: int, escritas: int) -> None:
        if escritas >= BESIDE_THREAD - CHUNK:
            seen_complete.wait(60)

    monkeypatch.setattr(service, "after_chunk", before_the_last_chunk)
    importing = background.dispatch(job.id, job.intento, app)
    sender = runners.start_embedded(app)
    try:
        assert importing.name == f"import-{job.id}" and importing is not sender
        _until(lambda: _row(job.id).escritas > 0, "la importación escribiendo")
        cid = campaign(tenants.admin_a, 24)
        assert runners.dispatch(cid, app) is sender  # the sender's thread, not the import's
        _campaign_done_while_importing(cid, job.id, fake_twilio.created, BESIDE_THREAD)
    finally:
        seen_complete.set()
        importing.join(timeout=600)
        sender.stop()
        sender.join(timeout=30)
    done = _row(job.id)
    assert (done.estado, done.nuevos) == ("completado", BESIDE_THREAD)
    assert assert_aggregates_match_rows(cid).estado == "completado" and fake_twilio.duplicates() == []
    assert _last_sent(cid) < done.terminado
