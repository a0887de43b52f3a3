# ruff: noqa: F811 — pytest fixtures (keys) are imported and then named as parameters
"""Lawful sending (Ley 2300 de 2023, SPEC §10): the contact window, the daily cap, the RNE, the
opt-out text and the campaign's tipo — through the real outbox, the real sender, the real
database and the fake Twilio over HTTP, with the clock under the test's control (time-machine).
"""

import threading
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.formatting import BOGOTA
from panel.models import CampanaSMS, Cliente, ConfiguracionEnvio, NumeroExcluidoPropio, SMSLog
from panel.models.envio import TEXTO_BAJA
from panel.sms import lifecycle, outbox, rne, sender, tope

from . import factories
from .api_support import keys  # noqa: F401 — the fixture
from .clock_fixtures import at
from .helpers import csrf_from, login
from .support.sms import bogota, campana, clientes, commercial, configure, poll_and_send, rows

ENVIAR = "/clientes/enviar-sms/"


def bogota_aware(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BOGOTA)


def close_after(n: int, fake_twilio, traveller, closing: datetime):
    """A hook for the fake Twilio: once it has created ``n`` messages, the clock reaches ``closing``."""

    def hook(message):
        if len(fake_twilio.created) == n:
            traveller.move_to(closing)

    return hook


@pytest.fixture
def sending(app, twilio_app_config):
    configure(app, twilio_app_config, SMS_CONCURRENCY=1, SMS_BATCH_SIZE=2)
    return app


# --- the contact window ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "confirmed, opening",
    [
        ("2026-12-06 10:00", "2026-12-07 07:00"),  # a Sunday
        ("2027-01-11 10:00", "2027-01-12 07:00"),  # Reyes Magos, moved to Monday (Ley Emiliani)
        ("2026-12-05 15:00", "2026-12-07 07:00"),  # Saturday at the close
        ("2026-12-09 06:59", "2026-12-09 07:00"),  # a weekday before the opening
        ("2026-12-07 19:00", "2026-12-09 07:00"),  # Monday's close; Tuesday 8 is a holiday
    ],
)
def test_a_campaign_confirmed_outside_the_window_sends_nothing_until_the_next_opening(
    sending, tenants, fake_twilio, confirmed, opening
):
    ids = clientes(tenants.admin_a, 3)
    with at(confirmed) as traveller:
        cid = commercial(tenants.admin_a, ids)
        assert campana(cid).estado == "programada"
        assert campana(cid).siguiente_envio == bogota(opening)
        assert campana(cid).programada_para is None  # the user asked for "now"
        sender.run_campaign(cid)  # a sender that takes it anyway sends nothing
        assert poll_and_send() == []
        traveller.move_to(datetime.fromisoformat(opening).replace(tzinfo=BOGOTA) - timedelta(seconds=1))
        assert poll_and_send() == [] and fake_twilio.received_count == 0
        traveller.shift(timedelta(seconds=1))
        assert poll_and_send() == [cid]
    assert campana(cid).estado == "completado"
    assert len(fake_twilio.created) == 3 and fake_twilio.duplicates() == []
    assert all(
        m["t"] >= datetime.fromisoformat(opening).replace(tzinfo=BOGOTA).timestamp()
        for m in fake_twilio.created
    )


def test_a_campaign_sent_by_a_sender_after_the_close_waits_for_the_next_opening(
    sending, tenants, fake_twilio
):
    """Confirmed inside the window, but its sender only gets to it after the close."""
    ids = clientes(tenants.admin_a, 2)
    with at("2026-12-09 18:59") as traveller:
        cid = commercial(tenants.admin_a, ids)
        assert campana(cid).estado == "pendiente"
        traveller.move_to(datetime(2026, 12, 9, 19, 0, tzinfo=BOGOTA))
        sender.run_campaign(cid)
        assert campana(cid).estado == "programada" and fake_twilio.received_count == 0
        assert campana(cid).siguiente_envio == bogota("2026-12-10 07:00")


