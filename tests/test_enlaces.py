"""Tracked links (SPEC §20): per-recipient short links in the messages the fake Twilio receives,
the public redirect that counts clicks, and a campaign's clicks per tenant."""

import re
import secrets
from datetime import datetime

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.models import Cliente, EnlaceSMS
from panel.sms import enlaces, outbox, sender
from panel.sms.encoding import analyze

from . import factories
from .api_support import keys
from .clock_fixtures import at
from .conftest import make_app
from .helpers import csrf_of, login
from .support.sms import configure, rows

__all__ = ["keys"]

BASE = "https://clics.panel.test"
LINK = re.compile(re.escape(BASE) + r"/l/([A-Za-z0-9]+)")
URL = "https://tienda.example.co/oferta?producto=123&canal=sms"
MENSAJE = "Hola {nombre}, mira " + URL + ". Te esperamos"


def _clients(owner, n: int, prefix: str = "3005") -> list[int]:
    return [factories.cliente(owner, telefono=f"{prefix}{i:06d}").id_cliente for i in range(n)]


def _campaign(owner, ids, mensaje: str = MENSAJE, acortar: bool = True) -> int:
    """A transactional campaign (no contact window: these tests hold at any hour)."""
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        campana = outbox.create_campaign(
            user_id=owner.id,
            cliente_query=query,
            mensaje=mensaje,
            nombre="Enlaces",
            tipo="transaccional",
            acortar_enlaces=acortar,
        )
    return campana.id


def _links(campana_id: int) -> list[EnlaceSMS]:
    db.session.expire_all()
    stmt = sa.select(EnlaceSMS).where(EnlaceSMS.id_campana == campana_id).order_by(EnlaceSMS.id)
    return list(db.session.scalars(stmt))


def _clics(owner, campana_id: int) -> tuple[int, int]:
    db.session.expire_all()
    with tenancy.using(owner):
        return enlaces.clics(campana_id)


@pytest.fixture
def sending(app, twilio_app_config):
    configure(app, twilio_app_config, PUBLIC_BASE_URL=BASE)
    return app


def test_each_recipient_receives_its_own_short_link(sending, tenants, fake_twilio):
    cid = _campaign(tenants.admin_a, _clients(tenants.admin_a, 3))
    assert sender.run_campaign(cid)["enviado"] == 3
    bodies = {m["to"]: m["body"] for m in fake_twilio.created}
    assert len(bodies) == 3
    codes = {}
    for to, body in bodies.items():
        assert URL not in body
        found = LINK.findall(body)
        assert len(found) == 1 and body.endswith(f"/l/{found[0]}. Te esperamos")  # the «.» is the text's
        codes[to] = found[0]
    assert len(set(codes.values())) == 3
    assert all(enlaces.CODIGO.fullmatch(c) and len(c) == 8 for c in codes.values())
    by_code = {link.codigo: link for link in _links(cid)}
    phones = dict(db.session.execute(sa.select(Cliente.id_cliente, Cliente.telefono_e164)).all())
    assert set(by_code) == set(codes.values())
    for to, code in codes.items():
        link = by_code[code]
        assert (link.url, phones[link.id_cliente], link.clics, link.primer_clic) == (URL, to, 0, None)
        assert link.id_propietario == tenants.admin_a.id


def test_segments_and_the_review_count_the_short_link(sending, tenants, fake_twilio):
    largo = "https://tienda.example.co/" + "p" * 150
    mensaje = "Hola {nombre}: " + largo
    ids = _clients(tenants.admin_a, 2)
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(tenants.admin_a):
        long_review = outbox.dry_run(query, mensaje, "transaccional")
        short_review = outbox.dry_run(query, mensaje, "transaccional", acortar_enlaces=True)
    assert long_review["segmentos_total"] == 4  # two texts of 2 segments with the long URL
    assert short_review["segmentos_total"] == 2
    shown = short_review["vista_previa"][0]["mensaje"]
    assert shown.endswith(f"{BASE}/l/{enlaces.RELLENO}")
    cid = _campaign(tenants.admin_a, ids, mensaje)
    sender.run_campaign(cid)
    sent = {m["body"] for m in fake_twilio.created}
    for log in rows(cid):
        assert log.mensaje in sent and largo not in log.mensaje and LINK.search(log.mensaje)
        assert log.segmentos == analyze(log.mensaje).segments == 1


