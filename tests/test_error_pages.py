"""Error pages: the panel's layout in Spanish with a way back; JSON on the API's paths."""

import pytest

from panel.extensions import db
from panel.models import Usuario

from . import factories
from .conftest import make_app
from .helpers import login

ENGLISH = (
    "Forbidden",
    "Not Found",
    "Method Not Allowed",
    "Internal Server Error",
    "permission",
    "requested URL",
)


def _assert_panel_error(response, code: int, title: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert f'data-testid="pagina-error" data-codigo="{code}"' in html and title in html
    assert not [word for word in ENGLISH if word in html], html[:500]
    return html


@pytest.mark.parametrize(
    "who,url,code,title",
    [
        ("vendedor.a@test.co", "/admin/clientes/new/", 403, "Sin permiso"),
        ("admin.a@test.co", "/admin/paises/new/", 403, "Sin permiso"),
        ("admin.a@test.co", "/admin/no-existe/", 404, "Página no encontrada"),
    ],
)
def test_errors_show_in_the_panels_layout_with_a_way_back(client, tenants, who, url, code, title):
    login(client, who)
    html = _assert_panel_error(client.get(url), code, title)
    assert "Clientes" in html and 'href="/admin/"' in html and "Volver al panel" in html


def test_another_tenants_client_is_the_same_404_page(client, tenants):
    theirs = factories.cliente(db.session.get(Usuario, tenants.admin_b.id))
    login(client, "admin.a@test.co")
    response = client.get(f"/admin/clientes/details/?id={theirs.id_cliente}")
    _assert_panel_error(response, 404, "Página no encontrada")


def test_an_anonymous_visitor_gets_a_way_to_log_in(client):
    html = _assert_panel_error(client.get("/no-existe"), 404, "Página no encontrada")
    assert "Iniciar sesión" in html


def test_a_method_not_allowed_is_a_spanish_page(client):
    _assert_panel_error(client.post("/"), 405, "Método no permitido")


def test_api_paths_keep_json_errors(client):
    response = client.get("/Database/Database/clientes/999/")
    assert response.status_code == 401 and response.is_json


def test_an_unexpected_exception_is_a_500_page_not_a_traceback(database_url):
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secreto interno")

    html = _assert_panel_error(app.test_client().get("/boom"), 500, "Error interno")
    assert "secreto interno" not in html
