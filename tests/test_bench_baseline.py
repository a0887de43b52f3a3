"""The benchmarks' standalone baseline (bench/baseline_app.py) is a fair one: an app of its own
that imports nothing of the panel, and that shows each tenant its own clients only (the tenancy
override Flask-Admin's documentation shows) — a baseline that leaked rows, or that borrowed our
code, would make every ratio of B1, B2 and B5 meaningless."""

import re
import subprocess
import sys

import sqlalchemy as sa

from bench import baseline_app
from panel.extensions import db
from panel.models import Usuario

from . import factories
from .helpers import PASSWORD

LIST_MARKER = 'class="table table-striped table-bordered table-hover model-list"'
CEDULA_CELL = re.compile(r'<td class="col-cedula_cliente">\s*(\d+)\s*</td>')


def _login(app, email):
    client = app.test_client()
    answer = client.post("/login", data={"email": email, "password": PASSWORD})
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/"
    return client


def _listed(client, query: str = "") -> set[str]:
    """The cédulas in the rows of the baseline's list page."""
    answer = client.get("/admin/clientes/" + query)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert LIST_MARKER in html, "not the baseline's list page"
    return set(CEDULA_CELL.findall(html))


def test_the_baseline_imports_nothing_of_the_panel():
    code = (
        "import sys, bench.baseline_app;"
        " bad = sorted(m for m in sys.modules if m == 'panel' or m.startswith('panel.'));"
        " print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_tenant_sees_its_own_clients_only(app, tenants, database_url):
    a = factories.cliente(db.session.get(Usuario, tenants.admin_a.id))
    b = factories.cliente(db.session.get(Usuario, tenants.admin_b.id))
    cedulas = a.cedula_cliente, b.cedula_cliente
    plain = baseline_app.create(database_url)
    for account, visible in (
        (tenants.admin_a, cedulas[0]),
        (tenants.vendedor_a, cedulas[0]),
        (tenants.admin_b, cedulas[1]),
    ):
        assert _listed(_login(plain, account.email)) == {visible}, account.email
    assert _listed(_login(plain, tenants.superadmin.email)) == set(cedulas)
    assert _listed(_login(plain, tenants.admin_b.email), "?search=" + cedulas[1]) == {cedulas[1]}
    assert _listed(_login(plain, tenants.admin_a.email), "?search=" + cedulas[1]) == set()
    exported = _login(plain, tenants.admin_a.email).get("/admin/clientes/export/csv/")
    assert exported.status_code == 200
    body = exported.get_data(as_text=True)
    assert cedulas[0] in body and cedulas[1] not in body
    with plain.app_context():
        plain.extensions["sqlalchemy"].engine.dispose()


def test_the_filter_arguments_name_flask_admins_equals_filters(database_url):
    plain = baseline_app.create(database_url)
    args = baseline_app.filter_args(plain, {"estado": 1, "id_ciudad": 2, "id_departamento": 3})
    view = next(v for v in plain.extensions["baseline_admin"]._views if v.endpoint == "clientes")
    chosen = [view._filters[int(part.split("=")[0].split("_")[1])] for part in args.split("&")]
    assert [(f.column.name, str(f.operation())) for f in chosen] == [
        ("estado", "equals"),
        ("id_ciudad", "equals"),
        ("id_departamento", "equals"),  # B1's departamento case: the ciudad's, joined by Flask-Admin
    ]
    assert isinstance(view.model.__table__, sa.Table)
