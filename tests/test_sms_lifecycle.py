# ruff: noqa: F811 — pytest fixtures (keys) are imported and then named as parameters
"""The campaign lifecycle (SPEC §9, §15): pause, resume, cancel, scheduling and exact progress,
against the fake Twilio over real HTTP with the real SDK."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from panel import clock, tenancy
from panel.extensions import db
from panel.models import CampanaSMS, Cliente
from panel.sms import lifecycle, outbox, runners, sender
from panel.sms.elegibilidad import MOTIVOS

from . import factories
from .api_support import (
    auth,
    cliente_of,
    keys,  # noqa: F401 — the fixture
    token_for,
)
from .clock_fixtures import next_open_morning
from .support.pages import url, wait_until
from .support.sms import assert_aggregates_match_rows, campaign, configure, rows, scheduled

ENVIAR = "/clientes/enviar-sms/"


def estado(cid: int) -> str:
    db.session.expire_all()
    return db.session.get(CampanaSMS, cid).estado


# --- pause, resume, cancel -------------------------------------------------------------------


def test_pausing_stops_new_arrivals_at_twilio_and_resuming_sends_each_once(
    app, tenants, fake_twilio, twilio_app_config, keys
):
    configure(app, twilio_app_config, SMS_CONCURRENCY=2, SMS_BATCH_SIZE=2)
    fake_twilio.set(latency=0.15)
    cid = campaign(tenants.admin_a, 20)
    client = app.test_client()
    thread = runners.dispatch(cid, app)
    wait_until(lambda: fake_twilio.received_count >= 3, "primeros envíos")
    answer = client.post(url(cid, "pausar"), headers=keys.admin_a)
    at_answer = fake_twilio.received_count
    assert answer.status_code == 200, answer.json
    assert answer.json["estado"] == "pausada"
    thread.join(60)
    assert not thread.is_alive()
    # Only the calls in flight at the answer (at most SMS_CONCURRENCY) reached Twilio afterwards.
    assert fake_twilio.received_count <= at_answer + 2
    logs = rows(cid)
    assert {r.estado for r in logs} <= {"enviado", "pendiente"} and estado(cid) == "pausada"
    assert sum(r.estado == "pendiente" for r in logs) > 0
    assert_aggregates_match_rows(cid)
    resumed = client.post(url(cid, "reanudar").rstrip("/"), headers=keys.admin_a)  # no trailing slash
    assert resumed.status_code == 200 and resumed.json["estado"] in ("pendiente", "procesando", "completado")
    wait_until(lambda: estado(cid) == "completado", "campaña completada")
    assert all(r.estado == "enviado" for r in rows(cid))
    assert len(fake_twilio.created) == 20 and fake_twilio.duplicates() == []
    assert_aggregates_match_rows(cid)


def test_cancel_leaves_the_unsent_rows_cancelado(app, tenants, fake_twilio, twilio_app_config, keys):
    configure(app, twilio_app_config, SMS_CONCURRENCY=2, SMS_BATCH_SIZE=2)
    fake_twilio.set(latency=0.15)
    cid = campaign(tenants.admin_a, 12)
    thread = runners.dispatch(cid, app)
    wait_until(lambda: fake_twilio.received_count >= 2, "primeros envíos")
    answer = app.test_client().post(url(cid, "cancelar"), headers=keys.admin_a)
    assert answer.status_code == 200 and answer.json["estado"] == "cancelada"
    thread.join(60)
    logs = rows(cid)
    assert {r.estado for r in logs} == {"enviado", "cancelado"}
    assert sum(r.estado == "enviado" for r in logs) == len(fake_twilio.created)
    body = app.test_client().get(url(cid), headers=keys.admin_a).json
    assert body["cancelados"] == sum(r.estado == "cancelado" for r in logs) > 0
    assert body["enviados_exitosos"] + body["cancelados"] == body["total_clientes"] == 12
    assert_aggregates_match_rows(cid)


@pytest.mark.parametrize(
    "start, action",
    [
        ("completado", "pausar"),
        ("completado", "cancelar"),
        ("cancelada", "reanudar"),
        ("cancelada", "cancelar"),
        ("pendiente", "reanudar"),
        ("pausada", "pausar"),
    ],
)
def test_a_transition_the_estado_does_not_allow_is_a_409(app, tenants, keys, start, action):
    cid = campaign(tenants.admin_a, 1)
    with db.engine.begin() as conn:
        conn.execute(CampanaSMS.__table__.update().where(CampanaSMS.id == cid).values(estado=start))
    answer = app.test_client().post(url(cid, action), headers=keys.admin_a)
    assert answer.status_code == 409 and start in answer.json["detail"]
    assert estado(cid) == start


@pytest.mark.parametrize("action", ["pausar", "reanudar", "cancelar"])
def test_who_may_steer_a_campaign(app, tenants, keys, action):
    """The sender and an admin of the tenant may; another vendedor 403; another tenant 404."""
    ids = [factories.cliente(tenants.admin_a, telefono="3001112233").id_cliente]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(tenants.admin_a):
        cid = outbox.create_campaign(user_id=tenants.vendedor_a.id, cliente_query=query, mensaje="Hola").id
    with db.engine.begin() as conn:  # an estado every action is allowed from but one
        conn.execute(CampanaSMS.__table__.update().where(CampanaSMS.id == cid).values(estado="pausada"))
    otro = factories.user("vendedor.a2@test.co", "vendedor", creado_por=tenants.admin_a)
    client = app.test_client()
    assert client.post(url(cid, action), headers=auth(token_for(otro.id))).status_code == 403
    assert client.post(url(cid, action), headers=keys.vendedor_b).status_code == 404
    assert client.post(url(cid, action), headers=keys.admin_b).status_code == 404
    assert estado(cid) == "pausada"
    mine = client.post(url(cid, action), headers=keys.vendedor_a)
    assert mine.status_code == (409 if action == "pausar" else 200)


# --- skipped at send time, exact progress ----------------------------------------------------


def test_recipients_that_no_longer_qualify_are_omitido_and_not_progress(
    app, tenants, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 3)
    inactivo, baja, _ = rows(cid)
    c = Cliente.__table__
    with db.engine.begin() as conn:  # after confirmation, before sending
        conn.execute(c.update().where(c.c.id_cliente == inactivo.id_cliente).values(estado=0))
        conn.execute(c.update().where(c.c.id_cliente == baja.id_cliente).values(acepta_sms=False))
    sender.run_campaign(cid)
    first, second, sent = rows(cid)
    assert (first.estado, first.motivo) == ("omitido", MOTIVOS["inactivo"])
    assert (second.estado, second.motivo) == ("omitido", MOTIVOS["opt_out"])
    assert sent.estado == "enviado" and len(fake_twilio.created) == 1
    p = lifecycle.progress(cid)
    assert (p["omitidos"], p["fallidos"], p["enviables"], p["porcentaje"]) == (2, 0, 1, 100)
    assert assert_aggregates_match_rows(cid).estado == "completado"


def test_a_number_that_joins_the_registry_after_confirmation_is_skipped_at_send_time(
    app, tenants, fake_twilio, twilio_app_config, ventana_abierta
):
    from panel.sms import rne

    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 2, tipo="comercial")  # the RNE binds commercial campaigns
    registered, _ = rows(cid)
    rne.load([registered.telefono + "\n"])  # the CRC's new list arrives before the sender runs
    sender.run_campaign(cid)
    first, sent = rows(cid)
    assert (first.estado, first.motivo) == ("omitido", MOTIVOS["rne"])
    assert sent.estado == "enviado" and [m["to"] for m in fake_twilio.created] == [sent.telefono]
    assert assert_aggregates_match_rows(cid).estado == "completado"


SNAPSHOT = sa.text(
    "SELECT c.total_clientes, c.enviados_exitosos, c.enviados_fallidos, "
    "(SELECT count(*) FROM sms_log l WHERE l.id_campana = c.id), "
    "(SELECT count(*) FROM sms_log l WHERE l.id_campana = c.id AND l.estado = 'enviado'), "
    "(SELECT count(*) FROM sms_log l WHERE l.id_campana = c.id AND l.estado = 'fallido') "
    "FROM campana_sms c WHERE c.id = :cid"
)


def test_totals_equal_the_rows_in_every_poll_while_500_messages_send(
    app, tenants, fake_twilio, twilio_app_config, keys
):
    configure(app, twilio_app_config, SMS_CONCURRENCY=8, SMS_BATCH_SIZE=16)
    fake_twilio.set(latency=0.01, invalid={"+573002000100", "+573002000200"})
    cid = campaign(tenants.admin_a, 500)
    client = app.test_client()
    thread = runners.dispatch(cid, app)
    stored, answers = [], []
    while thread.is_alive() or not answers:
        with db.engine.connect() as conn:  # one statement: one snapshot of totals and rows
            stored.append(tuple(conn.execute(SNAPSHOT, {"cid": cid}).one()))
        body = client.get(url(cid), headers=keys.admin_a).json
        answers.append(body)
        time.sleep(0.02)
    thread.join()
    assert all(s[:3] == s[3:] for s in stored), [s for s in stored if s[:3] != s[3:]][:3]
    parts = ("enviados_exitosos", "enviados_fallidos", "omitidos", "cancelados", "pendientes")
    assert all(sum(a[k] for k in parts) == a["total_clientes"] == 500 for a in answers)
    assert any(0 < s[1] < 500 for s in stored)  # some polls were taken mid-campaign
    assert answers[-1]["estado"] == "completado" or estado(cid) == "completado"
    assert assert_aggregates_match_rows(cid).enviados_fallidos == 2


# --- scheduling ------------------------------------------------------------------------------


def test_a_scheduled_campaign_starts_only_when_due_and_once(app, tenants):
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, tzinfo=UTC), tick=False) as traveller:
        cid = scheduled(tenants.admin_a, 2, clock.utcnow() + timedelta(minutes=10))
        assert estado(cid) == "programada"
        assert lifecycle.campaigns_with_work() == [] and estado(cid) == "programada"
        assert lifecycle.progress(cid)["siguiente_envio"] == datetime(2026, 12, 1, 15, 10)
        traveller.shift(timedelta(minutes=10))
        with db.engine.begin() as conn:
            assert lifecycle.start_due(conn) == [cid]
        with db.engine.begin() as conn:
            assert lifecycle.start_due(conn) == []  # a second poller finds nothing to start
        assert estado(cid) == "pendiente"


@pytest.mark.parametrize(
    "value, message",
    [
        ("2020-01-01T10:00", "ya pasó"),
        ("2026-02-20T10:00:00-05:00", "35 días"),
        ("mañana", "inválida"),
    ],
)
def test_programar_para_out_of_range_is_a_400_naming_the_field(app, tenants, keys, value, message):
    ids = [cliente_of(tenants.admin_a.id, telefono="3001112233").id_cliente]
    body = {"cliente_ids": ids, "mensaje": "Hola", "programar_para": value}
    with time_machine.travel(datetime(2026, 1, 10, 12, 0, tzinfo=UTC), tick=True):
        answer = app.test_client().post(ENVIAR, json=body, headers=keys.admin_a)
    assert answer.status_code == 400, answer.json
    assert message in " ".join(answer.json["errors"]["programar_para"]), answer.json
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampanaSMS)) == 0


def test_programar_para_without_offset_is_bogota_and_answers_202_programada(
    app, tenants, keys, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    ids = [cliente_of(tenants.admin_a.id, telefono="3001112233").id_cliente]
    # Two days ahead or later, on a weekday morning: inside the window, so sending starts then
    # (from a Saturday night, two days ahead is Monday night, and the next opening is later).
    when = next_open_morning(clock.now() + timedelta(days=2)).replace(tzinfo=None)
    body = {"cliente_ids": ids, "mensaje": "Hola", "programar_para": when.isoformat(timespec="minutes")}
    answer = app.test_client().post(ENVIAR, json=body, headers=keys.admin_a)
    assert answer.status_code == 202, answer.json
    assert answer.json["estado"] == "programada" and answer.json["pendientes"] == 1
    stored = db.session.get(CampanaSMS, answer.json["campana_id"]).programada_para
    assert stored == when.replace(second=0, microsecond=0) + timedelta(hours=5)  # Bogotá is UTC-5
    assert answer.json["siguiente_envio"] == answer.json["programada_para"]
    assert fake_twilio.received_count == 0


# --- the campaign page's buttons -------------------------------------------------------------


def test_the_campaign_page_pauses_and_cancels_with_csrf_checked_posts(app, tenants):
    from .helpers import csrf_of, login

    cid = campaign(tenants.admin_a, 2)
    client = app.test_client()
    login(client, tenants.admin_a.email)
    page = client.get(f"/admin/campanas-sms/{cid}/")
    assert page.status_code == 200 and b'data-testid="pausar"' in page.data
    assert client.post(f"/admin/campanas-sms/{cid}/pausar").status_code == 400  # no CSRF token
    token = csrf_of(client, f"/admin/campanas-sms/{cid}/")
    answer = client.post(f"/admin/campanas-sms/{cid}/pausar", data={"csrf_token": token})
    assert answer.status_code == 302 and estado(cid) == "pausada"
    page = client.get(f"/admin/campanas-sms/{cid}/").get_data(as_text=True)
    assert 'data-testid="reanudar"' in page and 'data-testid="pausar"' not in page
    client.post(f"/admin/campanas-sms/{cid}/cancelar", data={"csrf_token": token})
    assert estado(cid) == "cancelada"
    assert {r.estado for r in rows(cid)} == {"cancelado"}
    other = app.test_client()
    login(other, tenants.admin_b.email)
    assert other.get(f"/admin/campanas-sms/{cid}/").status_code == 404


def test_progress_json_carries_labelled_rows_for_the_live_table(app, tenants):
    from .helpers import login

    cid = campaign(tenants.admin_a, 2)
    client = app.test_client()
    login(client, tenants.admin_a.email)
    p = client.get(f"/admin/campanas-sms/{cid}/progreso.json").json
    shown = (p["estado"], p["etiqueta_estado"], p["pendientes"], p["total"])
    assert shown == ("pendiente", "Pendiente", 2, 2)
    assert [f["etiqueta"] for f in p["filas"]] == ["Pendiente", "Pendiente"]
