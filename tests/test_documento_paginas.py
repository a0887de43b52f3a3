"""The SMS document's own pages (/clientes/, nuevo, editar, eliminar, plantillas…), driven with the
document's curl examples: form posts with the X-CSRFToken header, the token taken from a page."""

import pytest
import sqlalchemy as sa
from flask_admin.babel import gettext, ngettext

from panel.extensions import db
from panel.models import CampanaSMS, Cliente, PlantillaSMS, Usuario

from . import factories
from .helpers import csrf_from, login

# From clientes-sms-twilio.txt, as its curl examples send them.
MARIA = {"nombre": "Maria Gonzalez", "telefono": "3001234567", "documento": "987654321", "activo": "true"}
LAURA = {"nombre": "Laura Mendez", "telefono": "+573001234567", "documento": "456789123"}
MARIA_UPDATED = {"nombre": "Maria Gonzalez (Updated)", "telefono": "3001112222", "activo": "true"}
WELCOME = {
    "nombre": "Welcome Message",
    "mensaje": "Hola {nombre}, bienvenido a nuestra tienda!",
    "activo": "true",
}
WELCOME_UPDATED = {"nombre": "Welcome Message (Updated)", "mensaje": "Hola {nombre}, bienvenido!"}
LAUNCH = {"nombre": "New Product Launch", "mensaje": "Hola {nombre}, tenemos nuevos productos en stock!"}


def _session(client, email: str) -> str:
    """Log in and take the CSRF token from a page of the panel, as the document's user would."""
    login(client, email)
    page = client.get("/admin/")
    assert page.status_code == 200
    return csrf_from(page.data)


def _post(client, url: str, token: str, data: dict | None = None, **kwargs):
    """A curl ``-X POST -H "X-CSRFToken: <token>" -d …``: a form post, the token in the header."""
    return client.post(url, data=data or {}, headers={"X-CSRFToken": token}, **kwargs)


def _flashes(app) -> dict[str, str]:
    """The panel's own success messages, in the language its catalogue gives them."""
    with app.test_request_context("/"):
        return {
            "creado": gettext("Record was successfully created."),
            "guardado": gettext("Record was successfully saved."),
            "eliminado": ngettext(
                "Record was successfully deleted.", "%(count)s records were successfully deleted.", 1, count=1
            ),
        }


def _html(response) -> str:
    return response.get_data(as_text=True)


def _the(model, **where):
    db.session.expire_all()
    return db.session.scalars(sa.select(model).filter_by(**where)).one_or_none()


def _columns(row) -> dict:
    """Every column of a row but its update time: what "kept its values" compares."""
    return {c.key: getattr(row, c.key) for c in sa.inspect(row).mapper.column_attrs if c.key != "actualizado"}


def _assert_error_page(response, code: int) -> str:
    html = _html(response)
    assert response.status_code == code, html[:300]
    assert not response.is_json
    assert f'data-testid="pagina-error" data-codigo="{code}"' in html
    return html


# --- clients ---------------------------------------------------------------------------------


def test_create_client_as_the_document_shows_redirects_to_the_list_with_a_flash(app, client, tenants):
    token = _session(client, tenants.admin_a.email)
    response = _post(client, "/clientes/nuevo/", token, MARIA)
    assert response.status_code == 302 and response.headers["Location"] == "/clientes/"
    maria = _the(Cliente, cedula_cliente="987654321")
    assert (maria.nombre_cliente, maria.apellido_cliente) == ("Maria", "Gonzalez")
    assert (maria.telefono, maria.estado, maria.id_propietario) == ("3001234567", 1, tenants.admin_a.id)
    shown = client.get("/clientes/", follow_redirects=True)
    assert shown.request.path == "/admin/clientes/" and shown.status_code == 200
    flash = _flashes(app)["creado"]
    assert flash != "Record was successfully created." and flash in _html(shown)