def test_a_click_redirects_and_counts_once_per_recipient_for_unicos(sending, tenants, client):
    cid = _campaign(tenants.admin_a, _clients(tenants.admin_a, 2))
    first, second = _links(cid)
    with at("2026-12-07 10:00"):
        response = client.get(f"/l/{first.codigo}")
    assert response.status_code == 302 and response.headers["Location"] == URL
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # nothing given to, or kept of, the visitor
    assert _clics(tenants.admin_a, cid) == (1, 1)
    with at("2026-12-07 11:30"):
        assert client.get(f"/l/{first.codigo}").status_code == 302
    assert _clics(tenants.admin_a, cid) == (1, 2)  # the same recipient again: total, not unique
    link = _links(cid)[0]
    assert (link.clics, link.primer_clic, link.ultimo_clic) == (
        2,
        datetime(2026, 12, 7, 15, 0),  # stored UTC
        datetime(2026, 12, 7, 16, 30),
    )
    assert client.get(f"/l/{second.codigo}").status_code == 302
    assert _clics(tenants.admin_a, cid) == (2, 3)


def test_a_head_answers_the_redirect_without_counting(sending, tenants, client):
    cid = _campaign(tenants.admin_a, _clients(tenants.admin_a, 1))
    (link,) = _links(cid)
    assert client.get(f"/l/{link.codigo}").status_code == 302  # a GET counts…
    assert _clics(tenants.admin_a, cid) == (1, 1)
    response = client.head(f"/l/{link.codigo}")
    assert response.status_code == 302 and response.headers["Location"] == URL
    assert _clics(tenants.admin_a, cid) == (1, 1)  # …a HEAD does not


@pytest.mark.parametrize("codigo", ["ZZZZZZZZ", "abc", "a" * 9, "abcd-efg", "ñandú123", "' OR 1=1"])
def test_an_unknown_or_malformed_code_is_a_spanish_404(sending, tenants, client, codigo):
    _campaign(tenants.admin_a, _clients(tenants.admin_a, 1))  # a real link exists beside it
    response = client.get(f"/l/{codigo}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Este enlace no existe" in html and "Not Found" not in html
    assert "Location" not in response.headers


def test_another_tenants_clicks_never_show(sending, tenants, client):
    cid_a = _campaign(tenants.admin_a, _clients(tenants.admin_a, 1, "3006"))
    cid_b = _campaign(tenants.admin_b, _clients(tenants.admin_b, 1, "3007"))
    (link_b,) = _links(cid_b)
    assert client.get(f"/l/{link_b.codigo}").status_code == 302
    assert _clics(tenants.admin_b, cid_b) == (1, 1)  # B sees its own click
    assert _clics(tenants.admin_a, cid_b) == (0, 0)  # A asking for B's campaign sees nothing
    assert _clics(tenants.admin_a, cid_a) == (0, 0)
    with tenancy.using(tenants.admin_a):
        assert db.session.scalars(sa.select(EnlaceSMS.codigo)).all() == [_links(cid_a)[0].codigo]


def test_codes_are_eight_characters_of_the_alphabet_and_distinct():
    codes = enlaces.new_codes(2000)
    assert len(set(codes)) == 2000
    assert all(len(c) == 8 and set(c) <= set(enlaces.ALFABETO) for c in codes)
    assert len(enlaces.ALFABETO) == 62


def test_a_code_another_campaign_holds_is_drawn_again(sending, tenants, monkeypatch):
    cid = _campaign(tenants.admin_a, _clients(tenants.admin_a, 1, "3008"))
    (taken,) = _links(cid)
    draws = iter(taken.codigo)  # the first draw repeats the existing code, then chance again

    class Scripted:
        @staticmethod
        def choice(alphabet):
            return next(draws, None) or secrets.choice(alphabet)

    monkeypatch.setattr(enlaces, "secrets", Scripted)
    cid2 = _campaign(tenants.admin_a, _clients(tenants.admin_a, 1, "3009"))
    (fresh,) = _links(cid2)
    assert fresh.codigo != taken.codigo and enlaces.CODIGO.fullmatch(fresh.codigo)
    assert LINK.search(rows(cid2)[0].mensaje).group(1) == fresh.codigo


def test_without_the_option_nothing_changes(sending, tenants, fake_twilio):
    cid = _campaign(tenants.admin_a, _clients(tenants.admin_a, 2), acortar=False)
    sender.run_campaign(cid)
    assert len(fake_twilio.created) == 2
    assert all(URL in m["body"] and BASE not in m["body"] for m in fake_twilio.created)
    assert _links(cid) == []


def test_a_message_without_urls_writes_no_links(sending, tenants):
    cid = _campaign(tenants.admin_a, _clients(tenants.admin_a, 2), mensaje="Hola {nombre}, sin enlaces")
    assert _links(cid) == [] and all("/l/" not in r.mensaje for r in rows(cid))


@pytest.mark.parametrize(
    "texto,urls",
    [
        ("Ver (https://a.co/x) hoy", ["https://a.co/x"]),
        ("Dos: http://a.co/1, HTTPS://b.co/2!", ["http://a.co/1", "HTTPS://b.co/2"]),
        (
            "https://es.wikipedia.org/wiki/Bogot%C3%A1_(ciudad)",
            ["https://es.wikipedia.org/wiki/Bogot%C3%A1_(ciudad)"],
        ),
        ("Solo https:// sin sitio y www.ejemplo.co", []),
    ],
)
def test_urls_are_found_without_the_sentence_around_them(texto, urls):
    cut = enlaces.split(texto, BASE + "/l/")
    assert (list(cut.urls) if cut else []) == urls
    if cut:
        assert "".join(p + u for p, u in zip(cut.partes, [*cut.urls, ""], strict=True)) == texto
        shortened = cut.with_codes(["ABCDEFGH"] * len(urls))
        assert shortened.count(BASE + "/l/ABCDEFGH") == len(urls) and not any(u in shortened for u in urls)


# --- the API and the page -------------------------------------------------------------------------


@pytest.fixture
def api(app, database_url, twilio_app_config):
    return make_app(database_url, **twilio_app_config, SMS_SYNC_WAIT=15, PUBLIC_BASE_URL=BASE).test_client()


def test_the_api_shortens_with_acortar_enlaces(api, tenants, keys, fake_twilio):
    ids = _clients(tenants.admin_a, 2)
    body = {"cliente_ids": ids, "mensaje": MENSAJE, "tipo": "transaccional", "acortar_enlaces": True}
    response = api.post("/clientes/enviar-sms/", json=body, headers=keys.admin_a)
    assert response.status_code == 200, response.json
    assert len(fake_twilio.created) == 2
    codes = {LINK.search(m["body"]).group(1) for m in fake_twilio.created}
    assert codes == {link.codigo for link in _links(response.json["campana_id"])}


@pytest.mark.parametrize("value", ["true", 1, "si", [], {}])
def test_the_api_refuses_acortar_enlaces_that_is_not_a_boolean(api, tenants, keys, value):
    ids = _clients(tenants.admin_a, 1)
    body = {"cliente_ids": ids, "mensaje": MENSAJE, "tipo": "transaccional", "acortar_enlaces": value}
    response = api.post("/clientes/enviar-sms/", json=body, headers=keys.admin_a)
    assert response.status_code == 400
    assert response.json["errors"]["acortar_enlaces"] == ["Debe ser true o false."]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EnlaceSMS)) == 0


