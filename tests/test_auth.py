"""Login, logout, throttling, cookies and access to /admin/."""

import pytest

from panel import config
from panel.extensions import db
from panel.models import Usuario
from panel.models.users import _unknown_hash

from .conftest import make_app
from .helpers import PASSWORD, PASSWORD_METHOD, csrf_from, csrf_of, login


def test_login_page_is_spanish_with_email_and_password_fields(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Iniciar sesión" in html and 'name="email"' in html and 'name="password"' in html
    assert '<html lang="es">' in html


def test_admin_redirects_anonymous_users_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/")


def test_admin_logs_in_and_sees_the_admin_index(client, tenants):
    response = login(client, "admin.a@test.co")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "Panel de Clientes" in page and "admin.a@test.co" in page


@pytest.mark.parametrize(
    "email,password",
    [
        ("admin.a@test.co", "contraseña-mala"),
        ("nadie@test.co", PASSWORD),
        ("cliente.a@test.co", PASSWORD),  # a cliente account can never log in to the panel
    ],
)
def test_a_wrong_login_says_so_in_spanish_without_saying_which_part(client, tenants, email, password):
    response = login(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Correo o contraseña incorrectos." in html
    assert client.get("/admin/").status_code == 302


def test_an_inactive_user_cannot_log_in(client, tenants, app):
    db.session.get(Usuario, tenants.vendedor_a.id).activo = False
    db.session.commit()
    assert login(client, "vendedor.a@test.co").status_code == 401


def test_login_without_csrf_token_is_refused(client, tenants):
    response = client.post("/login", data={"email": "admin.a@test.co", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_passwords_are_stored_hashed(app, tenants):
    stored = db.session.get(Usuario, tenants.admin_a.id).password_hash
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_production_hashes_new_passwords_with_werkzeugs_full_scrypt(database_url, tenants):
    assert config.defaults()["PASSWORD_HASH_METHOD"] == "scrypt"  # what an operator gets unset
    app = make_app(database_url, PASSWORD_HASH_METHOD=None)  # unset: the default, not the tests'
    with app.app_context():
        user = db.session.get(Usuario, tenants.admin_a.id)
        user.set_password("otra-clave-segura")
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password("otra-clave-segura") and not user.check_password(PASSWORD)


def test_an_unknown_email_costs_a_check_of_the_same_method_as_a_real_account(app, client, tenants):
    user = db.session.get(Usuario, tenants.admin_a.id)
    user.set_password("otra-clave-segura")
    db.session.commit()
    method = user.password_hash.split("$", 1)[0]
    assert method == PASSWORD_METHOD  # the tests' lighter one, both for accounts and the dummy
    _unknown_hash.cache_clear()
    assert login(client, "nadie@test.co", "otra-clave-segura").status_code == 401
    assert _unknown_hash.cache_info().currsize == 1  # the unknown e-mail's check ran…
    assert _unknown_hash(method).startswith(method + "$")
    assert _unknown_hash.cache_info().hits == 1  # …with the accounts' method, not another


def test_failed_logins_are_throttled_per_account_with_a_spanish_message(client, tenants):
    for _ in range(5):
        assert login(client, "admin.a@test.co", "mala").status_code == 401
    blocked = login(client, "admin.a@test.co", PASSWORD)
    assert blocked.status_code == 429
    assert "Demasiados intentos fallidos" in blocked.get_data(as_text=True)


def test_successful_logins_do_not_count_towards_the_throttle(client, tenants):
    for _ in range(8):
        assert login(client, "admin.a@test.co").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_of(client)})


def test_session_cookie_is_httponly_and_samesite_lax(client, tenants):
    response = login(client, "admin.a@test.co")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_in_production(database_url, monkeypatch):
    from .conftest import make_app

    monkeypatch.setenv("PANEL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    app = make_app(database_url, SECRET_KEY="x" * 32)  # production refuses a shorter one
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_logout_needs_a_post_with_csrf(client, tenants):
    login(client, "admin.a@test.co")
    page = client.get("/logout")
    assert page.status_code == 200 and client.get("/admin/").status_code == 200
    assert client.post("/logout").status_code == 400  # no token: still logged in
    assert client.get("/admin/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(page.data)})
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "next_url,expected",
    [
        ("/admin/?page=2", "/admin/?page=2"),
        ("https://evil.example/", "/admin/"),
        ("//evil.example/", "/admin/"),
        ("/\\evil.example", "/admin/"),
    ],
)
def test_login_redirects_only_to_paths_of_this_site(client, tenants, next_url, expected):
    token = csrf_from(client.get("/login").data)
    response = client.post(
        "/login",
        data={"email": "admin.a@test.co", "password": PASSWORD, "csrf_token": token, "next": next_url},
    )
    assert response.headers["Location"] == expected


def test_flask_admin_strings_are_translated_to_spanish(app):
    from flask_admin.babel import gettext

    with app.test_request_context("/admin/"):
        assert gettext("Create") == "Crear"
        assert gettext("Delete") == "Eliminar"
