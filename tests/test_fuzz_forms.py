"""Hypothesis-generated posts to every panel form and action (CSRF token included): never a 5xx.
The forms are discovered from the app: every model view's create/edit page and its actions."""

import os
import re

import sqlalchemy as sa
from flask_admin.model import BaseModelView
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel.extensions import db
from panel.models import Usuario

from . import factories
from .helpers import csrf_of, login

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 25))
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')
NASTY = [
    "",
    "0",
    "-1",
    "1",
    "3",
    "99999999999999999999",
    "2024-02-30",
    "1900-01-01",
    "<script>x</script>",
    "\x00",
    "=1+1",
    "1e309",
    "NaN",
    "on",
    "y",
    "__None",
    " ",
    "ñ" * 300,
    "\u202e",
    "'; DROP TABLE cliente;--",
    # SPEC §19: controls, emoji, right-to-left marks, 10 KB strings, huge numbers, dates beyond
    # the calendar
    "Ana\x01",
    "a\tb\r\nc",
    "\x1f",
    "😀👩‍👩‍👧" * 3,
    "\u200fمرحبا\u202b",
    "x" * 10_000,
    "9" * 40,
    "-" + "9" * 25,
    "1e400",
    "9999-12-31",
    "0000-01-01",
    "9999-12-31T23:59",
]
VALUE = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str))
COUNTS = {"peticiones": 0, "5xx": 0}
# The tables the forms and actions write: a post that is not a success (a redirect) leaves them
# as they were — no half-written row.
WRITTEN = ("cliente", "empresa", "campana_publicitaria", "vehiculo", "movimiento_capital", "venta",
           "plantilla_sms", "campana_sms", "sms_log", "usuario")  # fmt: skip


def _row_counts() -> tuple:
    """Every written table's row count, in one statement (all tenants: the database's truth)."""
    tables = [db.metadata.tables[name] for name in WRITTEN]
    counts = [sa.select(sa.func.count()).select_from(t).scalar_subquery() for t in tables]
    with db.engine.connect() as conn:
        return tuple(conn.execute(sa.select(*counts)).one())


def _forms(app, client, own_id: int) -> list[tuple[str, list[str]]]:
    """(url, field names) of every create/edit form the logged-in user can open."""
    out = []
    for view in app.extensions["panel_admin"]._views:
        if not isinstance(view, BaseModelView):
            continue
        base = view.url.rstrip("/")
        for url in (f"{base}/new/", f"{base}/edit/?id={own_id}"):
            resp = client.get(url)
            if resp.status_code == 200:
                names = sorted(set(FIELD.findall(resp.get_data(as_text=True))) - {"csrf_token"})
                out.append((url, names))
        for name in view._actions_data:
            out.append(
                (
                    f"{base}/action/?action={name}",
                    [
                        "action",
                        "rowid",
                        "todos",
                        "filtros",
                        "confirmado",
                        "mensaje",
                        "id_plantilla",
                        "id_campana",
                        "url",
                    ],
                )
            )
    return out


def test_generated_posts_to_every_form_and_action_never_answer_5xx(app, client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    own = factories.cliente(admin)
    factories.plantilla(admin)
    login(client, tenants.admin_a.email)
    forms = _forms(app, client, own.id_cliente)
    assert len(forms) > 15
    csrf = csrf_of(client)
    failures = []

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.data())
    def post_everything(data):
        for url, names in forms:
            body = {n: data.draw(VALUE, label=n) for n in names}
            if "/action/" in url:
                body["action"] = url.split("action=")[1]
            before = _row_counts()
            resp = client.post(url.split("?action=")[0], data=body | {"csrf_token": csrf})
            COUNTS["peticiones"] += 1
            if resp.status_code >= 500:
                COUNTS["5xx"] += 1
                failures.append((url, body, resp.status_code))
            elif resp.status_code != 302 and _row_counts() != before:
                failures.append((url, body, "escribió filas sin éxito"))

    post_everything()
    print(
        f"[fuzz] {len(forms)} formularios/acciones, {COUNTS['peticiones']} peticiones generadas, "
        f"{COUNTS['5xx']} respuestas 5xx"
    )
    assert failures == [], failures[:3]
    assert client.get("/admin/").status_code == 200  # the whole run was made with a live session
