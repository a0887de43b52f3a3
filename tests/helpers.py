"""Small helpers for driving the app as a browser would (CSRF on)."""

import re
import time

PASSWORD = "clave-segura-123"
# The tests' password method: real scrypt with a lighter work factor (N = 2¹¹, not werkzeug's 2¹⁵),
# so each login, new password and unknown-e-mail check costs no ~0.1 s of the suite; the
# production default has its own test (tests/test_auth.py).
PASSWORD_METHOD = "scrypt:2048:8:1"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str | bytes) -> str:
    """The CSRF token of the first form of a page."""
    text = html.decode() if isinstance(html, bytes) else html
    match = _CSRF.search(text)
    assert match, "la página no tiene csrf_token"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str = PASSWORD, follow: bool = False):
    """Log in through the real login form."""
    token = csrf_from(client.get("/login").data)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=follow
    )


def csrf_of(client, url: str = "/logout") -> str:
    """A valid CSRF token for this client's session (the logout page has a form when logged in)."""
    return csrf_from(client.get(url).data)


def hold_the_gil(seconds: float) -> None:
    """Keep every other thread of this process from running for about ``seconds``."""
    n = 200_000
    start = time.perf_counter()
    sum(range(n))  # one C call: the GIL is not released until it returns
    per_item = (time.perf_counter() - start) / n
    sum(range(int(seconds / per_item)))