def test_a_campaign_running_at_the_close_stops_at_19_00_and_resumes_the_next_day(
    sending, tenants, fake_twilio
):
    ids = clientes(tenants.admin_a, 6)
    with at("2026-12-09 18:59:50") as traveller:
        cid = commercial(tenants.admin_a, ids)
        fake_twilio.on_create = close_after(
            2, fake_twilio, traveller, datetime(2026, 12, 9, 19, 0, tzinfo=BOGOTA)
        )
        sender.run_campaign(cid)
        fake_twilio.on_create = None
        first_day = list(fake_twilio.created)
        assert len(first_day) == 2  # concurrency 1: nothing was in flight at the close
        assert first_day[0]["validez"] == "10"  # Twilio drops what it could not deliver by 19:00
        c = campana(cid)
        assert c.estado == "programada" and c.siguiente_envio == bogota("2026-12-10 07:00")
        assert sorted(r.estado for r in rows(cid)) == ["enviado"] * 2 + ["pendiente"] * 4
        assert lifecycle.progress(cid)["siguiente_envio"] == bogota("2026-12-10 07:00")
        traveller.move_to(datetime(2026, 12, 10, 6, 59, 59, tzinfo=BOGOTA))
        assert poll_and_send() == []
        traveller.move_to(datetime(2026, 12, 10, 7, 0, tzinfo=BOGOTA))
        assert poll_and_send() == [cid]
    assert campana(cid).estado == "completado"
    assert len(fake_twilio.created) == 6 and fake_twilio.duplicates() == []


def test_a_transactional_campaign_sends_at_any_hour(sending, tenants, fake_twilio):
    ids = clientes(tenants.admin_a, 2)
    with at("2026-12-06 23:30"):  # a Sunday night
        cid = commercial(tenants.admin_a, ids, mensaje="Su pedido {nombre} fue enviado", tipo="transaccional")
        assert campana(cid).estado == "pendiente"
        sender.run_campaign(cid)
    assert campana(cid).estado == "completado" and len(fake_twilio.created) == 2
    assert all(m["validez"] is None for m in fake_twilio.created)
    assert all(not m["body"].endswith(TEXTO_BAJA) for m in fake_twilio.created)  # no opt-out text


def test_a_scheduled_campaign_for_a_sunday_starts_on_monday_and_keeps_the_time_asked(sending, tenants):
    ids = clientes(tenants.admin_a, 1)
    with at("2026-12-04 10:00"):
        cid = commercial(tenants.admin_a, ids, programada_para=bogota("2026-12-06 09:00"))
    assert campana(cid).programada_para == bogota("2026-12-06 09:00")
    assert campana(cid).siguiente_envio == bogota("2026-12-07 07:00")


def test_a_narrowed_window_of_the_tenant_is_applied(sending, tenants, fake_twilio):
    with tenancy.using(tenants.admin_a):
        db.session.add(ConfiguracionEnvio(semana_inicio=time(9), semana_fin=time(12), sabado_activo=False))
        db.session.commit()
    ids = clientes(tenants.admin_a, 1)
    with at("2026-12-09 08:00") as traveller:
        cid = commercial(tenants.admin_a, ids)
        assert campana(cid).siguiente_envio == bogota("2026-12-09 09:00")
        traveller.move_to(datetime(2026, 12, 9, 12, 0, tzinfo=BOGOTA))  # too late today too
        assert poll_and_send() == [cid]
        assert campana(cid).estado == "programada" and fake_twilio.received_count == 0
        assert campana(cid).siguiente_envio == bogota("2026-12-10 09:00")


# --- the cap ---------------------------------------------------------------------------------


