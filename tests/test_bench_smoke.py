"""The benchmarks never rot: every one runs on a tiny data set and prints its table.

Timing goals are not checked here (a smoke run on a busy CI machine says nothing about speed);
``make bench`` measures them. Needs Redis (B4, B5 run RQ workers)."""

import os
import re
import subprocess
import sys
from pathlib import Path

from .services import require_redis

ROOT = Path(__file__).resolve().parent.parent
TITLES = (
    "B1 lista",
    "B2 exportación",
    "B3 creación",
    "B4 envío",
    "B5 escalado",
    "B6 importación",
    "B7 Registro",
    "B8 memoria",
)


def _drop(url: str | None) -> None:
    """Drop the smoke run's PostgreSQL database, if it made one."""
    if not url:
        return
    import psycopg
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def test_every_benchmark_runs_and_prints_its_table(tmp_path):
    require_redis()
    env = {**os.environ, "BENCH_SIZE": "smoke", "BENCH_REGENERATE": "1"}
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("postgres"):  # a database of its own on the same server, dropped and recreated
        env["BENCH_DATABASE_URL"] = database.rsplit("/", 1)[0] + f"/panel_bench_smoke_{os.getpid()}"
    else:
        env["BENCH_SQLITE"] = str(tmp_path / "bench.db")
        env.pop("DATABASE_URL", None)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.run_all"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,  # a guard against a hang, not a duration: eight benchmarks on a shared machine
        )
    finally:
        _drop(env.get("BENCH_DATABASE_URL"))
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for title in TITLES:
        assert f"### {title}" in out, f"falta la tabla {title}:\n{out[-2000:]}"
    assert out.count("| case") >= len(TITLES)  # B1 prints two tables (in process, over HTTP)
    assert "base de datos:" in out and "CPU" in out
    assert "fin: b1, b2, b3, b4, b5, b6, b7, b8 (smoke)" in out
    goals = out.split("### Metas (smoke)", 1)[1]  # make bench's list of every goal, met or not
    for name in ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"):
        assert f"- {name}" in goals, f"{name} no imprime sus metas:\n{goals}"
    listed = [line for line in goals.split("\n") if line.startswith("- ")]
    assert all("cumplido" in line for line in listed), listed  # each says met or not met
    _b1_statements(out, goals)


B1_STATEMENTS = re.compile(r"^\| (admin|superadmin) \([^)]*\): (.+), sentencias SQL\s*\|\s*(\d+)", re.M)


def _b1_statements(out: str, goals: str) -> None:
    """A count, not a time, so it holds at smoke size: every B1 page of both roles, the
    departamento-filtered one included, costs at most 3 statements (the smoke run scales the
    count cap to its data, so its pages are large lists as at 1,000,000 rows)."""
    counted = {(who, case): int(n) for who, case, n in B1_STATEMENTS.findall(out)}
    assert {who for who, _ in counted} == {"admin", "superadmin"}, out[:3000]
    assert ("admin", "página 1 por departamento") in counted, sorted(counted)
    assert all(n <= 3 for n in counted.values()), counted
    assert "- B1: ≤ 3 sentencias SQL por página: cumplido (máximo 3)" in goals, goals