def test_the_page_reviews_with_the_short_link(sending, client, tenants):
    ids = ",".join(map(str, _clients(tenants.admin_a, 2)))
    login(client, tenants.admin_a.email)
    token = csrf_of(client, f"/admin/enviar-sms/?ids={ids}")
    data = {"ids": ids, "mensaje": MENSAJE, "tipo": "transaccional", "paso": "revisar", "csrf_token": token}
    page = client.post("/admin/enviar-sms/", data=data).get_data(as_text=True)
    assert URL.replace("&", "&amp;") in page and 'data-testid="aviso-enlaces"' not in page
    page = client.post("/admin/enviar-sms/", data=data | {"acortar_enlaces": "y"}).get_data(as_text=True)
    assert f"{BASE}/l/{enlaces.RELLENO}" in page and 'data-testid="aviso-enlaces"' in page
    assert '<input type="hidden" name="acortar_enlaces" value="y">' in page


# --- PostgreSQL's Row Level Security, as a role it binds (in the SQLite pass too) ------------------


def test_under_rls_links_are_written_per_tenant_and_the_redirect_still_finds_its_row(two_tenants, rls_app):
    admin_a, admin_b = two_tenants
    rls_app.config["PUBLIC_BASE_URL"] = BASE
    with tenancy.using(admin_a):
        ids_a = list(db.session.scalars(sa.select(Cliente.id_cliente)))
    with tenancy.using(admin_b):
        ids_b = list(db.session.scalars(sa.select(Cliente.id_cliente)))
    cid_a, cid_b = _campaign(admin_a, ids_a), _campaign(admin_b, ids_b)

    def raw(sql: str):
        with db.engine.begin() as conn:
            return conn.execute(sa.text(sql)).all()

    with tenancy.using(admin_a):  # plain SQL, no ORM filter: the policy alone
        assert {r[0] for r in raw("SELECT id_propietario FROM enlace_sms")} == {admin_a.id}
    with tenancy.using(tenancy.NO_TENANT):
        assert raw("SELECT codigo FROM enlace_sms") == []
    code_b = _links(cid_b)[0].codigo
    response = rls_app.test_client().get(f"/l/{code_b}")  # an anonymous visitor: no tenant
    assert response.status_code == 302 and response.headers["Location"] == URL
    assert _clics(admin_b, cid_b) == (1, 1)
    assert _clics(admin_a, cid_b) == (0, 0) and _clics(admin_a, cid_a) == (0, 0)
