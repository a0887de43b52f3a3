"""A campaign to many recipients is confirmed ``preparando`` and its outbox written in the
background (panel/sms/preparacion.py): nothing sends before the outbox is whole, a preparer
killed mid-way is resumed to a whole outbox with each client exactly once, the confirmation is
still idempotent, and the page and the API show how far the preparation is.

Real database (both engines), real Twilio SDK against the fake server, a real process killed;
``SMS_PREPARE_FROM`` and the chunk are made small so a few clients take several chunks. The clock
is pinned inside the contact window (commercial campaigns, the default, send only there).
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

from panel import jobs, tenancy
from panel.extensions import db
from panel.models import CampanaSMS, Cliente, EnlaceSMS, SMSLog
from panel.sms import claims, lifecycle, outbox, preparacion, runners, sender
from panel.sms.planning import OutboxError

from . import factories
from .api_support import keys
from .helpers import csrf_of, login
from .services import REDIS_URL
from .support.pages import _ids, wait_finished, wait_until
from .support.sms import ROOT, assert_aggregates_match_rows, configure, rows, wait_prepared

__all__ = ["keys"]

pytestmark = pytest.mark.usefixtures("ventana_abierta")
CHUNK = 4
CLAVE = re.compile(r'name="clave_confirmacion" value="([^"]+)"')


@pytest.fixture
def preparing_app(app, twilio_app_config, monkeypatch):
    """From 5 recipients a campaign is prepared in the background, 4 clients per chunk."""
    configure(app, twilio_app_config, SMS_PREPARE_FROM=5)
    monkeypatch.setattr(preparacion, "CHUNK", CHUNK)
    return app


def clients(owner, n: int, **fields) -> list[int]:
    return [factories.cliente(owner, telefono=f"300777{i:04d}", **fields).id_cliente for i in range(n)]


def create(owner, ids: list[int], start: bool = True, mensaje: str = "Hola {nombre}", **extra) -> CampanaSMS:
    """Confirm a campaign as the panel and the API do (``start``: and dispatch it)."""
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    fields = {"user_id": owner.id, "cliente_query": query, "mensaje": mensaje, "nombre": "Grande", **extra}
    with tenancy.using(owner):
        if start:
            return runners.create_and_start(outbox.create_campaign, **fields)
        return outbox.create_campaign(**fields)


def estado(campana_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(sa.select(CampanaSMS.estado).where(CampanaSMS.id == campana_id))


def latido(campana_id: int):
    """The campaign's preparer token: replaced by each checkpoint and by a preparer taking it over."""
    db.session.rollback()
    return db.session.scalar(sa.select(CampanaSMS.preparacion_latido).where(CampanaSMS.id == campana_id))


def assert_each_client_once(campana_id: int, ids: list[int], fake_twilio) -> None:
    logs = rows(campana_id)
    assert sorted(r.id_cliente for r in logs) == sorted(ids)  # one row per client, none missing
    assert {r.estado for r in logs} == {"enviado"}
    assert len(fake_twilio.created) == len(ids) and not fake_twilio.duplicates()
    assert_aggregates_match_rows(campana_id)


def assert_sends_nothing(campana_id: int, fake_twilio) -> None:
    """Every way a sender could take the campaign finds nothing to send."""
    assert claims.claim(campana_id, 100) == []
    sender.run_campaign(campana_id)  # the claim loop itself: it does not start a preparing one
    assert campana_id not in lifecycle.campaigns_with_work()
    with db.engine.begin() as conn:
        assert lifecycle.start_due(conn, campana_id) == []
    for action in ("pausar", "reanudar"):
        with pytest.raises(lifecycle.TransitionRefused):
            lifecycle.apply(action, campana_id)
    db.session.rollback()
    assert estado(campana_id) == "preparando"
    assert not any(r.estado != "pendiente" for r in rows(campana_id))
    assert fake_twilio.created == []


def test_small_campaign_keeps_the_outbox_written_at_confirmation(preparing_app, tenants, fake_twilio):
    ids = clients(tenants.admin_a, 4)
    campana = create(tenants.admin_a, ids, start=False)
    assert campana.estado == "pendiente" and len(rows(campana.id)) == 4


