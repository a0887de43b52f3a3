"""Campaign results (SPEC §20): each figure equals a count of the campaign's rows — sent through
the real sender to the fake Twilio, priced by the fake's signed status callbacks through the real
webhook — opt-outs within 72 h only, another tenant's rows and opt-outs never counted; shown on
the campaign page (with its chart's data), in the API's campaign JSON, the export, the dashboard."""

import json
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import formatting, tenancy
from panel.extensions import db
from panel.models import Cliente, SMSLog
from panel.sms import outbox, resultados, sender
from panel.sms.simulator import TwilioSimulator
from panel.sms.webhooks import price_of
from panel.testing.fake_server import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio

from . import factories
from .api_support import keys
from .clock_fixtures import at
from .helpers import login
from .support.exports import by_header, download, read_csv
from .support.sms import configure, rows

STATUS_URL = "http://localhost/twilio/status"
INBOUND_URL = "http://localhost/twilio/inbound"
__all__ = ["keys"]  # a fixture
PRICE = Decimal("30")  # what the fake charges a segment, in pesos
SENT_AT = "2026-12-07 10:00"  # a Monday morning in Bogotá: the campaign leaves here
INVALID = "+573009999999"


@pytest.fixture
def fake():
    with FakeTwilio(seed=7, price=PRICE, price_unit="COP", invalid={INVALID}) as server:
        yield server


@pytest.fixture
def sending(app, fake):
    configure(app, {**fake.config(), "TWILIO_TIMEOUT": 2})
    return app


def _send(
    owner,
    phones: list[str],
    opted_out: list[str] = (),
    nombre: str = "Navidad",
    mensaje: str = "Hola {nombre}",
) -> int:
    """A transactional campaign to these phones (the opted-out ones are skipped), sent now
    through the real sender to the fake; its id."""
    ids = [factories.cliente(owner, telefono=p[3:], acepta_sms=p not in opted_out).id_cliente for p in phones]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        cid = outbox.create_campaign(
            user_id=owner.id,
            cliente_query=query,
            mensaje=mensaje,
            nombre=nombre,
            tipo="transaccional",
            acortar_enlaces="http" in mensaje,
        ).id
    sender.run_campaign(cid)
    return cid


