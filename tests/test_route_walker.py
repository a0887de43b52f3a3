"""Every route of the app, asked with ids no table holds (zero, negative, not a number, above
INTEGER, twenty digits), as each role: never a 5xx, and a 4xx is the panel's own Spanish page (or
JSON on the API's paths). The routes are read from ``app.url_map``, so a new route is walked
without editing this test; routes without path variables are asked with the same ids in ``?id=``
(Flask-Admin's details, edit and delete pages read it there).

One test per role (the four share the suite's workers), each with its client logged in once."""

import re

import pytest

from panel.api.error_responses import is_api_path
from panel.extensions import db
from panel.ids import MAX_ID

from .api_support import auth, token_for
from .helpers import csrf_of, login

BAD_IDS = ("0", "-1", "abc", str(MAX_ID + 1), "99999999999999999999")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
VARIABLE = re.compile(r"<[^>]+>")
ROLES = ("anonymous", "vendedor_a", "admin_a", "superadmin")
# Asking these would end the client's session or its throttle, not look anything up.
SKIP_ENDPOINTS = {"auth.logout", "auth.login"}
# The query-string ids the app reads (Flask-Admin's ?id=, a selection's ids=, Historial's
# record filter), all in one request: a page ignores those it does not read.
QUERY = "?id={0}&ids={0}&flt0_modelo=Cliente&flt1_registro={0}"


def _requests(app):
    """(method, url) of every rule: each path variable replaced by each bad id, or, for a rule
    without variables, its GET with each bad id in the query string."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        methods = [m for m in METHODS if m in rule.methods]
        if rule.arguments:
            for bad in BAD_IDS:
                for method in methods:
                    yield rule, method, VARIABLE.sub(bad, rule.rule)
        elif "GET" in methods:
            for bad in BAD_IDS:
                yield rule, "GET", rule.rule + QUERY.format(bad)


def _client(app, tenants, role: str):
    client = app.test_client()
    if role == "anonymous":
        return client, {}, None
    user = getattr(tenants, role)
    login(client, user.email)
    return client, auth(token_for(user.id)), csrf_of(client)


def _ask(client, method: str, url: str, headers: dict, token: str | None):
    if method == "GET":
        return client.get(url, headers=headers)
    path = url.split("?")[0]
    if is_api_path(path):
        return client.open(url, method=method, headers=headers, json={})
    return client.open(url, method=method, headers=headers, data={"csrf_token": token or ""})


def _problem(response, url: str, allowed: set) -> str | None:
    """What is wrong with this answer, if anything (``allowed``: the methods of the rule asked)."""
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if status == 405 and response.request.method in allowed:
        return "405 en lugar de 404: el id debe ser lo rechazado, no el método"
    if status < 400:
        return None
    path = url.split("?")[0]
    if is_api_path(path):
        return None if response.is_json else f"{status} sin JSON"
    html = response.get_data(as_text=True)
    if f'data-testid="pagina-error" data-codigo="{status}"' not in html:
        return f"{status} sin la página de error del panel"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_every_route_with_impossible_ids_answers_the_panels_own_4xx(app, tenants, role):
    requests = list(_requests(app))
    assert any("2147483648" in url for _, _, url in requests)  # the walk covers INTEGER's overflow
    problems = []
    client, headers, token = _client(app, tenants, role)
    if role != "anonymous":  # logged in as the role, or every answer below is the login page's
        assert client.get("/admin/").status_code == 200
    for rule, method, url in requests:
        try:  # TESTING propagates an unhandled exception: it is the 500 a user would get
            problem = _problem(_ask(client, method, url, headers, token), url, rule.methods)
        except Exception as exc:
            problem = f"500 ({type(exc).__name__}: {str(exc)[:80]})"
        if problem is not None:
            problems.append(f"{role} {method} {url}: {problem}")
    db.session.rollback()
    assert not problems, "\n".join(problems)


def test_the_id_converter_takes_integer_keys_and_nothing_else(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/admin/campanas-sms/1/")[1] == {"campana_id": 1}
    assert adapter.match(f"/admin/campanas-sms/{MAX_ID}/")[1] == {"campana_id": MAX_ID}
    for bad in ("0", "-1", "abc", "٣", str(MAX_ID + 1), "99999999999999999999"):
        assert not _matches(adapter, f"/admin/campanas-sms/{bad}/"), bad


def _matches(adapter, path: str) -> bool:
    from werkzeug.exceptions import NotFound

    try:
        adapter.match(path)
    except NotFound:
        return False
    return True


def test_a_real_record_opens_and_one_beyond_integer_is_the_spanish_404(app, client, tenants):
    from panel.models import Usuario

    from . import factories

    own = factories.cliente(db.session.get(Usuario, tenants.admin_a.id))
    login(client, tenants.admin_a.email)
    assert client.get(f"/admin/clientes/details/?id={own.id_cliente}").status_code == 200
    assert client.get(f"/clientes/editar/{own.id_cliente}/").status_code == 302  # to the panel page
    response = client.get(f"/admin/clientes/details/?id={MAX_ID + 1}")
    assert response.status_code == 404 and "Página no encontrada" in response.get_data(as_text=True)
    # no page matches: under /clientes/ that is the SMS document's JSON 404, as for /editar/abc/
    response = client.get(f"/clientes/editar/{MAX_ID + 1}/")
    assert response.status_code == 404 and response.json["success"] is False
    api = auth(token_for(tenants.admin_a.id))
    assert client.get(f"/Database/Database/clientes/{own.id_cliente}/", headers=api).status_code == 200
    response = client.get(f"/Database/Database/clientes/{MAX_ID + 1}/", headers=api)
    assert response.status_code == 404 and response.json["detail"] == "No encontrado."
