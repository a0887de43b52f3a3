"""The main menu is written once per kind of page and kept (panel/admin/comun/menu.py): never
another user's menu, always what Flask-Admin writes for this user and page."""

from .helpers import login


def test_each_user_gets_the_menu_of_the_items_it_may_open_and_a_kept_one_is_used(app, tenants):
    kept = app.extensions.setdefault("menus", {})
    kept.clear()
    superadmin = app.test_client()
    login(superadmin, "super@test.co")
    page = superadmin.get("/admin/clientes/").get_data(as_text=True)
    assert "Números excluidos (RNE)" in page and "Países" in page  # the superadmin's own items
    assert len(kept) == 1

    vendedor = app.test_client()
    login(vendedor, "vendedor.a@test.co")
    first = vendedor.get("/admin/clientes/").get_data(as_text=True)
    assert "<title>Clientes - Panel de Clientes</title>" in first and "Plantillas SMS" in first  # page, menu
    assert "Configuración" not in first and "Empresas" not in first  # not the superadmin's menu
    assert len(kept) == 2  # one more: the vendedor's items

    (key,) = [k for k in kept if "Países" not in kept[k]]
    written = kept[key]
    kept[key] = written.replace("Plantillas SMS", "Plantillas SMS (guardado)")
    try:
        again = vendedor.get("/admin/clientes/").get_data(as_text=True)
        other_page = vendedor.get("/admin/plantillas-sms/").get_data(as_text=True)
    finally:
        kept.clear()  # the app may serve the next test
    assert "Plantillas SMS (guardado)" in again  # the kept menu is the one written
    assert "<title>Plantillas SMS - Panel de Clientes</title>" in other_page
    assert "Plantillas SMS (guardado)" not in other_page  # another page: its own menu (its item active)
