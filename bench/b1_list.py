"""B1: the Clientes list, ours against a plain Flask-Admin ModelView, same data, same run.

Server time is measured in-process through the WSGI test client (no network, no browser):
the time the app takes to answer, and the SQL statements it sends, per request.
"""

import re
import time

from panel.extensions import db

from .common import PASSWORD, count_statements, emit, machine_info, ms, ratio, size, stats, table
from .generate import SUPERADMIN, admin_email, ensure
from .server import create

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(app, email: str):
    """A test client logged in through the real login form."""
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, f"no se pudo iniciar sesión como {email}"
    return client


def filter_args(app, endpoint: str, values: dict) -> str:
    """``flt`` arguments for a view, by filter url name (each view names its filters its own way)."""
    view = next(v for v in app.extensions["panel_admin"]._views if v.endpoint == endpoint)
    parts = []
    for n, flt in enumerate(view._filters):
        name = getattr(flt, "url_name", None)
        if name in values:
            parts.append(f"flt{n}_{view.get_filter_arg(view._filters.index(flt), flt)}={values.pop(name)}")
    return "&".join(parts)


def cases(app, endpoint: str, deep_page: int) -> dict[str, str]:
    base = f"/admin/{endpoint}/"
    return {
        "página 1": base,
        "estado + ciudad": base + "?" + filter_args(app, endpoint, {"estado": 1, "ciudad": 2}),
        "búsqueda cédula": base + "?search=1000012",
        f"página {deep_page + 1}": base + f"?page={deep_page}",
        "página 1, 100 filas": base + "?page_size=100",
    }


def measure(client, engine, url: str, n: int) -> tuple[float, float, int]:
    """(median, p95, statements of one request) over ``n`` requests after one warm-up."""
    assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(n):
        with count_statements(engine) as statements:
            start = time.perf_counter()
            answer = client.get(url)
            samples.append(time.perf_counter() - start)
        assert answer.status_code == 200, url
    median, p95 = stats(samples)
    return median, p95, statements[0]


def run(s=None) -> str:
    s = s or size()
    ensure(s)
    app = create()
    rows = []
    with app.app_context():  # left at once: each request must get its own context and session
        engine = db.engine
        info = machine_info(engine)
    who = {
        f"admin ({s.clients // s.tenants:,} filas)": admin_email(0),
        f"superadmin ({s.clients:,})": SUPERADMIN,
    }
    for label, email in who.items():
        client = login(app, email)
        ours, base = cases(app, "clientes", s.deep_page), cases(app, "baseline", s.deep_page)
        for case in ours:
            o = measure(client, engine, ours[case], s.requests)
            b = measure(client, engine, base[case], s.requests)
            rows.append((f"{label}: {case}, mediana", ms(o[0]), ms(b[0]), ratio(o[0], b[0])))
            rows.append((f"{label}: {case}, p95", ms(o[1]), ms(b[1]), ratio(o[1], b[1])))
            rows.append((f"{label}: {case}, sentencias SQL", o[2], b[2], ""))
    info += f"\n{s.requests} peticiones por caso (WSGI en proceso: tiempo de servidor), tamaño {s.name}"
    text = table("B1 lista de clientes", rows, info)
    emit(text)
    return text


if __name__ == "__main__":
    run()
