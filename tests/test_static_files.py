"""Static files: every URL carries its content's fingerprint and is kept by the browser for a
year; a changed file gets a new URL; an old or missing fingerprint is asked for again."""

import hashlib
import re
from pathlib import Path

from panel import static_files

from .helpers import login

SCRIPT_OR_STYLE = re.compile(r'(?:src|href)="(/(?:admin/)?static/[^"]+)"')


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_every_static_url_of_a_page_carries_its_files_fingerprint_and_is_kept_a_year(app, client, tenants):
    login(client, "admin.a@test.co")
    page = client.get("/admin/clientes/")
    assert page.status_code == 200
    urls = SCRIPT_OR_STYLE.findall(page.get_data(as_text=True))
    assert any(u.startswith("/static/panel.css") for u in urls)  # the panel's own…
    assert any(u.startswith("/admin/static/vendor/jquery") for u in urls)  # …and Flask-Admin's
    for url in urls:
        url = url.replace("&amp;", "&")
        assert f"{static_files.PARAM}=" in url, url
        answer = client.get(url)
        assert answer.status_code == 200, url
        cache = answer.headers["Cache-Control"]
        assert "max-age=31536000" in cache and "immutable" in cache and "no-store" not in cache, url
        answer.close()
    own = next(u for u in urls if u.startswith("/static/panel.css"))
    assert own.endswith(f"h={_digest(Path(app.static_folder) / 'panel.css')}")


def test_an_old_or_missing_fingerprint_is_served_but_asked_for_again(client):
    for url in ("/static/panel.css", "/static/panel.css?h=000000000000"):
        answer = client.get(url)
        assert answer.status_code == 200 and b"{" in answer.data  # the file itself…
        cache = answer.headers.get("Cache-Control", "")
        assert "max-age=31536000" not in cache and "immutable" not in cache, (url, cache)  # …not kept
        answer.close()


def test_a_changed_file_gets_a_new_fingerprint(tmp_path):
    script = tmp_path / "guion.js"
    script.write_text("console.log('uno');")
    first = static_files.fingerprint(str(tmp_path), "guion.js")
    assert first == _digest(script)
    script.write_text("console.log('dos, más largo');")
    second = static_files.fingerprint(str(tmp_path), "guion.js")
    assert second == _digest(script) and second != first
    assert static_files.fingerprint(str(tmp_path), "no-existe.js") is None
    assert static_files.fingerprint(str(tmp_path), "../etc/passwd") is None  # never outside the folder
    (tmp_path / "carpeta").mkdir()
    assert static_files.fingerprint(str(tmp_path), "carpeta") is None  # a folder is not read


def test_a_pages_static_urls_are_made_once_per_process_except_in_debug_mode(app, client, tenants):
    login(client, "admin.a@test.co")
    first = client.get("/admin/clientes/").get_data(as_text=True)
    kept = app.extensions["static_urls"]
    own = next(k for k in kept if k[1] == "static" and ("filename", "panel.css") in k)
    vendor = next(k for k in kept if k[1] == "admin.static")  # Flask-Admin's files too
    assert kept[own] in first and kept[vendor].replace("&", "&amp;") in first
    kept[own], kept[vendor] = "/static/panel.css?h=guardada", "/admin/static/guardada.js"
    try:
        second = client.get("/admin/clientes/").get_data(as_text=True)
        app.debug = True
        third = client.get("/admin/clientes/").get_data(as_text=True)
    finally:
        app.debug = False
        kept.clear()  # the app may serve the next test: no made-up URL stays
    assert "/static/panel.css?h=guardada" in second and "/admin/static/guardada.js" in second  # kept
    assert "guardada" not in third  # debug mode: made anew
    assert f"/static/panel.css?h={_digest(Path(app.static_folder) / 'panel.css')}" in third
