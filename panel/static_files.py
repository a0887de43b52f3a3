"""Static files kept by the browser, safely: every URL of a static file (the panel's and
Flask-Admin's) carries a fingerprint of the file's content (``?h=…``), and a request with the
right fingerprint is answered cacheable for a year. A changed file (a deploy, a Flask-Admin
upgrade) has a new URL, so a page never runs yesterday's script; an old or missing fingerprint
is answered as before (the browser asks again each time). A panel page loads ~20 files: without
this, each was asked for again on every page (a 304 each, one request to the server each)."""

import hashlib
import os
import stat
from functools import lru_cache

from flask import Flask, current_app, request, url_for
from werkzeug.security import safe_join

from .kept import kept

PARAM = "h"
YEAR = 365 * 24 * 3600
KEPT_URLS = 512  # the templates name a few dozen files; a bound all the same


def _folder(endpoint: str) -> str | None:
    """The folder a static endpoint serves: the app's, or a blueprint's (Flask-Admin's)."""
    if endpoint == "static":
        return current_app.static_folder
    if endpoint.endswith(".static"):
        blueprint = current_app.blueprints.get(endpoint.rsplit(".", 1)[0])
        return blueprint.static_folder if blueprint else None
    return None


def fingerprint(folder: str | None, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256; None if there is no such file in ``folder``."""
    path = safe_join(folder, filename) if folder else None  # None outside the folder
    try:
        found = os.stat(path) if path else None
    except OSError:
        return None
    if found is None or not stat.S_ISREG(found.st_mode):  # a folder has no fingerprint
        return None
    return _digest(path, found.st_mtime_ns, found.st_size)


@lru_cache(maxsize=1024)
def _digest(path: str, _mtime_ns: int, _size: int) -> str:
    """Read once per version of the file: a file edited in place (development) is read again."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def _add_fingerprint(endpoint: str | None, values: dict) -> None:
    """``url_for`` of a static file: its fingerprint joins the URL's arguments."""
    if endpoint and "filename" in values and PARAM not in values:
        digest = fingerprint(_folder(endpoint), values["filename"])
        if digest:
            values[PARAM] = digest


def static_url(endpoint: str, **values) -> str:
    """``url_for`` of a static file for the templates, made once per process and kept: a page
    names ~25 files, and building each URL (the route, the file's ``os.stat``) was ~6 % of a
    list page. A deploy starts new processes, so a changed file still gets its new URL; in
    debug mode (files edited in place) every URL is made anew. An out-of-date URL would only
    lose the year of caching: the answer checks the fingerprint again (below)."""
    if current_app.debug:
        return url_for(endpoint, **values)
    key = (endpoint, *sorted(values.items()))
    return kept("static_urls", key, lambda: url_for(endpoint, **values), KEPT_URLS)


def _cache_fingerprinted(response):
    """A static file asked for by its current fingerprint may be kept for a year unchanged."""
    folder = _folder(request.endpoint or "")
    asked = request.args.get(PARAM)
    if folder and asked and response.status_code in (200, 304):
        if asked == fingerprint(folder, (request.view_args or {}).get("filename", "")):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
    app.jinja_env.globals["static_url"] = static_url
    app.after_request(_cache_fingerprinted)
