"""The main menu, written once per kind of page: Flask-Admin writes it with a macro call per
item on every page (~5 % of a list page). What it shows depends only on the items the user may
open and on the page that is open, so its HTML is kept per (page, items shown) for the process.
Who may open what is still asked on every page: that is the key."""

from flask import current_app, has_request_context, request
from markupsafe import Markup

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
    root = request.script_root if has_request_context() else ""  # an app mounted under a path
    key = (root, admin_view.endpoint, items_shown(admin_view.admin))
    kept = current_app.extensions.setdefault("menus", {})
    html = kept.get(key)
    if html is None:
        html = Markup(write())
        if len(kept) < KEPT:
            kept[key] = html
    return html