def test_one_commercial_sms_per_client_per_bogota_day_across_campaigns(sending, tenants, fake_twilio):
    ids = clientes(tenants.admin_a, 2)
    with at("2026-12-09 10:00") as traveller:
        sender.run_campaign(commercial(tenants.admin_a, ids[:1]))
        query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
        with tenancy.using(tenants.admin_a):
            summary = outbox.dry_run(query, "Otra oferta")
        assert summary["motivos"] == {"Ya recibió un SMS comercial hoy": 1}
        assert summary["omitidos"][0]["id_cliente"] == ids[0]
        second = commercial(tenants.admin_a, ids, mensaje="Otra oferta")
        sender.run_campaign(second)
        assert {r.id_cliente: (r.estado, r.motivo) for r in rows(second)} == {
            ids[0]: ("omitido", "Ya recibió un SMS comercial hoy"),
            ids[1]: ("enviado", None),
        }
        # Bogotá's day, not UTC's: at 23:00 in Bogotá (04:00 UTC the next day) it is still today.
        phones = [db.session.get(Cliente, i).telefono_e164 for i in ids]
        late = datetime(2026, 12, 9, 23, 0, tzinfo=BOGOTA)
        assert tope.capped(tenants.admin_a.id, phones, late, "dia") == set(phones)
        assert tope.capped(tenants.admin_a.id, phones, late + timedelta(hours=1), "dia") == set()
        traveller.move_to(datetime(2026, 12, 10, 7, 0, tzinfo=BOGOTA))
        with tenancy.using(tenants.admin_a):
            assert outbox.dry_run(query, "Otra")["motivos"] == {}


def test_failed_rows_transactional_ones_and_test_sends_do_not_use_up_the_day(sending, tenants, fake_twilio):
    ids = clientes(tenants.admin_a, 2)
    phone = db.session.get(Cliente, ids[1]).telefono_e164
    fake_twilio.set(invalid={phone})  # 21211: a permanent failure
    with at("2026-12-09 10:00"):
        sender.run_campaign(commercial(tenants.admin_a, ids[1:]))
        sender.run_campaign(commercial(tenants.admin_a, ids[:1], tipo="transaccional"))
        query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
        with tenancy.using(tenants.admin_a):
            assert outbox.dry_run(query, "Oferta")["motivos"] == {}


def test_another_tenant_sending_to_the_same_phone_does_not_use_up_this_tenants_day(sending, tenants):
    mine = factories.cliente(tenants.admin_a, telefono="3105550000").id_cliente
    theirs = factories.cliente(tenants.admin_b, telefono="3105550000").id_cliente
    with at("2026-12-09 10:00"):
        sender.run_campaign(commercial(tenants.admin_b, [theirs]))
        with tenancy.using(tenants.admin_a):
            summary = outbox.dry_run(sa.select(Cliente).where(Cliente.id_cliente == mine), "Hola")
    assert summary["enviables"] == 1


def test_a_weekly_cap_counts_a_rolling_seven_days(sending, tenants):
    with tenancy.using(tenants.admin_a):
        db.session.add(ConfiguracionEnvio(tope="semana"))
        db.session.commit()
    ids = clientes(tenants.admin_a, 1)
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with at("2026-12-09 10:00") as traveller:
        sender.run_campaign(commercial(tenants.admin_a, ids))
        traveller.move_to(datetime(2026, 12, 15, 10, 0, tzinfo=BOGOTA))
        with tenancy.using(tenants.admin_a):
            assert outbox.dry_run(query, "Hola")["motivos"] == {
                "Ya recibió un SMS comercial en los últimos 7 días": 1
            }
        traveller.move_to(datetime(2026, 12, 16, 10, 0, 1, tzinfo=BOGOTA))
        with tenancy.using(tenants.admin_a):
            assert outbox.dry_run(query, "Hola")["motivos"] == {}


