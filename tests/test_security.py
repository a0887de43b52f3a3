"""Security audit as tests: CSRF on every state-changing route (walked from the URL map), XSS,
spreadsheet formulas, open redirects, Twilio signatures, login throttling, cookies, headers, secrets."""

import csv
import hashlib
import io
import logging
import re

import openpyxl
import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from panel.extensions import db
from panel.models import ApiToken, Usuario
from panel.security import allowed_handlers, sha256_source

from . import factories
from .helpers import PASSWORD, csrf_of, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Documented exceptions to CSRF: Twilio's signed webhooks (they have no session at all).
CSRF_EXEMPT = {"twilio.status", "twilio.inbound"}


def _db_fingerprint() -> str:
    """A digest of every row of every table: any write changes it."""
    h = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns)):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def _own_rows(tenants) -> dict:
    admin = db.session.get(Usuario, tenants.admin_a.id)
    c = factories.cliente(admin)
    factories.plantilla(admin)
    return {
        "id": c.id_cliente,
        "rowid": [c.id_cliente],
        "cliente_ids": [c.id_cliente],
        "action": "desactivar",
    }


def _argument(rule, name: str, row_id: int):
    """A value the rule accepts: a format, an ``any(...)`` converter's first word, else the row's id."""
    if name in ("export_type", "formato"):
        return "csv"
    words = getattr(rule._converters.get(name), "items", None)
    return sorted(words)[0] if words else row_id


def _unsafe_rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & UNSAFE):
            if rule.endpoint == "auth.login" or rule.endpoint not in CSRF_EXEMPT:
                yield rule, method


@pytest.mark.parametrize("token", ["", "forjado.token.invalido"])
def test_every_state_changing_route_refuses_a_missing_or_forged_csrf_token(app, client, tenants, token):
    form = _own_rows(tenants)
    login(client, tenants.admin_a.email)
    before, tried, accepted = _db_fingerprint(), 0, []
    for rule, method in _unsafe_rules(app):
        values = {a: _argument(rule, a, form["id"]) for a in rule.arguments}
        url = rule.build(values, append_unknown=False)[1] + f"?id={form['id']}"
        body = dict(form, csrf_token=token) if token else form
        resp = client.open(url, method=method, data=body, headers={"X-CSRFToken": token} if token else {})
        json_resp = client.open(url, method=method, json=body)
        tried += 2
        for r in (resp, json_resp):
            if r.status_code not in (400, 401, 403, 405):
                accepted.append((method, url, r.status_code))
    print(f"[csrf] {tried} peticiones sin token válido a {tried // 2} rutas; aceptadas: {len(accepted)}")
    assert tried > 100
    assert accepted == []
    assert _db_fingerprint() == before
    # The same session with its real token is accepted: the refusals above were about the token.
    ok = client.post("/admin/clientes/action/", data=dict(form, csrf_token=csrf_of(client)))
    assert ok.status_code == 302


XSS = [
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "'-alert(1)-'",
    "</script><script>alert(2)</script>",
    "{{7*7}}<b>negrita</b>",
]


def _xss_rows(tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    for payload in XSS:
        empresa = factories.empresa(admin, nombre=payload)
        campana = factories.campana(admin, nombre=payload)
        factories.cliente(
            admin,
            nombre_cliente=payload[:20],
            apellido_cliente=payload[-20:],
            id_empresa=empresa.id,
            id_campana=campana.id,
        )
        factories.plantilla(admin, nombre=payload, mensaje=payload)
    return admin


def _raw_payload_in(html: str) -> list[str]:
    found = []
    for p in XSS:
        for piece in {p, p[:20], p[-20:]}:
            if "<" in piece and piece in html:
                found.append(piece)
    return found


def test_xss_payloads_come_back_escaped_in_list_details_export_and_dashboard(client, tenants):
    _xss_rows(tenants)
    login(client, tenants.admin_a.email)
    pages = ["/admin/", "/admin/clientes/", "/admin/empresas/", "/admin/campanas/", "/admin/historial/"]
    ids = [c for c in db.session.scalars(sa.text("SELECT id_cliente FROM cliente"))]
    pages += [f"/admin/clientes/details/?id={i}" for i in ids] + [
        f"/admin/clientes/edit/?id={i}" for i in ids
    ]
    for url in pages:
        resp = client.get(url)
        assert resp.status_code == 200, url
        html = resp.get_data(as_text=True)
        assert _raw_payload_in(html) == [], url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/admin/empresas/").get_data(as_text=True)
    for fmt in ("csv", "xlsx"):
        resp = client.get(f"/admin/clientes/exportar/{fmt}/")
        assert resp.status_code == 200
        assert "attachment" in resp.headers["Content-Disposition"]
        assert "html" not in resp.mimetype
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


FORMULAS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x")',
    "-2+3+cmd|' /C calc'",
    "+A1",
    "@A1",
    "=1,=2",
    "\n=1",
]


