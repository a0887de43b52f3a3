"""SMS: rendering, encoding, the Twilio boundary, the outbox, the sender and its runners."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the Twilio webhooks and start the embedded sender where configured."""
