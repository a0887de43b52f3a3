"""Tokens de API in the panel: shown once, stored hashed, revocable, tenant-scoped."""

import hashlib
import re

import pytest
import sqlalchemy as sa

from panel.admin.configuracion.tokens_api import register_token_views
from panel.extensions import db
from panel.models import ApiToken

from .api_support import BASE, auth, token_for
from .conftest import make_app
from .helpers import csrf_from, login

URL = "/admin/tokens/"


@pytest.fixture(autouse=True)
def _registered(app):
    """The view's own tests run even before the panel wires it (see the test just below)."""
    if "tokens.index" not in app.view_functions:
        register_token_views(app.extensions["panel_admin"])


def test_the_tokens_view_is_part_of_the_panel(database_url):
    assert "tokens.index" in make_app(database_url).view_functions, (
        "falta register_token_views(admin) en panel/admin/__init__.py"
    )


def _create(client, user_id: int) -> tuple[str, str]:
    page = client.get(URL)
    token = csrf_from(page.data)
    response = client.post(URL, data={"csrf_token": token, "id_usuario": user_id, "nombre": "CRM"})
    html = response.get_data(as_text=True)
    key = re.search(r'data-testid="clave">([^<]+)<', html)
    return (key.group(1) if key else ""), html


def test_an_admin_creates_a_token_shown_once_and_stored_hashed(client, tenants):
    login(client, "admin.a@test.co")
    key, _html = _create(client, tenants.vendedor_a.id)
    row = db.session.scalar(sa.select(ApiToken))
    assert key and row.token_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.id_usuario == tenants.vendedor_a.id
    assert key not in client.get(URL).get_data(as_text=True)  # never shown again
    assert client.get(BASE, headers=auth(key)).status_code == 200


def test_an_admin_revokes_a_token(client, tenants):
    key = token_for(tenants.vendedor_a.id)
    login(client, "admin.a@test.co")
    row = db.session.scalar(sa.select(ApiToken))
    token = csrf_from(client.get(URL).data)
    response = client.post(f"{URL}{row.id}/revocar", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get(BASE, headers=auth(key)).status_code == 401


def test_revoking_without_csrf_is_refused(client, tenants):
    token_for(tenants.vendedor_a.id)
    login(client, "admin.a@test.co")
    row = db.session.scalar(sa.select(ApiToken))
    assert client.post(f"{URL}{row.id}/revocar").status_code == 400
    db.session.refresh(row)
    assert not row.revocado


def test_another_tenants_tokens_are_invisible_and_cannot_be_revoked(client, tenants):
    token_for(tenants.vendedor_b.id)
    login(client, "admin.a@test.co")
    row = db.session.scalar(sa.select(ApiToken))
    page = client.get(URL).get_data(as_text=True)
    assert "vendedor.b@test.co" not in page and row.prefijo not in page
    token = csrf_from(page)
    assert client.post(f"{URL}{row.id}/revocar", data={"csrf_token": token}).status_code == 404
    key, _html = _create(client, tenants.vendedor_b.id)  # not among the choices
    assert key == "" and db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 1


def test_clientes_are_not_offered_and_vendedores_cannot_manage_tokens(client, tenants):
    login(client, "admin.a@test.co")
    assert "cliente.a@test.co" not in client.get(URL).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/logout").data)})
    login(client, "vendedor.a@test.co")
    assert client.get(URL).status_code == 403