def test_two_campaigns_racing_for_the_same_client_send_it_once(sending, tenants, fake_twilio):
    """Both were confirmed before either sent; at send time, exactly one reaches the client."""
    shared = clientes(tenants.admin_a, 4)
    fake_twilio.set(latency=0.02)
    with at("2026-12-09 10:00", tick=True):
        first = commercial(tenants.admin_a, shared, mensaje="Primera {nombre}")
        second = commercial(tenants.admin_a, list(reversed(shared)), mensaje="Segunda {nombre}")
        barrier = threading.Barrier(2)

        def run(cid):
            with sending.app_context():
                barrier.wait()
                sender.run_campaign(cid)

        threads = [threading.Thread(target=run, args=(c,)) for c in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    sent = [r for c in (first, second) for r in rows(c) if r.estado == "enviado"]
    assert sorted(r.id_cliente for r in sent) == sorted(shared)  # each client exactly once
    skipped = [r for c in (first, second) for r in rows(c) if r.estado == "omitido"]
    assert len(skipped) == 4 and {r.motivo for r in skipped} == {"Ya recibió un SMS comercial hoy"}
    assert len(fake_twilio.created) == 4
    assert len({m["to"] for m in fake_twilio.created}) == 4


# --- the RNE and the tenant's own list -------------------------------------------------------


def test_rne_binds_commercial_campaigns_and_the_tenants_list_binds_every_campaign(
    sending, tenants, fake_twilio
):
    ids = clientes(tenants.admin_a, 3)
    phones = [db.session.get(Cliente, i).telefono_e164 for i in ids]
    rne.load([phones[0]])
    with tenancy.using(tenants.admin_a):
        db.session.add(NumeroExcluidoPropio(numero=phones[1], motivo="SALIR"))
        db.session.commit()
    with at("2026-12-09 10:00"):
        comercial = commercial(tenants.admin_a, ids)
        transaccional = commercial(tenants.admin_a, ids, mensaje="Su pedido", tipo="transaccional")
        for cid in (comercial, transaccional):
            sender.run_campaign(cid)
    motivo = lambda cid: {r.id_cliente: r.motivo for r in rows(cid)}  # noqa: E731
    assert motivo(comercial) == {
        ids[0]: "Inscrito en el Registro de Números Excluidos",
        ids[1]: "En la lista de exclusión de la empresa (se dio de baja)",
        ids[2]: None,
    }
    assert motivo(transaccional) == {
        ids[0]: None,
        ids[1]: "En la lista de exclusión de la empresa (se dio de baja)",
        ids[2]: None,
    }


def test_a_number_registered_after_confirmation_is_skipped_at_send_time(sending, tenants, fake_twilio):
    """A whole claimed batch skipped (batch of 2) is not the end of the campaign either."""
    ids = clientes(tenants.admin_a, 4)
    with at("2026-12-09 10:00"):
        cid = commercial(tenants.admin_a, ids)
        rne.load([db.session.get(Cliente, i).telefono_e164 for i in ids[:2]])
        sender.run_campaign(cid)
    assert [r.estado for r in rows(cid)] == ["omitido", "omitido", "enviado", "enviado"]
    assert rows(cid)[0].motivo == "Inscrito en el Registro de Números Excluidos"
    assert campana(cid).estado == "completado"


# --- the opt-out text ------------------------------------------------------------------------


def test_commercial_messages_end_with_the_opt_out_text_counted_in_the_segments(sending, tenants, fake_twilio):
    ids = clientes(tenants.admin_a, 1)
    mensaje = "x" * 140  # one segment alone; two with the opt-out text
    with at("2026-12-09 10:00"):
        cid = commercial(tenants.admin_a, ids, mensaje=mensaje)
        sender.run_campaign(cid)
    (row,) = rows(cid)
    assert row.mensaje == mensaje + TEXTO_BAJA and row.segmentos == 2 and row.codificacion == "GSM-7"
    assert fake_twilio.created[0]["body"] == mensaje + TEXTO_BAJA


def test_the_tenants_own_opt_out_text_is_used(sending, tenants):
    with tenancy.using(tenants.admin_a):
        db.session.add(ConfiguracionEnvio(texto_baja=" Para no recibir mas, responde BAJA."))
        db.session.commit()
    ids = clientes(tenants.admin_a, 1)
    with at("2026-12-09 10:00"):
        cid = commercial(tenants.admin_a, ids, mensaje="Hola")
    assert rows(cid)[0].mensaje == "Hola Para no recibir mas, responde BAJA."


# --- tipo: who may choose it, and where it shows ---------------------------------------------


def test_a_vendedor_asking_for_a_transactional_campaign_gets_403(app, tenants, keys):
    ids = clientes(tenants.admin_a, 1)
    body = {"cliente_ids": ids, "mensaje": "Hola", "tipo": "transaccional"}
    answer = app.test_client().post(ENVIAR, json=body, headers=keys.vendedor_a)
    assert answer.status_code == 403, answer.json
    assert "administrador" in answer.json["detail"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampanaSMS)) == 0


