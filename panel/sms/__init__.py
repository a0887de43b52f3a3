"""SMS: rendering, encoding, the Twilio boundary, the outbox, the sender and its runners."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Twilio webhooks (the sender is started by create_app's start_sender)."""
    from ..extensions import csrf
    from .webhooks import bp

    csrf.exempt(bp)  # Twilio cannot send a CSRF token; the request signature protects these
    app.register_blueprint(bp)