def test_nothing_sends_while_preparing_then_each_client_exactly_once(
    preparing_app, tenants, fake_twilio, monkeypatch
):
    ids = clients(tenants.admin_a, 10)
    reached, release = threading.Event(), threading.Event()

    def pause(_campana_id: int, written: int) -> None:
        if written == CHUNK:  # the first chunk is committed: hold the preparer right there
            reached.set()
            release.wait(60)

    monkeypatch.setattr(preparacion, "after_chunk", pause)
    campana = create(tenants.admin_a, ids)
    try:
        assert campana.estado == "preparando"
        assert reached.wait(60), "the preparer never wrote its first chunk"
        assert len(rows(campana.id)) == CHUNK
        assert_sends_nothing(campana.id, fake_twilio)
    finally:
        release.set()
    assert wait_prepared(campana.id) in ("pendiente", "procesando", "completado")
    wait_until(lambda: estado(campana.id) == "completado", "la campaña se envió")
    assert_each_client_once(campana.id, ids, fake_twilio)


@pytest.fixture
def in_process_worker(preparing_app):
    """The RQ jobs of this process run in the test's app (a worker process builds its own)."""
    jobs.use_app(preparing_app)
    yield lambda queue: SimpleWorker([queue], connection=queue.connection).work(burst=True)
    jobs.use_app(None)


def test_on_rq_the_preparation_job_writes_the_outbox_then_the_campaign_is_sent(
    preparing_app, tenants, fake_twilio, queue_name, in_process_worker
):
    preparing_app.config.update(REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name)
    ids = clients(tenants.admin_a, 10)
    campana = create(tenants.admin_a, ids)
    queue = runners.queue(preparing_app)
    assert [job.func_name for job in queue.jobs] == [runners.PREPARE_CAMPAIGN]  # by name
    assert estado(campana.id) == "preparando" and rows(campana.id) == []
    in_process_worker(queue)  # the preparation, then the sending jobs it queues
    assert estado(campana.id) == "completado"
    assert_each_client_once(campana.id, ids, fake_twilio)


def _killable(command: list[str], env: dict) -> subprocess.Popen:
    """A process in a group of its own (to kill at once), its output in a file."""
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)
    process.log = log
    return process


def _output(process: subprocess.Popen) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")