def _cells_csv(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def _cells_xlsx(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [
        (c.value, c.data_type) for ws in book for row in ws.iter_rows() for c in row if c.value is not None
    ]


def test_formula_corpus_is_fully_neutralised_in_csv_and_xlsx_exports(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    for p in FORMULAS:
        factories.cliente(admin, nombre_cliente=p[:20], apellido_cliente=p[:20], email=None)
    login(client, tenants.admin_a.email)
    csv_cells = _cells_csv(client.get("/admin/clientes/exportar/csv/").data)
    xlsx_cells = _cells_xlsx(client.get("/admin/clientes/exportar/xlsx/").data)
    corpus = {p[:20] for p in FORMULAS}
    csv_hits = [c for c in csv_cells if c.lstrip("'") in corpus]
    # The XLSX round trip turns a carriage return into a line feed; compare them as one.
    corpus |= {p.replace("\r", "\n") for p in corpus}
    xlsx_hits = [v for v, _ in xlsx_cells if isinstance(v, str) and v.lstrip("'") in corpus]
    print(
        f"[fórmulas] {len(FORMULAS)} cargas × 2 columnas: "
        f"CSV {len(csv_hits)} celdas, XLSX {len(xlsx_hits)} celdas"
    )

    def seen(hits):
        return {h.lstrip("'").replace("\r", "\n") for h in hits}

    assert seen(csv_hits) == seen(xlsx_hits) == {p[:20].replace("\r", "\n") for p in FORMULAS}
    assert all(c.startswith("'") for c in csv_hits), [c for c in csv_hits if not c.startswith("'")]
    assert all(v.startswith("'") for v in xlsx_hits)
    assert all(t != "f" for _, t in xlsx_cells), "una celda XLSX es una fórmula"


EVIL_NEXT = [
    "//evil.example",
    "https://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "/%2F%2Fevil.example",
    " //evil.example",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_next_redirects_only_to_our_own_paths(client, tenants, target):
    resp = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', resp.get_data(as_text=True)).group(1)
    data = {"email": tenants.admin_a.email, "password": PASSWORD, "csrf_token": token, "next": target}
    resp = client.post(f"/login?next={target}", data=data)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_a_good_next_is_kept(client, tenants):
    resp = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', resp.get_data(as_text=True)).group(1)
    data = {"email": tenants.admin_a.email, "password": PASSWORD, "csrf_token": token}
    resp = client.post("/login?next=/admin/clientes/", data=data)
    assert resp.headers["Location"] == "/admin/clientes/"


def test_flask_admin_return_url_cannot_leave_the_site(client, tenants):
    c = factories.cliente(db.session.get(Usuario, tenants.admin_a.id))
    login(client, tenants.admin_a.email)
    for evil in EVIL_NEXT[:4]:
        form = {"action": "activar", "rowid": [c.id_cliente], "url": evil, "csrf_token": csrf_of(client)}
        loc = client.post("/admin/clientes/action/", data=form).headers["Location"]
        assert "evil" not in loc, loc


def _signed(app, url: str, params: dict) -> dict:
    from panel.sms.webhooks import auth_token

    with app.test_request_context(url, method="POST", data=params):
        token = auth_token()
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature("http://localhost" + url, params)}


@pytest.mark.parametrize("path", ["/twilio/status", "/twilio/inbound"])
def test_twilio_webhooks_reject_unsigned_forged_and_replayed_with_changed_body(app, client, path):
    app.config["TWILIO_SIMULATION_TOKEN"] = "secreto-de-este-despliegue"
    params = {
        "MessageSid": "SM" + "1" * 32,
        "MessageStatus": "delivered",
        "From": "+573001234567",
        "Body": "HOLA",
    }
    good = _signed(app, path, params)
    assert client.post(path, data=params).status_code == 403
    assert client.post(path, data=params, headers={"X-Twilio-Signature": "Zm9yamFkbw=="}).status_code == 403
    assert client.post(path, data=params | {"Body": "STOP"}, headers=good).status_code == 403
    assert client.post(path, data=params | {"MessageStatus": "failed"}, headers=good).status_code == 403
    assert client.post(path + "?x=1", data=params, headers=good).status_code == 403
    assert client.post(path, data=params, headers=good).status_code in (200, 204)  # the genuine one


def test_login_throttling_engages_per_account(client, tenants):
    statuses = []
    for _ in range(7):
        resp = client.get("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', resp.get_data(as_text=True)).group(1)
        data = {"email": tenants.admin_a.email, "password": "mala-clave-123", "csrf_token": token}
        statuses.append(client.post("/login", data=data).status_code)
    assert 429 in statuses, statuses
    assert "Demasiados intentos" in client.post("/login", data=data).get_data(as_text=True)


def test_session_cookie_flags(database_url, tenants):
    from .conftest import make_app

    app = make_app(database_url, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    login(client, tenants.admin_a.email)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.secure and cookie.same_site == "Lax"


def test_production_config_sets_secure_cookies(monkeypatch):
    from panel import config

    monkeypatch.setenv("PANEL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    assert config.from_environment()["SESSION_COOKIE_SECURE"] is True
    assert config.Defaults.SESSION_COOKIE_HTTPONLY and config.Defaults.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.parametrize(
    "url", ["/login", "/admin/", "/admin/clientes/", "/api/openapi.json", "/admin/nada/"]
)
def test_security_headers_on_every_kind_of_page(client, tenants, url):
    login(client, tenants.admin_a.email)
    resp = client.get(url)
    h = resp.headers
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    csp = dict(part.strip().split(" ", 1) for part in h["Content-Security-Policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in h["Content-Security-Policy"]
    assert "'unsafe-eval'" not in h["Content-Security-Policy"]
    assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'", csp["script-src"])
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"


def test_every_inline_script_carries_the_nonce_and_every_handler_is_hashed(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    factories.cliente(admin)
    login(client, tenants.admin_a.email)
    for url in ["/admin/", "/admin/clientes/", "/admin/empresas/", "/admin/tokens/", "/login"]:
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        csp = resp.headers["Content-Security-Policy"]
        nonce = re.search(r"'nonce-([\w-]+)'", csp).group(1)
        for tag in re.findall(r"<script\b[^>]*>", html):
            if 'type="application/json"' in tag:
                continue  # data, not code
            assert f'nonce="{nonce}"' in tag or ("src=" in tag), (url, tag)
        for handler in re.findall(r'\son\w+="([^"]*)"', html):
            text = handler.replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"')
            assert sha256_source(text) in csp, (url, text)


def test_handler_allowlist_is_fixed_text_not_page_content(app):
    with app.test_request_context("/"):
        handlers = allowed_handlers(app)
    assert all("<" not in h and "alert" not in h for h in handlers)
    assert "return false;" in handlers


def test_passwords_and_tokens_are_stored_hashed(client, tenants, runner):
    user = db.session.get(Usuario, tenants.admin_a.id)
    assert PASSWORD not in user.password_hash and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    result = runner.invoke(args=["create-token", "--email", tenants.admin_a.email])
    key = result.output.strip().splitlines()[-1]
    stored = db.session.scalars(sa.select(ApiToken)).all()
    assert stored and all(
        key not in (t.token_hash + t.prefijo + t.nombre) or t.prefijo == key[:8] for t in stored
    )
    assert any(t.token_hash == hashlib.sha256(key.encode()).hexdigest() for t in stored)
    dump = repr([tuple(r) for r in db.session.execute(sa.text("SELECT * FROM api_token"))])
    assert key not in dump


def test_no_secret_in_logs(client, tenants, runner, caplog):
    caplog.set_level(logging.DEBUG)
    result = runner.invoke(args=["create-token", "--email", tenants.admin_b.email])
    key = result.output.strip().splitlines()[-1]
    login(client, tenants.admin_a.email)
    client.post("/login", data={"email": tenants.admin_b.email, "password": "otra-mala-clave"})
    client.get("/Database/Database/clientes/", headers={"Authorization": f"Token {key}"})
    client.get("/Database/Database/clientes/", headers={"Authorization": "Token malo-" + key[:10]})
    text = caplog.text
    assert PASSWORD not in text and "otra-mala-clave" not in text and key not in text and key[:20] not in text


@pytest.mark.parametrize(
    "method,url,data",
    [
        ("post", "/login", {"email": "a\x00@test.co", "password": "x"}),
        ("post", "/admin/usuarios/new/", {"email": "x", "nombre": "ok\x00"}),
        ("get", "/admin/clientes/?search=ab%00c", None),
        ("get", "/twilio/status?x=%00", None),
    ],
)
def test_a_nul_character_anywhere_is_a_400_before_any_view(client, tenants, method, url, data):
    login(client, tenants.admin_a.email)
    if data is not None:
        data = {**data, "csrf_token": csrf_of(client)}
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 400
