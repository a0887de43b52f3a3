"""The JSON API: the advertising platform's REST contract and the SMS app's endpoints."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprints, token authentication and the create-token command."""