def test_an_unknown_tipo_is_a_400_naming_the_field(app, tenants, keys):
    ids = clientes(tenants.admin_a, 1)
    answer = app.test_client().post(
        ENVIAR, json={"cliente_ids": ids, "mensaje": "Hola", "tipo": "otro"}, headers=keys.admin_a
    )
    assert answer.status_code == 400 and "tipo" in answer.json["errors"], answer.json


def test_an_admins_transactional_campaign_is_in_historial_and_the_api(sending, tenants, keys, fake_twilio):
    ids = clientes(tenants.admin_a, 1)
    body = {"cliente_ids": ids, "mensaje": "Su cita es mañana", "tipo": "transaccional"}
    with at("2026-12-06 22:00", tick=True):  # Sunday night: only a transactional one may go
        answer = sending.test_client().post(ENVIAR, json=body, headers=keys.admin_a)
    assert answer.status_code in (200, 202), answer.json
    assert answer.json["tipo"] == "transaccional"
    from panel.models import Historial

    resumenes = list(db.session.scalars(sa.select(Historial.resumen).where(Historial.modelo == "CampanaSMS")))
    assert any("transaccional" in r for r in resumenes), resumenes


def test_the_api_shows_each_skip_reason_of_the_law(sending, tenants, keys, fake_twilio):
    ids = clientes(tenants.admin_a, 2)
    with at("2026-12-09 10:00", tick=True):
        sender.run_campaign(commercial(tenants.admin_a, ids[:1]))
        client = sending.test_client()
        answer = client.post(ENVIAR, json={"cliente_ids": ids, "mensaje": "Hola"}, headers=keys.admin_a)
        assert answer.status_code in (200, 202), answer.json
        detail = client.get(f"/clientes/campanas-sms/{answer.json['campana_id']}/", headers=keys.admin_a).json
    assert detail["tipo"] == "comercial" and detail["omitidos"] == 1
    errores = {d["cliente_id"]: (d["estado"], d.get("error")) for d in detail["detalles"]}
    assert errores[ids[0]] == ("omitido", "Ya recibió un SMS comercial hoy")


def test_the_api_answers_202_programada_with_the_next_opening_outside_the_window(sending, tenants, keys):
    ids = clientes(tenants.admin_a, 1)
    with at("2026-12-09 20:00", tick=True):
        answer = sending.test_client().post(
            ENVIAR, json={"cliente_ids": ids, "mensaje": "Hola"}, headers=keys.admin_a
        )
    assert answer.status_code == 202, answer.json
    assert answer.json["estado"] == "programada" and answer.json["tipo"] == "comercial"
    assert answer.json["programada_para"] is None
    assert answer.json["siguiente_envio"] == "2026-12-10T07:00:00-05:00"


# --- the review page -------------------------------------------------------------------------


