"""Sessions the server can end: logout, a new password, deactivation, 8 hours."""

from datetime import timedelta

import time_machine

from panel import clock
from panel.extensions import db
from panel.models import Usuario

from .helpers import PASSWORD, csrf_from, csrf_of, login

NEW_PASSWORD = "otra-clave-segura-456"


def cookie_of(app, client) -> str:
    """The value of the client's session cookie (what an attacker would copy)."""
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def opens_admin(app, cookie: str, email: str) -> bool:
    """A fresh browser holding only ``cookie``: does /admin/ open as the logged-in user?"""
    browser = app.test_client()
    browser.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    page = browser.get("/admin/")
    if page.status_code == 302:
        assert page.headers["Location"].startswith("/login"), page.headers["Location"]
        return False
    assert page.status_code == 200 and email in page.get_data(as_text=True)
    return True


def logged_in_cookie(app, email: str) -> str:
    """Log ``email`` in through the form; its session cookie."""
    browser = app.test_client()
    assert login(browser, email).status_code == 302
    return cookie_of(app, browser)


def test_a_cookie_copied_before_logout_stops_working_after_it(app, client, tenants):
    login(client, "admin.a@test.co")
    copied = cookie_of(app, client)
    assert opens_admin(app, copied, "admin.a@test.co")
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert not opens_admin(app, copied, "admin.a@test.co")


def test_logout_ends_every_session_of_the_user(app, tenants):
    elsewhere = logged_in_cookie(app, "admin.a@test.co")
    here = app.test_client()
    login(here, "admin.a@test.co")
    here.post("/logout", data={"csrf_token": csrf_of(here)})
    assert not opens_admin(app, elsewhere, "admin.a@test.co")


def test_logging_in_again_after_logout_works(app, client, tenants):
    login(client, "admin.a@test.co")
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert opens_admin(app, logged_in_cookie(app, "admin.a@test.co"), "admin.a@test.co")


def test_an_admin_setting_a_vendedors_password_ends_the_vendedors_sessions(app, client, tenants):
    vendedor = logged_in_cookie(app, "vendedor.a@test.co")
    assert opens_admin(app, vendedor, "vendedor.a@test.co")
    login(client, "admin.a@test.co")
    url = f"/admin/usuarios/edit/?id={tenants.vendedor_a.id}"
    form = {"email": "vendedor.a@test.co", "nombre": "Vendedor", "rol": "vendedor", "activo": "y"}
    token = csrf_from(client.get(url).data)
    response = client.post(url, data=form | {"password": NEW_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert not opens_admin(app, vendedor, "vendedor.a@test.co")
    assert login(app.test_client(), "vendedor.a@test.co", PASSWORD).status_code == 401
    assert opens_admin(
        app, logged_in_cookie_with(app, "vendedor.a@test.co", NEW_PASSWORD), "vendedor.a@test.co"
    )


def logged_in_cookie_with(app, email: str, password: str) -> str:
    browser = app.test_client()
    assert login(browser, email, password).status_code == 302
    return cookie_of(app, browser)


def test_editing_a_vendedor_without_a_password_keeps_its_sessions(app, client, tenants):
    vendedor = logged_in_cookie(app, "vendedor.a@test.co")
    login(client, "admin.a@test.co")
    url = f"/admin/usuarios/edit/?id={tenants.vendedor_a.id}"
    form = {"email": "vendedor.a@test.co", "nombre": "Otro nombre", "rol": "vendedor", "activo": "y"}
    response = client.post(url, data=form | {"csrf_token": csrf_from(client.get(url).data)})
    assert response.status_code == 302
    assert opens_admin(app, vendedor, "vendedor.a@test.co")


def test_deactivating_a_user_ends_its_sessions(app, client, tenants):
    vendedor = logged_in_cookie(app, "vendedor.a@test.co")
    login(client, "admin.a@test.co")
    url = f"/admin/usuarios/edit/?id={tenants.vendedor_a.id}"
    form = {"email": "vendedor.a@test.co", "nombre": "Vendedor", "rol": "vendedor"}  # activo unticked
    response = client.post(url, data=form | {"csrf_token": csrf_from(client.get(url).data)})
    assert response.status_code == 302
    assert db.session.get(Usuario, tenants.vendedor_a.id).activo is False
    assert not opens_admin(app, vendedor, "vendedor.a@test.co")


def test_a_deactivated_users_old_sessions_stay_dead_when_it_is_reactivated(app, tenants):
    cookie = logged_in_cookie(app, "vendedor.a@test.co")
    user = db.session.get(Usuario, tenants.vendedor_a.id)
    user.activo = False
    db.session.commit()
    user.activo = True
    db.session.commit()
    assert not opens_admin(app, cookie, "vendedor.a@test.co")
    assert opens_admin(app, logged_in_cookie(app, "vendedor.a@test.co"), "vendedor.a@test.co")


def test_set_password_in_the_model_ends_every_session(app, tenants):
    cookie = logged_in_cookie(app, "admin.a@test.co")
    db.session.get(Usuario, tenants.admin_a.id).set_password(NEW_PASSWORD)
    db.session.commit()
    assert not opens_admin(app, cookie, "admin.a@test.co")


def test_flask_set_password_changes_it_and_ends_the_sessions(app, runner, tenants):
    cookie = logged_in_cookie(app, "vendedor.a@test.co")
    result = runner.invoke(args=["set-password", "--email", "vendedor.a@test.co", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert "Contraseña cambiada" in result.output
    assert not opens_admin(app, cookie, "vendedor.a@test.co")
    assert login(app.test_client(), "vendedor.a@test.co", NEW_PASSWORD).status_code == 302


def test_flask_set_password_refuses_an_unknown_email_or_a_short_password(app, runner, tenants):
    unknown = runner.invoke(args=["set-password", "--email", "nadie@test.co", "--password", NEW_PASSWORD])
    assert unknown.exit_code == 1 and "No existe un usuario" in unknown.output
    short = runner.invoke(args=["set-password", "--email", "admin.a@test.co", "--password", "corta"])
    assert short.exit_code == 1 and "al menos 8" in short.output
    assert login(app.test_client(), "admin.a@test.co", PASSWORD).status_code == 302


def test_a_session_lasts_at_most_eight_hours_from_login_even_when_in_use(app, client, tenants):
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        login(client, "admin.a@test.co")
        for _ in range(2):  # each page refreshes the signed cookie; the login time stays
            traveller.shift(timedelta(hours=3, minutes=59))
            assert opens_admin(app, cookie_of(app, client), "admin.a@test.co")
            client.get("/admin/")
        traveller.shift(timedelta(minutes=3))
        assert not opens_admin(app, cookie_of(app, client), "admin.a@test.co")


def test_csrf_tokens_expire_with_the_session(app, client, tenants):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        token = csrf_from(client.get("/login").data)
        traveller.shift(timedelta(hours=8, minutes=1))
        data = {"email": "admin.a@test.co", "password": PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 400
