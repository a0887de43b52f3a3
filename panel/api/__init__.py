"""The JSON API: the advertising platform's REST contract and the SMS app's endpoints."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprints and token authentication (create-token: panel/cli.py)."""
    from . import caller, clientes_endpoints, docs, options, prueba_endpoints, sms_endpoints

    caller.init_app(app)
    app.before_request(options.answer_options)  # OPTIONS on a guarded endpoint: DRF's metadata
    app.register_blueprint(clientes_endpoints.bp)
    app.register_blueprint(sms_endpoints.bp)
    app.register_blueprint(prueba_endpoints.bp)
    app.register_blueprint(docs.bp)
