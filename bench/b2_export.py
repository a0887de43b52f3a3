"""B2: CSV export of one tenant and of everything, ours (streamed; PostgreSQL's COPY there)
against Flask-Admin's built-in export in the standalone baseline (bench/baseline_app.py), each on
a fresh gunicorn worker whose peak memory is read from the OS."""

import threading
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
# Issue #31's, at huge size: the superadmin's 10,000,000 rows, memory flat.
GOAL_ROWS_HUGE = 10_000_000
GOAL_RATE_HUGE = 300_000
SAMPLE_EVERY = 0.25  # s between two readings of the worker's RSS during an export
# Flask-Admin's export lists every row as an object before writing the first: at 10,000,000 rows
# the baseline would need many GB; it is measured up to this many.
BASELINE_MAX_ROWS = 1_000_000


class RssSampler(threading.Thread):
    """Reads a process's RSS (MB) every SAMPLE_EVERY seconds until stopped: flat or growing."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            self.samples.append(memory_kb(self.pid)["VmRSS"] / 1024)
            self.done.wait(SAMPLE_EVERY)

    def stop(self) -> list[float]:
        self.done.set()
        self.join()
        return self.samples


def export_once(url: str, email: str, served: tuple[str, str]) -> dict:
    """Time to first byte, total time, rows and the worker's memory growth for one export."""
    app, path = served
    with gunicorn(url, app=app) as (base, proc):
        http = session(base, email)
        http.get(base + "/admin/clientes/", timeout=60)  # warm the worker: imports, templates, pool
        worker = workers_of(proc)[0]
        reset_peak(worker)  # the warm-up's own peak does not count
        before = memory_kb(worker)["VmRSS"]
        sampler = RssSampler(worker)
        sampler.start()
        start = time.perf_counter()
        answer = http.get(base + path, stream=True, timeout=900)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
        first, newlines = None, 0
        for chunk in answer.iter_content(64 * 1024):
            if first is None and chunk:
                first = time.perf_counter() - start
            newlines += chunk.count(b"\n")
        total = time.perf_counter() - start
        samples = sampler.stop()
        peak = memory_kb(worker)["VmHWM"]
    rows = newlines - 1  # the header line
    return {
        "ttfb": first or total,
        "total": total,
        "rows": rows,
        "growth_mb": (peak - before) / 1024,
        "rate": rows / total if total else 0,
        "rss": samples,
    }


def rss_line(label: str, samples: list[float]) -> str:
    """The sampled RSS of one export, ten readings spread over it: flat, or climbing."""
    if not samples:
        return f"{label}: RSS sin muestras"
    picks = [samples[round(i * (len(samples) - 1) / 9)] for i in range(10)] if len(samples) >= 10 else samples
    return (
        f"{label}: RSS muestreado cada {SAMPLE_EVERY} s ({len(samples)} lecturas), MB: "
        + ", ".join(f"{v:.0f}" for v in picks)
        + f" (mín {min(samples):.0f}, máx {max(samples):.0f})"
    )


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
    rss = []
    cases = list(zip(who, (s.clients // s.tenants, s.clients), strict=True))
    for (label, email), n in cases[:1] if s.name == "smoke" else cases:  # smoke: one case, to stay quick
        o = export_once(url, email, SERVED["ours"])
        b = export_once(url, email, SERVED["baseline"]) if n <= BASELINE_MAX_ROWS else None
        assert b is None or o["rows"] == b["rows"], f"filas distintas: {o['rows']} vs {b['rows']}"
        largest = o
        rss.append(rss_line(f"{label}, ours", o["rss"]))
        rows += _rows(label, o, b)
    postgres = url.startswith("postgres")
    if any(r[2] == "—" for r in rows):
        info += (
            f"\nbase: no medida por encima de {BASELINE_MAX_ROWS:,} filas "
            "(Flask-Admin las carga todas en memoria)"
        )
    text = table("B2 exportación CSV", rows, info) + "\n" + "\n".join(rss) + "\n\n"
    text += goals(largest, postgres, s.name == "huge") + "\n"
    emit(text)
    return text


def _rows(label: str, o: dict, b: dict | None) -> list[tuple]:
    """Four lines of the table for one export; "—" where the baseline was not measured."""
    cells = (
        ("tiempo total", "total", lambda v: f"{v:.2f} s", lambda x, y: ratio(x, y)),
        ("primer byte", "ttfb", lambda v: f"{v:.2f} s", lambda x, y: ratio(x, y)),
        ("filas/s", "rate", lambda v: f"{v:,.0f}", lambda x, y: ratio(x, y, True)),
        ("memoria pico +MB", "growth_mb", lambda v: f"{v:.1f}", lambda x, y: ratio(max(x, 0.1), max(y, 0.1))),
    )
    return [
        (
            f"{label}: {name}",
            show(o[key]),
            show(b[key]) if b else "—",
            compare(o[key], b[key]) if b else "—",
        )
        for name, key, show, compare in cells
    ]


def _met(ok: bool) -> str:
    return "cumplido" if ok else "no cumplido"


def goals(o: dict, postgres: bool, huge: bool = False) -> str:
    """The goals line, read from the largest export of the run (the superadmin's at full size)."""
    goal_rows, goal_rate = (GOAL_ROWS_HUGE, GOAL_RATE_HUGE) if huge else (GOAL_ROWS, GOAL_RATE)
    return (
        f"metas (PostgreSQL, {goal_rows:,} filas): ≥ {goal_rate:,} filas/s: {_met(o['rate'] >= goal_rate)}; "
        f"memoria ≤ {GOAL_MB} MB: {_met(o['growth_mb'] <= GOAL_MB)}; "
        f"primer byte < {GOAL_TTFB} s: {_met(o['ttfb'] < GOAL_TTFB)}"
        + ("" if postgres else " (en SQLite, solo de referencia)")
        + ("" if o["rows"] == goal_rows else f" (aquí {o['rows']:,} filas)")
    )


if __name__ == "__main__":
    run()
