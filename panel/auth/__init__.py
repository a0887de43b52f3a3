"""Login, logout and how a request is tied to a user."""

from .views import bp, init_app

__all__ = ["bp", "init_app"]
