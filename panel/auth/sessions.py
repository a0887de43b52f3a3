"""Server-side control of cookie sessions: revocation by generation and an 8-hour lifetime.

The session cookie is signed, not stored: to end it on the server, the session carries the
user's ``sesion_version`` at login and the user loader refuses a session whose generation is
no longer the user's (logout, a new password or deactivation bump it), or that is older than
PERMANENT_SESSION_LIFETIME (the login time is in the session, read with panel/clock.py).
"""

from flask import current_app, session
from flask_login import login_user

from .. import clock
from ..models import Usuario

GENERATION, LOGIN_AT = "_sv", "_login_at"


def start(user: Usuario) -> None:
    """Open a session for ``user``, stamped with its generation and the login time."""
    session.clear()  # nothing from before the login survives it (fixation)
    login_user(user)
    session.permanent = True  # the cookie expires with the session, not with the browser
    session[GENERATION] = user.sesion_version
    session[LOGIN_AT] = clock.now().timestamp()


def valid(user: Usuario | None) -> bool:
    """The request's session still belongs to ``user``: same generation, young enough, active."""
    if user is None or not user.can_log_in:
        return False
    if session.get(GENERATION) != user.sesion_version:
        return False
    started = session.get(LOGIN_AT)
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return isinstance(started, int | float) and 0 <= clock.now().timestamp() - started < lifetime
