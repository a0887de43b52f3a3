"""Shared helpers: sizes, the benchmark database, timing statistics, statement counting, tables."""

import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-clave-123"
SQLITE_PATH = Path(os.environ.get("BENCH_SQLITE", "/tmp/panel_bench.db"))
PG_NAME = "panel_bench"


@dataclass(frozen=True)
class Size:
    """How big a run is: clients in all, requests per list case, messages to send."""

    name: str
    clients: int
    tenants: int = 10
    requests: int = 30
    messages: int = 10_000
    throttled: int = 10_000
    baseline_messages: int = 300
    browse_seconds: float = 30.0
    deep_page: int = 2000
    staff: int = 20
    count_cap: int | None = None  # the Clientes list's, in process (None: the panel's own)
    memory_requests: int = 1000  # B8's mixed requests to one web worker


SIZES = {
    # 10 tenants of 1,000,000 each: the superadmin sees ten million (PostgreSQL only; issue #31).
    "huge": Size("huge", 10_000_000, requests=10),
    "full": Size("full", 1_000_000),
    "quick": Size(
        "quick",
        100_000,
        messages=3000,
        throttled=1500,
        baseline_messages=100,
        browse_seconds=15,
        deep_page=200,
    ),
    "smoke": Size(
        "smoke",
        200,
        tenants=2,
        requests=2,
        messages=30,
        throttled=20,
        baseline_messages=5,
        browse_seconds=2,
        deep_page=2,
        staff=4,
        count_cap=20,
        memory_requests=60,
    ),
}


def size() -> Size:
    """The size chosen by BENCH_SIZE (quick by default)."""
    name = os.environ.get("BENCH_SIZE", "quick")
    if name not in SIZES:
        sys.exit(f"BENCH_SIZE debe ser uno de {', '.join(SIZES)}, no {name!r}")
    return SIZES[name]


def database_url() -> str:
    """The benchmark database: ``panel_bench`` on the server of DATABASE_URL, or SQLite in /tmp."""
    raw = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if raw.startswith("postgres"):
        url = sa.make_url(raw).set(drivername="postgresql+psycopg")
        if not os.environ.get("BENCH_DATABASE_URL"):
            # huge is kept in its own database between runs: it takes long to make.
            url = url.set(database=f"{PG_NAME}_huge" if size().name == "huge" else PG_NAME)
        return url.render_as_string(hide_password=False)
    if size().name == "huge":
        sys.exit("BENCH_SIZE=huge es solo para PostgreSQL: DATABASE_URL=postgresql://…")
    return raw if raw.startswith("sqlite") else f"sqlite:///{SQLITE_PATH}"


def bench_config(url: str, **extra) -> dict:
    """App configuration of the benchmark process (the served apps get the same through env)."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "SMS_EMBEDDED_SENDER": "0",
        **extra,
    }


def stats(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of a list of seconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def ratio(ours: float, baseline: float, higher_is_better: bool = False) -> str:
    """How many times better ours is (baseline/ours for times, ours/baseline for rates)."""
    a, b = (ours, baseline) if higher_is_better else (baseline, ours)
    return "—" if not b else f"{a / b:.1f}×"


@contextmanager
def count_statements(engine):
    """Count the SQL statements sent through ``engine`` inside the block (``box[0]``)."""
    box = [0]

    def _count(conn, cursor, statement, parameters, context, executemany):
        box[0] += 1

    sa.event.listen(engine, "before_cursor_execute", _count)
    try:
        yield box
    finally:
        sa.event.remove(engine, "before_cursor_execute", _count)


@contextmanager
def timer():
    """``with timer() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def machine_info(engine) -> str:
    """CPU count, Python, database and library versions, one line each."""
    import flask
    import flask_admin

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            db_version = conn.scalar(sa.text("SHOW server_version"))
        else:
            db_version = conn.scalar(sa.text("SELECT sqlite_version()"))
    return "\n".join(
        [
            f"máquina: {os.cpu_count()} CPU, {platform.machine()}, {platform.system()} {platform.release()}, "
            f"carga media al empezar {os.getloadavg()[0]:.1f}",
            f"python {platform.python_version()}, Flask {flask.__version__}, Flask-Admin "
            f"{flask_admin.__version__}, SQLAlchemy {sa.__version__}",
            f"base de datos: {engine.dialect.name} {db_version}",
        ]
    )


def table(
    title: str, rows: list[tuple], info: str = "", headers=("case", "ours", "baseline", "ratio")
) -> str:
    """A Markdown table ``case | ours | baseline | ratio`` with a title and the machine info."""
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    out = [f"### {title}", ""] + ([info, ""] if info else [])
    out += [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out) + "\n"


def emit(text: str) -> None:
    """Print a result block at once (the smoke test reads stdout)."""
    print(text, flush=True)