def _callback(client, fake, sid: str, status: str) -> None:
    params, signature = fake.callback(STATUS_URL, sid, status)
    response = client.post("/twilio/status", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 204


def _reply(client, fake, phone: str, body: str) -> None:
    params = {"From": phone, "Body": body, "AccountSid": fake.simulator.account_sid}
    signature = fake.simulator.sign_callback(INBOUND_URL, params)
    assert (
        client.post("/twilio/inbound", data=params, headers={"X-Twilio-Signature": signature}).status_code
        == 200
    )


A_PHONES = [f"+57300100000{i}" for i in range(5)] + [INVALID, "+573001000099"]


@pytest.fixture
def campaign_a(sending, client, fake, tenants):
    """Tenant A's campaign: 5 sent (3 delivered, 1 undelivered, 1 with no callback yet), 1 failed
    (an invalid number), 1 skipped (opted out); prices from the callbacks."""
    with at(SENT_AT, tick=True):
        cid = _send(tenants.admin_a, A_PHONES, opted_out=["+573001000099"])
        sent = [r for r in rows(cid) if r.estado == "enviado"]
        for r, status in zip(sent, ["delivered", "delivered", "delivered", "undelivered"], strict=False):
            _callback(client, fake, r.twilio_sid, "sent")
            _callback(client, fake, r.twilio_sid, status)
    return cid


def test_the_results_equal_the_counts_of_the_rows(campaign_a, app):
    logs = rows(campaign_a)
    r = resultados.de_campana(campaign_a)
    assert [r.enviados, r.fallidos, r.omitidos] == [5, 1, 1]
    assert r.enviados == sum(x.estado == "enviado" for x in logs)
    assert r.fallidos == sum(x.estado == "fallido" for x in logs)
    assert r.omitidos == sum(x.estado == "omitido" for x in logs)
    assert r.entregados == sum(x.estado_entrega == "delivered" for x in logs) == 3
    assert r.no_entregados == sum(x.estado_entrega == "undelivered" for x in logs) == 1
    billed = [x for x in logs if x.precio is not None]
    assert len(billed) == 4 and {x.precio_unidad for x in billed} == {"COP"}
    assert r.costo_real == sum(x.precio for x in billed) == sum(PRICE * x.segmentos for x in billed)
    assert r.moneda_real == "COP"
    segments = sum(x.segmentos for x in logs if x.estado == "enviado")
    assert r.segmentos == segments
    assert r.costo_estimado == segments * app.config["SMS_PRICE_PER_SEGMENT"]
    assert r.clics_unicos is None and r.tasa_clics is None  # no tracked links in this campaign
    assert r.tasa_entrega == 3 / 5
    assert r.bajas_72h == 0


def test_a_repeated_or_late_callback_never_changes_the_price(campaign_a, client, fake):
    row = next(x for x in rows(campaign_a) if x.estado_entrega == "delivered")
    params = {
        "MessageSid": row.twilio_sid,
        "MessageStatus": "delivered",
        "Price": "-999.00",
        "PriceUnit": "COP",
    }
    signature = fake.simulator.sign_callback(STATUS_URL, params)
    assert (
        client.post("/twilio/status", data=params, headers={"X-Twilio-Signature": signature}).status_code
        == 204
    )
    db.session.expire_all()
    assert db.session.get(SMSLog, row.id).precio == row.precio == PRICE * row.segmentos


@pytest.mark.parametrize(
    ("price", "unit"),
    [("abc", "USD"), ("NaN", "USD"), ("1e999", "USD"), ("-0.0075", "dólares"), ("", "USD"), ("sNaN", "USD")],
)
def test_a_price_that_is_not_one_is_ignored(price, unit):
    assert price_of({"Price": price, "PriceUnit": unit}) is None


def test_a_price_is_stored_positive_with_its_currency():
    assert price_of({"Price": "-0.00750", "PriceUnit": "usd"}) == (Decimal("0.00750"), "USD")


def test_opt_outs_count_within_72_hours_only_and_within_the_tenant(campaign_a, client, fake, tenants, app):
    sent = [r for r in rows(campaign_a) if r.estado == "enviado"]
    # Tenant B has a client with the number of A's fifth recipient and withdraws it: not A's opt-out.
    other = factories.cliente(tenants.admin_b, telefono=sent[4].telefono[3:])
    with at("2026-12-07 12:00"):
        _reply(client, fake, sent[0].telefono, "SALIR")  # 2 h after: counts
        with tenancy.using(tenants.admin_b):
            db.session.get(Cliente, other.id_cliente).acepta_sms = False
            db.session.commit()
    with at("2026-12-10 09:00"):  # 71 h after, by the form: counts
        cliente = db.session.get(Cliente, sent[1].id_cliente)
        with tenancy.using(tenants.admin_a):
            cliente.acepta_sms = False
            db.session.commit()
    with at("2026-12-10 11:00"):  # 73 h after: too late to be this campaign's
        _reply(client, fake, sent[2].telefono, "BAJA")
    assert resultados.de_campana(campaign_a).bajas_72h == 2
    with at("2026-12-06 10:00"):  # before it was sent: neither
        with tenancy.using(tenants.admin_a):
            db.session.get(Cliente, sent[3].id_cliente).acepta_sms = False
            db.session.commit()
    assert resultados.de_campana(campaign_a).bajas_72h == 2


def test_another_tenants_campaign_is_never_counted(campaign_a, client, fake, tenants):
    with at(SENT_AT, tick=True):
        cid_b = _send(tenants.admin_b, A_PHONES[:3], nombre="De B")  # the same numbers, tenant B
        for r in rows(cid_b):
            _callback(client, fake, r.twilio_sid, "delivered")
    both = resultados.de_campanas([campaign_a, cid_b])  # by id: the rows come in no set order
    a, b = both[campaign_a], both[cid_b]
    assert (a.enviados, a.entregados) == (5, 3)
    assert (b.enviados, b.entregados, b.fallidos, b.omitidos) == (3, 3, 0, 0)
    with tenancy.using(tenants.admin_a):  # A's scope: B's campaign is not there at all
        assert resultados.de_campana(cid_b) is None
        assert [r.campana_id for r in resultados.ultimas(5)] == [campaign_a]


def test_the_campaign_page_shows_the_figures_and_the_charts_data(campaign_a, client, app):
    r = resultados.de_campana(campaign_a)
    login(client, "admin.a@test.co")
    html = client.get(f"/admin/campanas-sms/{campaign_a}/").get_data(as_text=True)
    cell = lambda name: re.search(rf'data-resultado="{name}">(.*?)</td>', html, re.S).group(1)  # noqa: E731
    assert cell("enviados") == "5" and cell("fallidos") == "1" and cell("omitidos") == "1"
    assert cell("entregados").startswith("3 ") and "(60 %)" in cell("entregados")
    assert cell("clics_unicos") == "—" and cell("tasa_clics") == "—"
    assert "clics-cliente" not in html and "Solo quienes abrieron" not in html  # no links: no column
    assert cell("costo_real") == formatting.cost(r.costo_real.normalize(), "COP")
    assert cell("costo_estimado") == formatting.cost(r.costo_estimado.normalize(), "COP")
    chart = json.loads(re.search(r'id="resultados-data">(.*?)</script>', html, re.S).group(1))
    assert chart["valores"] == [5, 3, 1, 1, 1, None, 0]
    assert "campana_resultados.js" in html and 'id="chart-resultados"' in html


def test_the_api_campaign_json_carries_the_results(campaign_a, client, keys):
    r = resultados.de_campana(campaign_a)
    response = client.get(f"/clientes/campanas-sms/{campaign_a}/", headers=keys.admin_a)
    assert response.status_code == 200
    body = response.get_json()
    got = body["resultados"]
    assert {"entregados", "clics_unicos", "tasa_clics", "bajas_72h", "costo_real"} <= got.keys()
    assert got["entregados"] == 3 and got["clics_unicos"] is None and got["tasa_clics"] is None
    assert got["bajas_72h"] == 0
    assert Decimal(got["costo_real"]) == r.costo_real and got["moneda_costo_real"] == "COP"
    assert Decimal(got["costo_estimado"]) == r.costo_estimado


def test_the_export_has_the_results_columns(campaign_a, client, app):
    r = resultados.de_campana(campaign_a)
    login(client, "admin.a@test.co")
    (fila,) = by_header(read_csv(download(client, "/admin/campanas-sms/exportar/csv/"), ","))
    assert fila["Entregados"] == "3" and fila["No entregados"] == "1" and fila["Omitidos"] == "1"
    assert fila["Clics únicos"] == "" and fila["Tasa de clics (%)"] == ""
    assert fila["Bajas en 72 h"] == "0"
    assert Decimal(fila["Costo real"]) == r.costo_real and fila["Moneda del costo real"] == "COP"
    assert Decimal(fila["Costo estimado (COP)"]) == r.costo_estimado


def test_the_dashboard_compares_the_last_campaigns(campaign_a, client, fake, tenants):
    with at("2026-12-08 10:00", tick=True):
        second = _send(tenants.admin_a, [f"+57300200000{i}" for i in range(2)], nombre="Año nuevo")
        for r in rows(second):
            _callback(client, fake, r.twilio_sid, "delivered")
    login(client, "admin.a@test.co")
    html = client.get("/admin/").get_data(as_text=True)
    data = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', html, re.S).group(1))
    compared = data["resultados"]
    assert [c["nombre"] for c in compared] == ["Navidad", "Año nuevo"]  # oldest first, as a chart reads
    assert [c["entrega"] for c in compared] == [60.0, 100.0]
    assert [c["clics"] for c in compared] == [None, None]
    assert 'data-testid="tabla-resultados"' in html and 'id="chart-resultados"' in html
    row = re.search(rf'data-campana="{second}">(.*?)</tr>', html, re.S).group(1)
    assert "(100 %)" in row


def test_the_simulator_bills_only_what_reached_the_carrier():
    sim = TwilioSimulator(price=Decimal("0.0075"), price_unit="USD")
    status, body = sim.create({"To": "+573001234567", "From": "+15005550006", "Body": "Hola"})
    assert status == 201
    failed, _ = sim.callback(STATUS_URL, body["sid"], "failed")
    assert "Price" not in failed
    delivered, signature = sim.callback(STATUS_URL, body["sid"], "delivered")
    assert delivered["Price"] == "-0.00750" and delivered["PriceUnit"] == "USD" and signature
    assert sim.fetch(body["sid"])[1]["price"] == "-0.00750"


def test_a_campaign_not_yet_sent_reads_zero_and_no_cost(app, tenants):
    ids = [factories.cliente(tenants.admin_a, telefono="3005550001").id_cliente]
    with tenancy.using(tenants.admin_a):
        cid = outbox.create_campaign(
            user_id=tenants.admin_a.id,
            cliente_query=sa.select(Cliente).where(Cliente.id_cliente.in_(ids)),
            mensaje="Hola",
            tipo="transaccional",
        ).id
    r = resultados.de_campana(cid)
    assert (r.enviados, r.entregados, r.bajas_72h, r.costo_real, r.costo_estimado) == (0, 0, 0, None, 0)
    assert r.tasa_entrega is None and r.api()["costo_real"] is None
    assert timedelta(hours=72) == resultados.PLAZO_BAJAS


@pytest.fixture
def webhook_server(database_url):
    """The app in its own process (its webhooks on a real port), checking Twilio's signatures
    with the fake's token; no sender of its own."""
    from .browser.conftest import serve, stop

    env = {"SMS_EMBEDDED_SENDER": "0", "TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID}
    server = serve(
        database_url, env | {"TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN, "TWILIO_FROM_NUMBER": "+15005550006"}
    )
    yield server
    stop(server)


def test_the_fake_posts_priced_signed_callbacks_that_the_webhook_records(app, tenants, webhook_server):
    """As Twilio does: the message names its StatusCallback (PUBLIC_BASE_URL), the fake posts
    "sent" and "delivered" with the price to the served app, and the results count them."""
    # The callbacks come 3 s after each create, as a carrier's do: after the sender stored the SID
    # even on a loaded machine (a callback before it would find no row).
    with FakeTwilio(seed=3, price=PRICE, price_unit="COP", deliver=3.0) as fake:
        configure(app, {**fake.config(), "TWILIO_TIMEOUT": 2}, PUBLIC_BASE_URL=webhook_server.url)
        cid = _send(tenants.admin_a, [f"+57300300000{i}" for i in range(3)], nombre="Con callbacks")
        deadline = time.monotonic() + 60  # a bound for a loaded machine, not a speed
        while time.monotonic() < deadline and not all(r.estado_entrega == "delivered" for r in rows(cid)):
            time.sleep(0.1)
    logs = rows(cid)
    assert [r.estado_entrega for r in logs] == ["delivered"] * 3
    r = resultados.de_campana(cid)
    assert r.entregados == 3 and r.costo_real == sum(PRICE * x.segmentos for x in logs)


def test_unique_clicks_come_from_the_tracked_links_of_this_tenant_only(sending, client, fake, tenants):
    """Clicks counted once per recipient, over the delivered; another tenant's clicks never show."""
    sending.config["PUBLIC_BASE_URL"] = "http://localhost"  # the callbacks are signed for it
    with at(SENT_AT, tick=True):
        mensaje = "Hola {nombre}: https://tienda.test/oferta"
        cid = _send(tenants.admin_a, [f"+57300200000{i}" for i in range(4)], mensaje=mensaje)
        other = _send(tenants.admin_b, ["+573002000009"], mensaje=mensaje, nombre="Otra")
        for r in rows(cid):
            _callback(client, fake, r.twilio_sid, "delivered")
    assert resultados.de_campana(cid).clics_unicos == 0  # links sent, nobody clicked yet
    codes = [re.search(r"/l/(\w{8})", r.mensaje).group(1) for r in rows(cid)]
    other_code = re.search(r"/l/(\w{8})", rows(other)[0].mensaje).group(1)
    for code in (codes[0], codes[0], codes[1], other_code, other_code):
        assert client.get(f"/l/{code}").status_code == 302
    db.session.expire_all()
    r = resultados.de_campana(cid)
    assert (r.entregados, r.clics_unicos) == (4, 2)
    assert r.tasa_clics == 2 / 4
    assert resultados.de_campana(other).clics_unicos == 1
    # The campaign page says who clicked: each recipient's clicks, and the filter of those who did.
    login(client, "admin.a@test.co")
    page = client.get(f"/admin/campanas-sms/{cid}/").get_data(as_text=True)
    assert "Solo quienes abrieron un enlace" in page
    assert sorted(re.findall(r'data-testid="clics-cliente">(\d+)<', page)) == ["0", "0", "1", "2"]
    page = client.get(f"/admin/campanas-sms/{cid}/?clic=1").get_data(as_text=True)
    assert sorted(re.findall(r'data-testid="clics-cliente">(\d+)<', page)) == ["1", "2"]
