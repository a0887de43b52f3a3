"""What staff meet on the panel: a word after a password change, no empty "Programada para:",
no delete icon on a row that would answer 403."""

import re

from panel.extensions import db
from panel.models import Usuario

from .helpers import PASSWORD, csrf_of, login
from .support.sms import campaign


def test_a_password_change_says_so_and_keeps_this_session_only(app, client, tenants):
    login(client, tenants.vendedor_a.email)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)  # the cookie, copied elsewhere
    assert copy.get("/admin/mi-cuenta/").status_code == 200
    token = csrf_of(client, "/admin/mi-cuenta/")
    data = {"actual": PASSWORD, "nueva": "otra-clave-456", "repetida": "otra-clave-456", "csrf_token": token}
    page = client.post("/admin/mi-cuenta/clave", data=data, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Contraseña cambiada" in html
    assert page.request.path == "/admin/mi-cuenta/"  # still in, on Mi cuenta
    assert client.get("/admin/mi-cuenta/").status_code == 200
    assert copy.get("/admin/mi-cuenta/").status_code == 302  # every other session ended
    assert db.session.get(Usuario, tenants.vendedor_a.id).check_password("otra-clave-456")


def test_a_campaign_page_hides_its_empty_schedule(client, tenants):
    pk = campaign(db.session.get(Usuario, tenants.admin_a.id))
    login(client, tenants.admin_a.email)
    html = client.get(f"/admin/campanas-sms/{pk}/").get_data(as_text=True)
    assert 'data-testid="estado-campana"' in html  # the campaign's page
    assert re.search(r'data-testid="programada"[^>]* hidden>', html)
    assert re.search(r'data-testid="siguiente-envio"[^>]* hidden>', html)


def _delete_links(html: str) -> set[str]:
    return set(re.findall(r"/admin/usuarios/delete/\?id=(\d+)", html))


def test_no_delete_icon_on_a_row_the_user_may_not_delete(client, tenants):
    login(client, tenants.admin_a.email)
    html = client.get("/admin/usuarios/").get_data(as_text=True)
    assert tenants.admin_a.email in html  # its own row is listed
    assert str(tenants.vendedor_a.id) in _delete_links(html)  # its own vendedor: the icon is there
    assert str(tenants.admin_a.id) not in _delete_links(html)  # itself: no icon…
    assert client.get(f"/admin/usuarios/delete/?id={tenants.admin_a.id}").status_code == 403  # …it was a 403
