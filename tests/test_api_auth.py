"""Who may call the API: tokens, the panel session with CSRF, 401/403 always in JSON."""

import hashlib

import pytest
import sqlalchemy as sa

from panel.api.tokens import TokenError, create_token
from panel.extensions import db
from panel.models import ApiToken, Usuario

from .api_support import BASE, auth, body, cliente_of, count_clientes, cuenta_cliente, keys, token_for
from .helpers import csrf_of, login

__all__ = ["keys"]

EVERY_ENDPOINT = [
    ("get", BASE),
    ("post", BASE),
    ("get", BASE + "1/"),
    ("put", BASE + "1/"),
    ("patch", BASE + "1/"),
    ("delete", BASE + "1/"),
    ("post", "/clientes/crear/ajax/"),
    ("get", "/clientes/plantillas-sms/"),
    ("post", "/clientes/enviar-sms/"),
    ("get", "/clientes/campanas-sms/1/"),
]
WRITES = [(m, u) for m, u in EVERY_ENDPOINT if m != "get" and "enviar-sms" not in u]


@pytest.mark.parametrize("method,url", EVERY_ENDPOINT)
def test_without_credentials_every_endpoint_answers_401_in_json(client, method, url):
    response = getattr(client, method)(url, json={})
    assert response.status_code == 401
    assert response.is_json and "credenciales" in response.json["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Token")
    assert "Location" not in response.headers


@pytest.mark.parametrize("header", ["Token nada-de-esto", "Bearer ", "Basic YWRtaW46eA==", "Token a b"])
def test_a_wrong_or_malformed_token_is_401(client, tenants, header):
    response = client.get(BASE, headers={"Authorization": header})
    assert response.status_code == 401 and response.is_json


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
def test_token_and_bearer_both_authenticate(client, tenants, scheme):
    key = token_for(tenants.admin_a.id)
    assert client.get(BASE, headers=auth(key, scheme)).status_code == 200


def test_a_token_request_gets_no_session_cookie(client, tenants):
    key = token_for(tenants.admin_a.id)
    for method, url in [("get", BASE), ("post", BASE)]:
        response = getattr(client, method)(url, headers=auth(key), json={})
        assert "Set-Cookie" not in response.headers, (method, response.headers)


def test_a_token_does_not_open_the_panel(client, tenants):
    key = token_for(tenants.admin_a.id)
    response = client.get("/admin/", headers=auth(key))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_token_user_is_the_tenant_scope(client, tenants):
    mine = cliente_of(tenants.admin_b.id).id_cliente
    cliente_of(tenants.admin_a.id)
    response = client.get(BASE, headers=auth(token_for(tenants.vendedor_b.id)))
    assert [c["id_cliente"] for c in response.json["results"]] == [mine]


def test_only_the_sha256_is_stored_and_last_use_is_recorded(client, tenants):
    key = token_for(tenants.admin_a.id)
    row = db.session.scalar(sa.select(ApiToken))
    assert row.token_hash == hashlib.sha256(key.encode()).hexdigest() and key not in (row.prefijo, row.nombre)
    assert row.ultimo_uso is None
    client.get(BASE, headers=auth(key))
    db.session.refresh(row)
    assert row.ultimo_uso is not None


def test_a_revoked_token_is_refused(client, tenants):
    key = token_for(tenants.admin_a.id)
    db.session.scalar(sa.select(ApiToken)).revocado = True
    db.session.commit()
    assert client.get(BASE, headers=auth(key)).status_code == 401


def test_an_inactive_users_token_is_refused(client, tenants):
    key = token_for(tenants.vendedor_a.id)
    db.session.get(Usuario, tenants.vendedor_a.id).activo = False
    db.session.commit()
    assert client.get(BASE, headers=auth(key)).status_code == 401


def test_a_cliente_account_gets_no_token(app, tenants):
    with pytest.raises(TokenError, match="cliente"):
        create_token(db.session.get(Usuario, tenants.cliente_a.id))


@pytest.mark.parametrize("method,url", WRITES)
def test_a_vendedor_may_not_write_clients(client, keys, tenants, method, url):
    cliente = cliente_of(tenants.admin_a.id)
    url = url.replace("/1/", f"/{cliente.id_cliente}/")
    before = count_clientes()
    response = getattr(client, method)(url, headers=keys.vendedor_a, json={"nombre": "X"})
    assert response.status_code == 403 and response.is_json
    assert count_clientes() == before


@pytest.mark.parametrize("url", [BASE, "/clientes/plantillas-sms/"])
def test_a_vendedor_may_read(client, keys, url):
    assert client.get(url, headers=keys.vendedor_a).status_code == 200


# --- the panel session ----------------------------------------------------------------------


def test_the_panel_session_reads_the_api(client, tenants):
    cliente_of(tenants.admin_a.id)
    login(client, "admin.a@test.co")
    response = client.get(BASE)
    assert response.status_code == 200 and response.json["count"] == 1


def test_a_session_write_without_csrf_is_refused_in_json(client, tenants):
    login(client, "admin.a@test.co")
    cuenta = cuenta_cliente(tenants.admin_a.id, "nueva@test.co")
    response = client.post(BASE, json=body(cuenta))
    assert response.status_code == 403 and "CSRF" in response.json["detail"]
    assert count_clientes() == 0


def test_a_session_write_with_the_csrf_header_is_accepted(client, tenants):
    login(client, "admin.a@test.co")
    cuenta = cuenta_cliente(tenants.admin_a.id, "nueva@test.co")
    response = client.post(BASE, json=body(cuenta), headers={"X-CSRFToken": csrf_of(client)})
    assert response.status_code == 201, response.json


# --- flask create-token ---------------------------------------------------------------------


def test_create_token_prints_the_key_alone_on_its_last_line(runner, client, tenants):
    result = runner.invoke(args=["create-token", "--email", "admin.a@test.co"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert " " not in key and len(key) >= 40
    assert client.get(BASE, headers=auth(key)).status_code == 200


@pytest.mark.parametrize(
    "email,message", [("cliente.a@test.co", "cliente"), ("nadie@test.co", "No existe un usuario")]
)
def test_create_token_refuses_clientes_and_unknown_users(runner, tenants, email, message):
    result = runner.invoke(args=["create-token", "--email", email])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_token_header_wins_over_the_panel_session(client, tenants):
    """The credential sent explicitly decides: a revoked token is 401 even with a session."""
    key = token_for(tenants.admin_b.id)
    cliente_of(tenants.admin_a.id)
    login(client, "admin.a@test.co")
    assert client.get(BASE, headers=auth(key)).json["count"] == 0  # admin B's view, not A's session
    db.session.scalar(sa.select(ApiToken)).revocado = True
    db.session.commit()
    assert client.get(BASE, headers=auth(key)).status_code == 401
    assert client.get(BASE).status_code == 200