def test_the_workflow_client_without_activo_is_created_active(client, tenants):
    token = _session(client, tenants.admin_a.email)
    assert _post(client, "/clientes/nuevo/", token, LAURA).status_code == 302
    laura = _the(Cliente, cedula_cliente="456789123")
    assert (laura.nombre_cliente, laura.apellido_cliente, laura.telefono) == (
        "Laura",
        "Mendez",
        "+573001234567",
    )
    assert laura.estado == 1 and laura.acepta_sms is True


def test_the_token_may_also_come_as_the_forms_csrf_token_field(client, tenants):
    token = _session(client, tenants.admin_a.email)
    response = client.post("/clientes/nuevo/", data=MARIA | {"csrf_token": token})
    assert response.status_code == 302 and _the(Cliente, cedula_cliente="987654321") is not None


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": "forjado"}])
def test_a_post_without_a_valid_token_is_refused_with_a_page(client, tenants, headers):
    _session(client, tenants.admin_a.email)
    response = client.post("/clientes/nuevo/", data=MARIA, headers=headers)
    assert "Formulario caducado" in _assert_error_page(response, 400)
    assert _the(Cliente, cedula_cliente="987654321") is None


def test_bad_input_is_the_panels_form_again_with_every_error_and_nothing_saved(client, tenants):
    token = _session(client, tenants.admin_a.email)
    sent = {"nombre": "", "telefono": "12", "documento": "98765x", "activo": "quizás"}
    response = _post(client, "/clientes/nuevo/", token, sent)
    html = _html(response)
    assert response.status_code == 200 and 'data-testid="errores-documento"' in html
    for name, message in [
        ("nombre", "Este campo es obligatorio."),
        ("documento", "La cédula solo puede tener dígitos."),
        ("telefono", "Teléfono no válido para Colombia."),
        ("activo", "Debe ser true o false."),
    ]:
        assert f"<strong>{name}</strong>: {message}" in html
    # The panel's own form, holding what was sent, posting to the panel's create page.
    assert 'action="/admin/clientes/new/?url=/clientes/"' in html
    assert 'name="cedula_cliente"' in html and 'value="98765x"' in html
    assert 'name="csrf_token"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cliente)) == 0


def test_a_cedula_already_used_in_the_tenant_is_an_error_under_documento(client, tenants):
    factories.cliente(db.session.get(Usuario, tenants.admin_a.id), cedula_cliente="987654321")
    token = _session(client, tenants.admin_a.email)
    response = _post(client, "/clientes/nuevo/", token, MARIA)
    assert response.status_code == 200
    assert "<strong>documento</strong>: Ya existe un cliente con esta cédula." in _html(response)


def test_update_client_as_the_document_shows_keeps_the_documento(app, client, tenants):
    maria = factories.cliente(
        db.session.get(Usuario, tenants.admin_a.id), cedula_cliente="987654321", email="maria@example.com"
    )
    token = _session(client, tenants.admin_a.email)
    response = _post(client, f"/clientes/editar/{maria.id_cliente}/", token, MARIA_UPDATED)
    assert response.status_code == 302 and response.headers["Location"] == "/clientes/"
    row = _the(Cliente, id_cliente=maria.id_cliente)
    assert (row.nombre_cliente, row.apellido_cliente) == ("Maria", "Gonzalez (Updated)")
    assert (row.telefono, row.cedula_cliente, row.email) == ("3001112222", "987654321", "maria@example.com")
    assert _flashes(app)["guardado"] in _html(client.get("/clientes/", follow_redirects=True))