def _kill_after_first_chunk(app, campana_id: int) -> None:
    """Prepare the campaign in a process of its own and SIGKILL it once a chunk is committed."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {"PANEL_ENV": "testing", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    command = [sys.executable, "-m", "tests.prepare_worker", str(campana_id), str(CHUNK)]
    process = _killable(command, env)
    try:
        deadline = time.monotonic() + 120
        while f"chunk {CHUNK}" not in _output(process):
            assert process.poll() is None, _output(process)
            assert time.monotonic() < deadline, "the preparer never wrote its first chunk"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_a_killed_preparer_is_resumed_to_a_whole_outbox_each_client_once(
    preparing_app, tenants, fake_twilio, ventana_abierta
):
    ids = clients(tenants.admin_a, 10)
    campana = create(tenants.admin_a, ids, start=False)
    _kill_after_first_chunk(preparing_app, campana.id)
    assert len(rows(campana.id)) == CHUNK  # half-written, and the writer is dead
    assert_sends_nothing(campana.id, fake_twilio)
    # The checkpoint ages: a poller (the embedded sender's pass, RQ's poll_due) resumes it.
    ventana_abierta.shift(timedelta(seconds=preparing_app.config["SMS_PREPARE_STALE"] + 5))
    assert runners.resume_preparations(preparing_app) == [campana.id]
    assert wait_prepared(campana.id) in ("pendiente", "procesando", "completado")
    wait_until(lambda: estado(campana.id) == "completado", "la campaña se envió")
    assert_each_client_once(campana.id, ids, fake_twilio)


def test_a_preparer_that_lost_the_campaign_to_a_resumer_writes_nothing_more(
    preparing_app, tenants, fake_twilio, monkeypatch
):
    ids = clients(tenants.admin_a, 10)
    campana = create(tenants.admin_a, ids, start=False)
    reached, release = threading.Event(), threading.Event()
    first = threading.current_thread()

    def pause(_campana_id: int, written: int) -> None:
        if threading.current_thread() is not first and not reached.is_set():  # the slow one only
            reached.set()
            release.wait(60)

    monkeypatch.setattr(preparacion, "after_chunk", pause)
    slow = runners.dispatch_preparation(campana.id, preparing_app)
    assert reached.wait(60)
    campana_id, paused_at = campana.id, latido(campana.id)
    resumed: list = []
    resumer = threading.Thread(
        target=lambda: resumed.append(runners.prepare_in_app(preparing_app, campana_id))
    )
    resumer.start()
    # The slow one goes on once the resumer has taken the campaign (its token replaced): on
    # PostgreSQL the slow one's second writer may hold uncommitted rows the resumer's insert
    # waits on, until that writer's checkpoint is refused and its chunk rolled back.
    wait_until(lambda: latido(campana.id) != paused_at, "el segundo preparador tomó la campaña")
    release.set()
    resumer.join(60)
    slow.join(60)
    assert not slow.is_alive() and not resumer.is_alive()
    assert resumed[0] in ("pendiente", "procesando")
    wait_until(lambda: estado(campana.id) == "completado", "la campaña se envió")
    assert_each_client_once(campana.id, ids, fake_twilio)


def test_cancel_while_preparing_stops_the_preparer_and_sends_nothing(
    preparing_app, tenants, fake_twilio, monkeypatch
):
    ids = clients(tenants.admin_a, 10)
    reached, release = threading.Event(), threading.Event()

    def pause(_campana_id: int, written: int) -> None:
        if written == CHUNK:
            reached.set()
            release.wait(60)

    monkeypatch.setattr(preparacion, "after_chunk", pause)
    campana = create(tenants.admin_a, ids)
    assert reached.wait(60)
    preparer = next(t for t in threading.enumerate() if t.name == f"sms-preparar-{campana.id}")
    lifecycle.apply("cancelar", campana.id)
    db.session.commit()
    release.set()
    preparer.join(60)  # its next checkpoint is refused: it writes nothing more
    assert not preparer.is_alive()
    logs = rows(campana.id)
    assert estado(campana.id) == "cancelada" and len(logs) == CHUNK
    assert {r.estado for r in logs} == {"cancelado"} and fake_twilio.created == []
    assert_aggregates_match_rows(campana.id)


def test_nobody_sendable_ends_in_error_with_the_reason(preparing_app, tenants, fake_twilio):
    ids = clients(tenants.admin_a, 6, acepta_sms=False)
    campana = create(tenants.admin_a, ids)
    assert wait_prepared(campana.id) == "error"
    db.session.expire_all()
    campana = db.session.get(CampanaSMS, campana.id)
    assert campana.error_mensaje.startswith("Ningún destinatario puede recibir el SMS")
    assert {r.estado for r in rows(campana.id)} == {"omitido"} and campana.total_clientes == 6
    assert fake_twilio.created == []


def test_a_phone_shared_across_chunks_is_sent_once(preparing_app, tenants, fake_twilio):
    owner = tenants.admin_a
    ids = clients(owner, 6) + [factories.cliente(owner, telefono="3007770000").id_cliente]  # the first's
    campana = create(owner, ids)
    wait_until(lambda: estado(campana.id) == "completado", "la campaña se envió")
    logs = rows(campana.id)
    assert sorted(r.estado for r in logs) == ["enviado"] * 6 + ["omitido"]
    assert len(fake_twilio.created) == 6 and not fake_twilio.duplicates()


def test_the_preparer_shortens_links_chunk_by_chunk_as_the_confirmation_asked(
    preparing_app, tenants, fake_twilio
):
    owner, base = tenants.admin_a, "https://panel.test"
    ids = clients(owner, 9)
    mensaje = "Hola {nombre}: https://tienda.test/oferta"
    # Without a public address the preparer (no request) could not write the links: refused now.
    with pytest.raises(OutboxError, match="PUBLIC_BASE_URL"):
        create(owner, ids, mensaje=mensaje, acortar_enlaces=True)
    preparing_app.config["PUBLIC_BASE_URL"] = base
    campana = create(owner, ids, mensaje=mensaje, acortar_enlaces=True)
    assert campana.estado == "preparando"  # the outbox is the background's, 4 clients a chunk
    wait_until(lambda: estado(campana.id) == "completado", "la campaña se envió")
    assert_each_client_once(campana.id, ids, fake_twilio)
    codes = [re.search(rf"{base}/l/(\w{{8}})", c["body"]).group(1) for c in fake_twilio.created]
    db.session.expire_all()
    links = db.session.scalars(sa.select(EnlaceSMS).where(EnlaceSMS.id_campana == campana.id)).all()
    assert sorted(codes) == sorted(e.codigo for e in links) and len(set(codes)) == 9
    assert {e.url for e in links} == {"https://tienda.test/oferta"}


def test_page_and_api_show_preparando_with_its_progress(preparing_app, client, tenants, keys):
    ids = clients(tenants.admin_a, 6)
    campana = create(tenants.admin_a, ids, start=False)
    login(client, tenants.admin_a.email)
    page = client.get(f"/admin/campanas-sms/{campana.id}/").get_data(as_text=True)
    assert 'data-estado="preparando"' in page and ">Preparando<" in page
    assert "Preparando el envío: 0 de 6 destinatarios" in page
    assert "/cancelar" in page and "/pausar" not in page  # cancel works; pause does not apply
    progreso = client.get(f"/admin/campanas-sms/{campana.id}/progreso.json").get_json()
    assert progreso["preparacion"] == {
        "escritos": 0,
        "total": 6,
        "porcentaje": 0,
        "texto": "Preparando el envío: 0 de 6 destinatarios",
    }
    api = client.get(f"/clientes/campanas-sms/{campana.id}/", headers=keys.admin_a).get_json()
    assert api["estado"] == "preparando" and api["preparacion"]["total"] == 6
    # Once whole, the campaign reads as any other: no preparation line.
    runners.prepare_in_app(preparing_app, campana.id)
    progreso = client.get(f"/admin/campanas-sms/{campana.id}/progreso.json").get_json()
    assert progreso["preparacion"] is None and progreso["total"] == 6


def _review(client, ids: list[int]) -> tuple[str, dict]:
    """Review a send as a browser does; the confirmation form's fields."""
    token = csrf_of(client, f"/admin/enviar-sms/?ids={_ids_of(ids)}")
    data = {"ids": _ids_of(ids), "mensaje": "Hola {nombre}", "nombre": "Promo", "csrf_token": token}
    page = client.post("/admin/enviar-sms/", data={**data, "paso": "revisar"}).get_data(as_text=True)
    return CLAVE.search(page).group(1), {**data, "paso": "enviar"}


