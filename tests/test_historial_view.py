"""The Historial as people read it (SPEC §12): labels, not codes; "campo: antes → después";
each record links to its history, each entry to its record; the delete confirmation page."""

import re
from datetime import datetime

import sqlalchemy as sa

from panel.extensions import db
from panel.models import Cliente, Historial, Usuario

from . import factories
from .helpers import csrf_from, login


def _entries(**where):
    stmt = sa.select(Historial).filter_by(**where).order_by(Historial.id)
    return db.session.scalars(stmt).all()


def _page(client, url: str, marker: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    assert marker in html, f"{url}: no es la página esperada"
    return html


def _cliente(tenants, **fields):
    return factories.cliente(db.session.get(Usuario, tenants.admin_a.id), **fields)


def _edit_cliente(client, pk: int, **changes):
    """Post the client's edit form with its current values and ``changes``."""
    html = _page(client, f"/admin/clientes/edit/?id={pk}", "cedula_cliente")
    c = db.session.get(Cliente, pk)
    data = {
        "cedula_cliente": c.cedula_cliente,
        "nombre_cliente": c.nombre_cliente,
        "apellido_cliente": c.apellido_cliente or "",
        "telefono": c.telefono or "",
        "email": c.email or "",
        "estado": str(c.estado),
        "id_ciudad": str(c.id_ciudad),
        "id_pais": str(c.id_pais),
        "acepta_sms": "y" if c.acepta_sms else "",
        "csrf_token": csrf_from(html),
        **changes,
    }
    return client.post(f"/admin/clientes/edit/?id={pk}", data=data)


def test_an_update_reads_as_field_before_and_after_with_labels(client, tenants):
    cliente = _cliente(tenants, nombre_cliente="María", estado=1)
    login(client, "admin.a@test.co")
    response = _edit_cliente(client, cliente.id_cliente, estado="0", nombre_cliente="María José")
    assert response.status_code == 302
    (entry,) = _entries(accion="editar", modelo="Cliente")
    assert entry.detalle["cambios"]["estado"] == [1, 0]  # stored as codes…

    html = _page(client, "/admin/historial/", "historial-cambios")  # …shown as labels
    assert "<strong>Estado</strong>: Activo → Inactivo" in html
    assert "<strong>Nombres</strong>: María → María José" in html
    assert '"cambios"' not in html and "[1, 0]" not in html
    details = _page(client, f"/admin/historial/details/?id={entry.id}", "historial-cambios")
    assert "Activo → Inactivo" in details


def test_model_names_are_spanish_and_values_are_formatted(client, tenants, app):
    login(client, "admin.a@test.co")
    token = csrf_from(_page(client, "/admin/plantillas-sms/new/", "mensaje"))
    response = client.post(
        "/admin/plantillas-sms/new/",
        data={"nombre": "Bienvenida", "mensaje": "Hola {nombre}", "activo": "y", "csrf_token": token},
    )
    assert response.status_code == 302
    (entry,) = _entries(accion="crear", modelo="PlantillaSMS")
    db.session.execute(  # a known creation time: 06:50 UTC is 01:50 in Bogotá
        sa.update(Historial)
        .where(Historial.id == entry.id)
        .values(detalle={"valores": {**entry.detalle["valores"], "creado": "2026-12-01T06:50:25.481538"}})
    )
    db.session.commit()
    html = _page(client, f"/admin/historial/details/?id={entry.id}", "historial-valores")
    assert "Plantilla SMS" in html and "PlantillaSMS<" not in html and ">PlantillaSMS" not in html
    assert "<strong>Activa</strong>: Sí" in html
    assert "<strong>Autor</strong>: admin.a <admin.a@test.co>" in html.replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    assert "<strong>Propietario</strong>: admin.a <admin.a@test.co>" in html.replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    assert "<strong>Creada</strong>: 01/12/2026 01:50" in html
    assert "06:50:25" not in html and "True" not in html


def test_related_rows_show_by_name(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    vieja, nueva = factories.empresa(admin, "Tostadora Andina"), factories.empresa(admin, "Cafés del Huila")
    cliente = _cliente(tenants, id_empresa=vieja.id)
    login(client, "admin.a@test.co")
    assert _edit_cliente(client, cliente.id_cliente, id_empresa=str(nueva.id)).status_code == 302
    html = _page(client, "/admin/historial/", "historial-cambios")
    assert "<strong>Empresa</strong>: Tostadora Andina → Cafés del Huila" in html


def test_every_record_links_to_its_own_history(client, tenants):
    cliente = _cliente(tenants, nombre_cliente="Ana")
    otro = _cliente(tenants, nombre_cliente="Luis")
    login(client, "admin.a@test.co")
    for pk, nombre in ((cliente.id_cliente, "Ana María"), (otro.id_cliente, "Luis Fernando")):
        assert _edit_cliente(client, pk, nombre_cliente=nombre).status_code == 302

    for page in ("details", "edit"):
        html = _page(client, f"/admin/clientes/{page}/?id={cliente.id_cliente}", "historial-registro")
        link = re.search(r'href="([^"]+)" data-testid="historial-registro"', html).group(1)
        history = _page(client, link.replace("&amp;", "&"), "historial-de")
        assert "Ana María" in history and "Luis Fernando" not in history  # only this record's entries
        assert 'data-testid="ver-registro"' in history


def test_the_history_of_a_model_without_details_page_links_from_its_edit_page(client, tenants):
    plantilla = factories.plantilla(db.session.get(Usuario, tenants.admin_a.id))
    login(client, "admin.a@test.co")
    html = _page(client, f"/admin/plantillas-sms/edit/?id={plantilla.id}", "historial-registro")
    assert f"flt0_modelo=PlantillaSMS&amp;flt1_registro={plantilla.id}" in html


def test_an_entry_links_to_its_record_while_it_exists(client, tenants):
    cliente = _cliente(tenants, nombre_cliente="Ana")
    pk = cliente.id_cliente
    login(client, "admin.a@test.co")
    assert _edit_cliente(client, pk, nombre_cliente="Ana Lucía").status_code == 302
    html = _page(client, "/admin/historial/", "historial-cambios")
    assert f'href="/admin/clientes/details/?id={pk}"' in html

    token = csrf_from(html)
    response = client.post("/admin/clientes/delete/", data={"id": pk, "csrf_token": token})
    assert response.status_code == 302 and db.session.get(Cliente, pk) is None
    html = _page(client, "/admin/historial/", "historial-valores")
    assert f'href="/admin/clientes/details/?id={pk}"' not in html  # gone: no dead link
    history = _page(client, f"/admin/historial/?flt0_modelo=Cliente&flt1_registro={pk}", "historial-de")
    assert "(ya no existe)" in history


def test_vendedores_get_no_history_link(client, tenants):
    cliente = _cliente(tenants)
    login(client, "vendedor.a@test.co")
    html = _page(client, f"/admin/clientes/details/?id={cliente.id_cliente}", "vehiculos")
    assert "historial-registro" not in html and "eliminar-registro" not in html


def test_another_tenants_history_link_shows_nothing_of_it(client, tenants):
    ajeno = factories.cliente(db.session.get(Usuario, tenants.admin_b.id), nombre_cliente="Secreto")
    login(client, "admin.b@test.co")
    _edit_cliente(client, ajeno.id_cliente, nombre_cliente="Secreto Dos")
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/logout").data)})
    login(client, "admin.a@test.co")
    url = f"/admin/historial/?flt0_modelo=Cliente&flt1_registro={ajeno.id_cliente}"
    html = _page(client, url, "historial-de")
    assert "Secreto" not in html


# --- the delete confirmation --------------------------------------------------------------------


def test_delete_confirmation_names_the_record(client, tenants):
    pk = _cliente(tenants, nombre_cliente="Ana", apellido_cliente="Gómez").id_cliente
    login(client, "admin.a@test.co")
    html = _page(client, "/admin/clientes/", "total-clientes")
    link = re.search(rf'href="(/admin/clientes/delete/\?id={pk}[^"]*)"', html).group(1)
    page = _page(client, link.replace("&amp;", "&"), "eliminar-pregunta")
    assert "Cliente «Ana Gómez" in page and "onclick" not in page
    token = csrf_from(page)
    response = client.post(
        "/admin/clientes/delete/", data={"id": pk, "url": "/admin/clientes/", "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/clientes/")
    assert db.session.get(Cliente, pk) is None


def test_delete_confirmation_says_what_depends_on_the_record(client, tenants):
    cliente = _cliente(tenants, nombre_cliente="Ana")
    factories.vehiculo(cliente)
    factories.vehiculo(cliente)
    factories.venta(cliente, db.session.get(Usuario, tenants.vendedor_a.id))
    login(client, "admin.a@test.co")
    page = _page(client, f"/admin/clientes/delete/?id={cliente.id_cliente}", "eliminar-bloqueado")
    assert "No se puede eliminar: tiene 2 vehículos y 1 venta." in page
    assert "confirmar-eliminar" not in page


def test_generic_list_rows_and_details_link_to_the_confirmation(client, tenants):
    empresa = factories.empresa(db.session.get(Usuario, tenants.admin_a.id), "Tostadora Andina")
    login(client, "admin.a@test.co")
    html = _page(client, "/admin/empresas/", "Tostadora Andina")
    assert f"/admin/empresas/delete/?id={empresa.id}" in html and "safeConfirm" not in html
    details = _page(client, f"/admin/empresas/details/?id={empresa.id}", "eliminar-registro")
    page = _page(client, f"/admin/empresas/delete/?id={empresa.id}", "eliminar-pregunta")
    assert "Empresa «Tostadora Andina»" in page and 'name="csrf_token"' in page
    assert "historial-registro" in details


def test_delete_confirmation_refuses_what_the_user_may_not_delete(client, tenants):
    ajeno = factories.empresa(db.session.get(Usuario, tenants.admin_b.id))
    propio = factories.empresa(db.session.get(Usuario, tenants.admin_a.id))
    login(client, "admin.a@test.co")
    assert client.get(f"/admin/empresas/delete/?id={ajeno.id}").status_code == 404
    assert client.get("/admin/empresas/delete/?id=abc").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/logout").data)})
    login(client, "vendedor.a@test.co")
    assert client.get(f"/admin/empresas/delete/?id={propio.id}").status_code == 403


def test_bulk_action_detail_reads_in_words(client, tenants):
    entry = Historial(
        accion="accion",
        modelo="Cliente",
        filas=3,
        resumen="3 clientes desactivados.",
        detalle={"accion": "desactivar", "seleccion": "todos", "filtros": "search=garcia"},
        id_propietario=tenants.admin_a.id,
        id_usuario=tenants.admin_a.id,
        creado=datetime(2026, 12, 1, 6, 50),
    )
    db.session.add(entry)
    db.session.commit()
    login(client, "admin.a@test.co")
    html = _page(client, f"/admin/historial/details/?id={entry.id}", "historial-detalle")
    assert "<strong>Selección</strong>: todos los resultados" in html
    assert "<strong>Filtros</strong>: Búsqueda: garcia" in html
    assert "01/12/2026 01:50" in html
