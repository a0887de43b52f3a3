"""One app per test process for the ``app`` fixture, built again only when a test changed it.

Building the app was most of a test's set-up CPU (Flask-Admin scaffolds ~25 model views and
werkzeug compiles ~200 rules, every test, to get the same app again: the ``app`` fixture's config
is always the default one on the process's database). A test still gets the app as built: after
each test the app is compared with what it was when built — its routes, hooks, Jinja globals and
filters, extensions, app attributes, and every admin view's and the Admin's own attributes (by
identity; a view's number put back equal counts as unchanged). Anything changed — a view or a
route added, a view's setting left changed, an embedded sender started — and the next test
builds a new app. Settings (``app.config``) a test changed are put back as built, and what the
app made lazily from them (the login throttle's store) is dropped, to be made again from the
settings as built. Tests that need other settings at build time call ``make_app`` themselves.

What the first request sets (Flask's "has served a request" flag, the Admin's CSP nonce hook) is
put back as a fresh app has it; Flask's cached template loader and the inline handlers' hashes
(derived from the views, which are checked unchanged) are kept."""

import copy
import os
from collections.abc import Callable

from flask import Flask

# Created on first use from the config and views alone: kept (see the module's docstring).
KEPT_LAZY_EXTENSIONS = frozenset({"panel_security"})
# An app attribute a request sets; handed out again as a fresh app has it.
REQUEST_FLAGS = ("_got_first_request",)
# Cached on first use from what the app was built with (Flask's template loader): not compared.
CACHED_APP_ATTRS = ("jinja_loader",)
# Set by the first request (security._nonce_for_admin): put back as built, the request sets it again.
FIRST_REQUEST_ADMIN_ATTRS = ("csp_nonce_generator",)


def _ids(mapping: dict) -> dict:
    return {k: id(v) for k, v in mapping.items()}


def _nested_ids(value):
    """Identities all the way down dicts and lists (Flask's hook registries are dicts of lists);
    empty entries left out (Flask's error handler lookups add them to its defaultdicts)."""
    if isinstance(value, dict):
        inner = {k: _nested_ids(v) for k, v in value.items()}
        return {k: v for k, v in inner.items() if v != {}}
    if isinstance(value, list | tuple):
        return tuple(_nested_ids(v) for v in value)
    return id(value)


def fingerprint(app: Flask) -> dict:
    """What a test could change on the app, in a form to compare later."""
    admin = app.extensions.get("panel_admin")
    skipped = {*REQUEST_FLAGS, *CACHED_APP_ATTRS, "config"}
    attrs = {k: v for k, v in vars(app).items() if k not in skipped}
    hooks = (
        "before_request_funcs",
        "after_request_funcs",
        "teardown_request_funcs",
        "teardown_appcontext_funcs",
        "url_value_preprocessors",
        "url_default_functions",
        "template_context_processors",
        "error_handler_spec",
        "view_functions",
        "blueprints",
        "shell_context_processors",
        "url_build_error_handlers",
    )
    return {
        "attrs": _ids(attrs),
        "hooks": {name: _nested_ids(getattr(app, name)) for name in hooks},
        "rules": tuple(id(rule) for rule in app.url_map.iter_rules()),
        "jinja": (
            _ids(app.jinja_env.globals),
            _ids(app.jinja_env.filters),
            _ids(app.jinja_env.tests),
            id(app.jinja_env.bytecode_cache),
        ),
        "extensions": _ids({k: v for k, v in app.extensions.items() if k not in KEPT_LAZY_EXTENSIONS}),
        "admin": _ids(vars(admin)) if admin else None,
        "views": tuple((id(v), _view_state(v)) for v in admin._views) if admin else (),
    }


def _view_state(view) -> dict:
    """A view's own attributes: by identity, and by value where a test may put an equal one back."""
    plain = int | str | float | bool | type(None)
    return {k: (v if isinstance(v, plain) else id(v)) for k, v in vars(view).items()}


class AppReuse:
    """The app the ``app`` fixture hands out in this process, and what it was like when built."""

    def __init__(self) -> None:
        self.app: Flask | None = None
        self.url: str | None = None
        self.config: dict = {}
        self.built: dict = {}
        self.lazy: set[str] = set()
        self.builds = 0
        self.reasons: list[str] = []

    def get(self, url: str, build: Callable[[str], Flask]) -> Flask:
        if self.app is None or self.url != url:
            self.app, self.url = build(url), url
            self.builds += 1
            self.config = copy.deepcopy(dict(self.app.config))
            self.lazy = set()
            self.built = fingerprint(self.app)
            self.built_extensions = set(self.app.extensions)
            admin = self.app.extensions["panel_admin"]
            self.first_request_admin = {n: getattr(admin, n) for n in FIRST_REQUEST_ADMIN_ATTRS}
        return self.app

    def release(self, app: Flask) -> bool:
        """After a test: keep the app for the next one only if the test left it as built; whether
        it is kept."""
        if app is not self.app:
            return False
        admin = app.extensions.get("panel_admin")
        for name in FIRST_REQUEST_ADMIN_ATTRS:
            setattr(admin, name, self.first_request_admin[name])
        for name in set(app.extensions) - self.built_extensions - KEPT_LAZY_EXTENSIONS:
            if name == "sms_embedded":  # a sender thread: its state is the app's, build anew
                return self._discard("sms_embedded")
            del app.extensions[name]  # made on first use from the config: made again if needed
        now = fingerprint(app)
        if now != self.built:
            differences = (_difference(now[k], self.built[k], k) for k in now if now[k] != self.built[k])
            return self._discard("cambió " + ", ".join(differences))
        if dict(app.config) != self.config:  # settings the test changed: back as built
            app.config.clear()
            app.config.update(copy.deepcopy(self.config))
        for flag in REQUEST_FLAGS:
            setattr(app, flag, False)  # a fresh app has served no request: it may still add routes
        return True

    def _discard(self, reason: str) -> bool:
        self.app = None
        if os.environ.get("APP_REUSE_DEBUG"):
            self.reasons.append(reason)
            print(f"\n[app_reuse] construida de nuevo: {reason}")
        return False


def _difference(now, built, path: str) -> str:
    if isinstance(now, tuple) and isinstance(built, tuple) and len(now) == len(built):
        pairs = enumerate(zip(now, built, strict=True))
        return ";".join(_difference(a, b, f"{path}[{i}]") for i, (a, b) in pairs if a != b)
    if isinstance(now, dict) and isinstance(built, dict):
        keys = sorted((k for k in set(now) | set(built) if now.get(k) != built.get(k)), key=repr)
        return ";".join(_difference(now.get(k), built.get(k), f"{path}.{k}") for k in keys)
    return path


REUSE = AppReuse()
