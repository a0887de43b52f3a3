"""The main menu, written once per kind of page: Flask-Admin writes it with a macro call per
item on every page (~5 % of a list page). What it shows depends only on the items the user may
open and on the page that is open, so its HTML is kept per (page, items shown) for the process.
Who may open what is still asked on every page: that is the key."""

from markupsafe import Markup

from ...kept import kept

KEPT = 256  # kinds of page × combinations of permissions: a few dozen in practice


def items_shown(admin) -> tuple:
    """The menu's shape for the current user: for each item, whether it is shown, or for a
    category the names of the items shown in it (Flask-Admin shows only those)."""
    return tuple(
        tuple(child.name for child in item.get_children())
        if item.is_category()
        else (item.is_accessible() and item.is_visible())
        for item in admin.menu()
    )


def kept_menu(admin_view, write) -> Markup:
    """The menu's HTML for this page and user, ``write()`` (Flask-Admin's macro) the first time."""
    key = (admin_view.endpoint, items_shown(admin_view.admin))
    return kept("menus", key, lambda: Markup(write()), KEPT)
