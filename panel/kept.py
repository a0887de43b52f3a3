"""What a serving process makes once and keeps: a page's parts that depend only on what their
key names (the static files' URLs, the main menu). Bounded all the same."""

from flask import current_app, has_request_context, request


def kept(name: str, key: tuple, make, limit: int):
    """``make()``'s value for ``key``, made the first time and kept for the process in the app's
    ``extensions[name]`` (up to ``limit`` keys; past them, made each time). The key takes in the
    app's mount path: a URL differs under another one."""
    store = current_app.extensions.setdefault(name, {})
    full = (request.script_root if has_request_context() else "", *key)
    value = store.get(full)
    if value is None:
        value = make()
        if len(store) < limit:
            store[full] = value
    return value
