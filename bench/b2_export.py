"""B2: CSV export of one tenant and of everything, ours (streamed; PostgreSQL's COPY there)
against Flask-Admin's built-in export in the standalone baseline (bench/baseline_app.py), each on
a fresh gunicorn worker whose peak memory is read from the OS."""

import time

import sqlalchemy as sa

from .common import emit, machine_info, ratio, size, table
from .generate import SUPERADMIN, admin_email, ensure
from .served import BASELINE, gunicorn, memory_kb, reset_peak, session, workers_of

# (the app gunicorn serves, the export's path)
SERVED = {
    "ours": ("bench.server:create()", "/admin/clientes/export/csv/"),
    "baseline": (BASELINE, "/admin/clientes/export/csv/"),
}
# Issue #19's goals, for 1,000,000 rows on PostgreSQL (the superadmin's export, over HTTP).
GOAL_ROWS = 1_000_000
GOAL_RATE = 200_000  # rows/s
GOAL_MB = 64
GOAL_TTFB = 0.1  # s


def export_once(url: str, email: str, served: tuple[str, str]) -> dict:
    """Time to first byte, total time, rows and the worker's memory growth for one export."""
    app, path = served
    with gunicorn(url, app=app) as (base, proc):
        http = session(base, email)
        http.get(base + "/admin/clientes/", timeout=60)  # warm the worker: imports, templates, pool
        worker = workers_of(proc)[0]
        reset_peak(worker)  # the warm-up's own peak does not count
        before = memory_kb(worker)["VmRSS"]
        start = time.perf_counter()
        answer = http.get(base + path, stream=True, timeout=900)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
        first, newlines = None, 0
        for chunk in answer.iter_content(64 * 1024):
            if first is None and chunk:
                first = time.perf_counter() - start
            newlines += chunk.count(b"\n")
        total = time.perf_counter() - start
        peak = memory_kb(worker)["VmHWM"]
    rows = newlines - 1  # the header line
    return {
        "ttfb": first or total,
        "total": total,
        "rows": rows,
        "growth_mb": (peak - before) / 1024,
        "rate": rows / total if total else 0,
    }


def run(s=None) -> str:
    s = s or size()
    url = ensure(s)
    engine = sa.create_engine(url)
    info = machine_info(engine) + f"\ngunicorn, 1 worker síncrono por caso (proceso nuevo), tamaño {s.name}"
    engine.dispose()
    rows = []
    largest = None
    who = [
        (f"admin, {s.clients // s.tenants:,} filas", admin_email(0)),
        (f"superadmin, {s.clients:,} filas", SUPERADMIN),
    ]
    for label, email in who[:1] if s.name == "smoke" else who:  # smoke: one case, to stay quick
        o, b = (export_once(url, email, SERVED[k]) for k in ("ours", "baseline"))
        assert o["rows"] == b["rows"], f"filas distintas: {o['rows']} vs {b['rows']}"
        largest = o
        rows += [
            (
                f"{label}: tiempo total",
                f"{o['total']:.2f} s",
                f"{b['total']:.2f} s",
                ratio(o["total"], b["total"]),
            ),
            (
                f"{label}: primer byte",
                f"{o['ttfb']:.2f} s",
                f"{b['ttfb']:.2f} s",
                ratio(o["ttfb"], b["ttfb"]),
            ),
            (
                f"{label}: filas/s",
                f"{o['rate']:,.0f}",
                f"{b['rate']:,.0f}",
                ratio(o["rate"], b["rate"], True),
            ),
            (
                f"{label}: memoria pico +MB",
                f"{o['growth_mb']:.1f}",
                f"{b['growth_mb']:.1f}",
                ratio(max(o["growth_mb"], 0.1), max(b["growth_mb"], 0.1)),
            ),
        ]
    postgres = url.startswith("postgres")
    text = table("B2 exportación CSV", rows, info) + "\n" + goals(largest, postgres) + "\n"
    emit(text)
    return text


def _met(ok: bool) -> str:
    return "cumplido" if ok else "no cumplido"


def goals(o: dict, postgres: bool) -> str:
    """The goals line, read from the largest export of the run (the superadmin's at full size)."""
    return (
        f"metas (PostgreSQL, {GOAL_ROWS:,} filas): ≥ {GOAL_RATE:,} filas/s: {_met(o['rate'] >= GOAL_RATE)}; "
        f"memoria ≤ {GOAL_MB} MB: {_met(o['growth_mb'] <= GOAL_MB)}; "
        f"primer byte < {GOAL_TTFB} s: {_met(o['ttfb'] < GOAL_TTFB)}"
        + ("" if postgres else " (en SQLite, solo de referencia)")
        + ("" if o["rows"] == GOAL_ROWS else f" (aquí {o['rows']:,} filas)")
    )


if __name__ == "__main__":
    run()