def test_the_review_says_when_sending_starts_ends_and_how_many_fit(sending, client, tenants):
    sending.config["SMS_RATE_PER_SECOND"] = 1.0
    ids = clientes(tenants.admin_a, 3)
    with at("2026-12-06 10:00", tick=True):  # Sunday
        login(client, tenants.admin_a.email)
        url = f"/admin/enviar-sms/?ids={','.join(map(str, ids))}"
        page = client.get(url)
        assert page.status_code == 200 and "Enviar SMS" in page.text
        form = {
            "csrf_token": csrf_from(page.text),
            "ids": ",".join(map(str, ids)),
            "mensaje": "Hola {nombre}",
        }
        review = client.post(url, data=form | {"paso": "revisar"})
    assert review.status_code == 200 and 'data-testid="resumen-envio"' in review.text
    assert "se enviará a partir del lunes 7 de diciembre a las 07:00" in review.text
    assert "terminará hacia el lunes 7 de diciembre a las 07:00" in review.text  # 3 s at 1/s
    assert "Caben 43.200 mensajes" in review.text  # 12 h × 3,600 s × 1/s
    assert "Hola Nombre" in review.text and "Responde SALIR" in review.text


def test_a_vendedor_is_not_offered_the_transactional_tipo_and_a_forged_one_is_403(client, tenants):
    ids = clientes(tenants.admin_a, 1)
    login(client, tenants.vendedor_a.email)
    url = f"/admin/enviar-sms/?ids={ids[0]}"
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="tipo"' in page.text
    assert 'value="transaccional"' not in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "ids": str(ids[0]),
        "mensaje": "Hola",
        "tipo": "transaccional",
    }
    assert client.post(url, data=form | {"paso": "enviar"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SMSLog)) == 0


# --- the same under RQ (a burst worker in this process: the test's clock is its clock) --------


@pytest.fixture
def rq_sending(sending, queue_name):
    from rq import SimpleWorker

    from panel import jobs
    from panel.sms import runners

    from .services import REDIS_URL

    sending.config.update(
        REDIS_URL=REDIS_URL, SMS_QUEUE=queue_name, SMS_JOBS_PER_CAMPAIGN=1, SMS_POLL_SECONDS=0.05
    )
    jobs.use_app(sending)
    queue = runners.queue(sending)
    yield lambda **kw: SimpleWorker([queue], connection=queue.connection).work(burst=True, **kw)
    jobs.use_app(None)


def test_under_rq_a_campaign_confirmed_on_sunday_waits_for_monday(rq_sending, sending, tenants, fake_twilio):
    from panel.sms import runners

    ids = clientes(tenants.admin_a, 3)
    with at("2026-12-06 10:00") as traveller:
        cid = commercial(tenants.admin_a, ids)
        runners.dispatch(cid, sending)
        rq_sending(max_jobs=2)  # its sending job, then one poll: nothing is due
        assert campana(cid).estado == "programada" and fake_twilio.received_count == 0
        traveller.move_to(datetime(2026, 12, 7, 7, 0, tzinfo=BOGOTA))
        rq_sending()  # the poller starts it, its job sends; nothing left to poll for
    assert campana(cid).estado == "completado" and len(fake_twilio.created) == 3


def test_under_rq_a_campaign_stopped_at_19_00_resumes_the_next_morning(
    rq_sending, sending, tenants, fake_twilio
):
    from panel.sms import runners

    ids = clientes(tenants.admin_a, 5)
    with at("2026-12-09 18:59:50") as traveller:
        cid = commercial(tenants.admin_a, ids)
        fake_twilio.on_create = close_after(
            2, fake_twilio, traveller, datetime(2026, 12, 9, 19, 0, tzinfo=BOGOTA)
        )
        runners.dispatch(cid, sending)
        rq_sending(max_jobs=1)
        fake_twilio.on_create = None
        assert campana(cid).estado == "programada" and len(fake_twilio.created) == 2
        traveller.move_to(datetime(2026, 12, 10, 7, 0, tzinfo=BOGOTA))
        rq_sending()
    assert campana(cid).estado == "completado"
    assert len(fake_twilio.created) == 5 and fake_twilio.duplicates() == []
