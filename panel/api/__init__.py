"""The JSON API: the advertising platform's REST contract and the SMS app's endpoints."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprints and token authentication (create-token: panel/cli.py)."""
    from . import auth, clientes, docs, pruebas, sms

    auth.init_app(app)
    app.register_blueprint(clientes.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(pruebas.bp)
    app.register_blueprint(docs.bp)