def test_editar_with_only_activo_false_keeps_every_other_field(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    empresa = factories.empresa(admin)
    maria = factories.cliente(admin, id_empresa=empresa.id, genero=0, email="maria@example.com")
    before = _columns(maria)
    token = _session(client, tenants.admin_a.email)
    assert (
        _post(client, f"/clientes/editar/{maria.id_cliente}/", token, {"activo": "false"}).status_code == 302
    )
    after = _columns(_the(Cliente, id_cliente=maria.id_cliente))
    assert after["estado"] == 0
    assert after == before | {"estado": 0}


def test_bad_input_on_editar_is_the_panels_edit_form_holding_the_row_and_what_was_sent(client, tenants):
    maria = factories.cliente(db.session.get(Usuario, tenants.admin_a.id), nombre_cliente="Maria")
    pk, before = maria.id_cliente, _columns(maria)
    token = _session(client, tenants.admin_a.email)
    response = _post(client, f"/clientes/editar/{pk}/", token, {"documento": "12345678901"})
    html = _html(response)
    assert response.status_code == 200
    assert "<strong>documento</strong>: La cédula tiene como máximo 10 dígitos." in html
    assert f'action="/admin/clientes/edit/?id={pk}&amp;url=/clientes/"' in html
    assert 'value="12345678901"' in html and 'value="Maria"' in html
    assert _columns(_the(Cliente, id_cliente=pk)) == before


def test_delete_client_redirects_to_the_list_with_a_flash(app, client, tenants):
    pk = factories.cliente(db.session.get(Usuario, tenants.admin_a.id)).id_cliente
    token = _session(client, tenants.admin_a.email)
    response = _post(client, f"/clientes/eliminar/{pk}/", token)
    assert response.status_code == 302 and response.headers["Location"] == "/clientes/"
    assert _the(Cliente, id_cliente=pk) is None
    assert _flashes(app)["eliminado"] in _html(client.get("/clientes/", follow_redirects=True))


def test_a_protected_delete_shows_the_reason_and_deletes_nothing(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    maria = factories.cliente(admin)
    factories.venta(maria, admin)
    factories.vehiculo(maria)
    token = _session(client, tenants.admin_a.email)
    html = _assert_error_page(_post(client, f"/clientes/eliminar/{maria.id_cliente}/", token), 409)
    assert "No se puede eliminar: tiene 1 vehículo y 1 venta." in html
    assert _the(Cliente, id_cliente=maria.id_cliente) is not None


# --- SMS templates ---------------------------------------------------------------------------


def test_create_update_and_delete_a_template_as_the_document_shows(app, client, tenants):
    token = _session(client, tenants.admin_a.email)
    response = _post(client, "/clientes/plantillas/crear/", token, WELCOME)
    assert response.status_code == 302 and response.headers["Location"] == "/clientes/plantillas/"
    welcome = _the(PlantillaSMS, nombre="Welcome Message")
    assert welcome.mensaje == WELCOME["mensaje"] and welcome.activo is True
    assert (welcome.id_usuario, welcome.id_propietario) == (tenants.admin_a.id, tenants.admin_a.id)
    listing = client.get("/clientes/plantillas/", follow_redirects=True)
    assert listing.request.path == "/admin/plantillas-sms/" and _flashes(app)["creado"] in _html(listing)

    welcome.activo = False  # left out of the update below: it must stay as it is
    db.session.commit()
    assert (
        _post(client, f"/clientes/plantillas/editar/{welcome.id}/", token, WELCOME_UPDATED).status_code == 302
    )
    row = _the(PlantillaSMS, id=welcome.id)
    assert (row.nombre, row.mensaje, row.activo) == (
        WELCOME_UPDATED["nombre"],
        WELCOME_UPDATED["mensaje"],
        False,
    )

    pk = welcome.id
    response = _post(client, f"/clientes/plantillas/eliminar/{pk}/", token)
    assert response.status_code == 302 and _the(PlantillaSMS, id=pk) is None


def test_the_workflow_template_without_activo_is_created_active(client, tenants):
    token = _session(client, tenants.admin_a.email)
    assert _post(client, "/clientes/plantillas/crear/", token, LAUNCH).status_code == 302
    assert _the(PlantillaSMS, nombre="New Product Launch").activo is True


def test_a_template_with_an_unknown_placeholder_is_the_form_again(client, tenants):
    token = _session(client, tenants.admin_a.email)
    response = _post(
        client, "/clientes/plantillas/crear/", token, {"nombre": "Mala", "mensaje": "Hola {foo}"}
    )
    html = _html(response)
    assert response.status_code == 200 and "<strong>mensaje</strong>:" in html and "{foo}" in html
    assert 'action="/admin/plantillas-sms/new/?url=/clientes/plantillas/"' in html
    assert _the(PlantillaSMS, nombre="Mala") is None


def test_a_template_used_by_a_campaign_cannot_be_deleted_and_says_why(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    plantilla = factories.plantilla(admin)
    db.session.add(
        CampanaSMS(
            nombre="Usada",
            mensaje=plantilla.mensaje,
            id_plantilla=plantilla.id,
            estado="completado",
            id_usuario=admin.id,
            id_propietario=admin.id,
        )
    )
    db.session.commit()
    token = _session(client, tenants.admin_a.email)
    html = _assert_error_page(_post(client, f"/clientes/plantillas/eliminar/{plantilla.id}/", token), 409)
    assert "No se puede eliminar: tiene 1 campaña SMS." in html
    assert _the(PlantillaSMS, id=plantilla.id) is not None


# --- tenancy and roles -----------------------------------------------------------------------


def _theirs(tenants):
    owner = db.session.get(Usuario, tenants.admin_b.id)
    return factories.cliente(owner, nombre_cliente="Ajena"), factories.plantilla(owner, nombre="Ajena")


def test_another_tenants_rows_are_a_404_page_and_stay_untouched(client, tenants):
    cliente, plantilla = _theirs(tenants)
    before = (_columns(cliente), _columns(plantilla))
    token = _session(client, tenants.admin_a.email)
    urls = [
        f"/clientes/editar/{cliente.id_cliente}/",
        f"/clientes/eliminar/{cliente.id_cliente}/",
        f"/clientes/plantillas/editar/{plantilla.id}/",
        f"/clientes/plantillas/eliminar/{plantilla.id}/",
    ]
    for url in urls:
        _assert_error_page(client.get(url), 404)
        html = _assert_error_page(_post(client, url, token, {"activo": "false", "nombre": "Robado"}), 404)
        assert "Ajena" not in html
    after = (
        _columns(_the(Cliente, id_cliente=cliente.id_cliente)),
        _columns(_the(PlantillaSMS, id=plantilla.id)),
    )
    assert after == before


def test_a_vendedor_reads_the_lists_and_may_change_nothing(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    cliente, plantilla = factories.cliente(admin), factories.plantilla(admin)
    before = (_columns(cliente), _columns(plantilla))
    token = _session(client, tenants.vendedor_a.email)
    assert client.get("/clientes/", follow_redirects=True).status_code == 200
    assert client.get("/clientes/plantillas/", follow_redirects=True).status_code == 200
    for url, data in [
        ("/clientes/nuevo/", MARIA),
        (f"/clientes/editar/{cliente.id_cliente}/", {"activo": "false"}),
        (f"/clientes/eliminar/{cliente.id_cliente}/", {}),
        ("/clientes/plantillas/crear/", WELCOME),
        (f"/clientes/plantillas/editar/{plantilla.id}/", {"activo": "false"}),
        (f"/clientes/plantillas/eliminar/{plantilla.id}/", {}),
    ]:
        assert "Sin permiso" in _assert_error_page(_post(client, url, token, data), 403), url
        _assert_error_page(client.get(url), 403)
    after = (
        _columns(_the(Cliente, id_cliente=cliente.id_cliente)),
        _columns(_the(PlantillaSMS, id=plantilla.id)),
    )
    assert after == before and _the(Cliente, cedula_cliente="987654321") is None


def test_a_superadmin_edits_in_the_rows_tenant_but_creates_in_the_panel(client, tenants):
    maria = factories.cliente(db.session.get(Usuario, tenants.admin_a.id))
    token = _session(client, tenants.superadmin.email)
    _assert_error_page(_post(client, "/clientes/nuevo/", token, MARIA), 403)
    assert (
        _post(client, f"/clientes/editar/{maria.id_cliente}/", token, {"activo": "false"}).status_code == 302
    )
    row = _the(Cliente, id_cliente=maria.id_cliente)
    assert (row.estado, row.id_propietario) == (0, tenants.admin_a.id)


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/clientes/nuevo/")
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/login?next=/clientes/nuevo/"
    )


# --- the pages are the panel's ---------------------------------------------------------------


def test_the_list_is_the_panels_clientes_list_of_active_clients(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    factories.cliente(admin, nombre_cliente="Activa", estado=1)
    factories.cliente(admin, nombre_cliente="Inactiva", estado=0)
    login(client, tenants.admin_a.email)
    response = client.get("/clientes/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/clientes/?flt0_estado=1"
    html = _html(client.get(response.headers["Location"]))
    assert 'data-testid="total-clientes">(1)' in html and "Activa" in html and "Inactiva" not in html


def test_the_get_pages_are_the_panels_own(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    cliente, plantilla = factories.cliente(admin), factories.plantilla(admin)
    login(client, tenants.admin_a.email)
    expected = {
        "/clientes/nuevo/": "/admin/clientes/new/?url=/clientes/",
        f"/clientes/editar/{cliente.id_cliente}/": (
            f"/admin/clientes/edit/?id={cliente.id_cliente}&url=/clientes/"
        ),
        f"/clientes/eliminar/{cliente.id_cliente}/": f"/admin/clientes/details/?id={cliente.id_cliente}",
        "/clientes/plantillas/": "/admin/plantillas-sms/",
        "/clientes/plantillas/crear/": "/admin/plantillas-sms/new/?url=/clientes/plantillas/",
        f"/clientes/plantillas/editar/{plantilla.id}/": (
            f"/admin/plantillas-sms/edit/?id={plantilla.id}&url=/clientes/plantillas/"
        ),
        f"/clientes/plantillas/eliminar/{plantilla.id}/": "/clientes/plantillas/",
    }
    for url, target in expected.items():
        response = client.get(url)
        assert (response.status_code, response.headers.get("Location")) == (302, target), url
        assert client.get(target, follow_redirects=True).status_code == 200, target


def test_the_json_endpoints_under_clientes_keep_json_errors(client, tenants):
    token = _session(client, tenants.admin_a.email)
    for url in ("/clientes/no-existe/", "/clientes/editar/abc/", "/clientes/campanas-sms/999/"):
        response = client.get(url)
        assert response.status_code == 404 and response.is_json and response.json["success"] is False, url
    bad = client.post(
        "/clientes/crear/ajax/", json={"telefono": "3001234567"}, headers={"X-CSRFToken": token}
    )
    assert bad.status_code == 400 and bad.json["errors"]["nombre"]
    ajax = client.post("/clientes/crear/ajax/", json={"nombre": "Carlos Ruiz", "documento": "123456789"},
                       headers={"X-CSRFToken": token})  # fmt: skip
    assert ajax.status_code == 201 and ajax.json["cliente"]["nombre"] == "Carlos Ruiz"


def test_a_method_the_page_does_not_take_is_a_page_not_json(client, tenants):
    token = _session(client, tenants.admin_a.email)
    html = _assert_error_page(client.post("/clientes/", headers={"X-CSRFToken": token}), 405)
    assert "Método no permitido" in html


def test_a_token_is_no_credential_for_the_pages(client, tenants, runner):
    result = runner.invoke(args=["create-token", "--email", tenants.admin_a.email])
    key = result.output.strip().splitlines()[-1]
    response = client.get("/clientes/nuevo/", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