def _ids_of(ids: list[int]) -> str:
    return _ids([type("C", (), {"id_cliente": i}) for i in ids])


def test_resubmitted_confirmation_of_a_preparing_campaign_is_one_campaign(
    preparing_app, client, tenants, fake_twilio
):
    ids = clients(tenants.admin_a, 6)
    login(client, tenants.vendedor_a.email)
    clave, data = _review(client, ids)
    first = client.post("/admin/enviar-sms/", data={**data, "clave_confirmacion": clave})
    again = client.post("/admin/enviar-sms/", data={**data, "clave_confirmacion": clave})
    campana = db.session.scalars(sa.select(CampanaSMS)).one()
    assert (first.status_code, again.status_code) == (302, 302)
    assert first.location == again.location and first.location.endswith(f"/{campana.id}/")
    assert wait_finished(client, campana.id, timeout=60)["enviados"] == 6
    assert len(fake_twilio.created) == 6 and not fake_twilio.duplicates()
    assert db.session.scalar(sa.select(sa.func.count(SMSLog.id))) == 6


def test_frozen_recipients_round_trip():
    ids = [1, 2, 3, 10, 4_000_000, 4_000_001, 2_000_000_000]
    assert preparacion.thaw(preparacion.freeze(ids)) == ids
    dense = list(range(1, 1_000_001))
    assert preparacion.thaw(preparacion.freeze(dense)) == dense
    assert len(preparacion.freeze(dense)) < 100_000


def test_a_bad_template_is_refused_before_anything_is_written(preparing_app, tenants):
    ids = clients(tenants.admin_a, 6)
    with pytest.raises(outbox.OutboxError) as refused:
        create(tenants.admin_a, ids, start=False, mensaje="Hola {desconocido}")
    assert refused.value.field == "mensaje"
    assert db.session.scalar(sa.select(sa.func.count(CampanaSMS.id))) == 0
    assert create(tenants.admin_a, ids, start=False).estado == "preparando"  # the same, well written
