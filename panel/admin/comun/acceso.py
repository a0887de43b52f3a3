"""Access rules shared by every Flask-Admin view: who may get in at all."""

import re

from flask import abort, has_request_context, redirect, request, url_for
from flask_login import current_user

from ...models.users import has_role, is_staff

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def panel_user_ok() -> bool:
    """Logged in with a staff role (clientes never get a panel session)."""
    return is_staff(current_user)


class PanelAccessMixin:
    """Only staff get in; anonymous users go to the login page and come back."""

    # Who may open the view: a function of panel/models/users.py, the one home of permissions.
    permission = staticmethod(is_staff)
    # Older views name roles instead (kept so they keep working until they say ``permission``).
    allowed_roles: tuple[str, ...] | None = None

    def is_accessible(self) -> bool:
        user = current_user._get_current_object()  # once: the menu asks every view on every page
        if not is_staff(user):
            return False
        if self.allowed_roles is not None:
            return has_role(user, self.allowed_roles)
        return self.permission(user)

    def _handle_view(self, name, **kwargs):
        # Flask-Admin redirects to the ``url`` value after a POST; a control character in it
        # would make Werkzeug refuse the Location header (a 500). It is bad input: 400.
        if CONTROL.search(request.values.get("url", "")):
            abort(400, "La dirección de regreso no es válida.")
        return super()._handle_view(name, **kwargs)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)


def allowed(permission) -> bool:
    """The logged-in user passes ``permission`` (a function of panel/models/users.py); False
    outside a request (Flask-Admin builds some lists at start-up)."""
    return has_request_context() and permission(current_user)
