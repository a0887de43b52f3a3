"""SMS views of the panel: templates, campaigns, the "Enviar SMS" page (owned by the SMS engine)."""

from flask_admin import Admin


def register_sms_views(admin: Admin) -> None:
    """Add the SMS views to the admin."""
