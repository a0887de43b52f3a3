"""Flask-Admin at /admin/: built inside the app factory, one Admin per app."""

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from .base import PanelIndexView


def register_views(admin: Admin) -> None:
    """Add the model views (one module per group of views)."""
    from .sms_views import register_sms_views

    register_sms_views(admin)


def init_admin(app: Flask) -> Admin:
    admin = Admin(
        app,
        name="Panel de Clientes",
        url="/admin",
        index_view=PanelIndexView(name="Inicio", url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/panel_base.html", fluid=True),
    )
    register_views(admin)
    return admin
