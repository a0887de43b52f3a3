"""Every benchmark in one run, on one data set: ``make bench`` (BENCH_SIZE=quick|full|smoke).

Each benchmark runs in a process of its own: B1 leaves a big heap behind (two apps, hundreds of
rendered pages), and B3, run in the same process after it, paid for it in garbage collections
(6.4 s instead of 3.4 s for the same SQLite outbox). A web or RQ worker creating a campaign has
no such heap, so neither should the benchmark — nor the baseline, which pays the same."""

import os
import subprocess
import sys

from . import b1_list, b2_export, b3_outbox, b4_sending, b5_scaleout, b6_import, b7_rne, b8_memory
from .common import emit, size
from .generate import ensure

BENCHMARKS = {
    "b1": b1_list,
    "b2": b2_export,
    "b3": b3_outbox,
    "b4": b4_sending,
    "b5": b5_scaleout,
    "b6": b6_import,
    "b7": b7_rne,
    "b8": b8_memory,
}


def main(names: list[str]) -> None:
    s = size()
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"benchmarks desconocidos: {', '.join(unknown)} (use {', '.join(BENCHMARKS)})")
    ensure(s)
    names = names or list(BENCHMARKS)
    if len(names) == 1:
        BENCHMARKS[names[0]].run(s)
        return
    env = {k: v for k, v in os.environ.items() if k != "BENCH_REGENERATE"}  # generated once, above
    goals = []
    for name in names:
        goals += [(name, line) for line in _run(name, env) if line.startswith("metas")]
    emit(summary(goals, s.name))
    emit(f"fin: {', '.join(names)} ({s.name})")


def _run(name: str, env: dict) -> list[str]:
    """Run one benchmark in a process of its own, echoing its output as it comes; its lines."""
    lines = []
    with subprocess.Popen(
        [sys.executable, "-m", "bench.run_all", name], env=env, stdout=subprocess.PIPE, text=True
    ) as proc:
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, name)
    return lines


def summary(goals: list[tuple[str, str]], size_name: str) -> str:
    """Every goal of the run, met or not, in one place at the end."""
    out = [f"### Metas ({size_name})", ""]
    for name, line in goals:
        head, _, parts = line.partition(": ")  # "metas" or "metas (PostgreSQL, …)"
        where = head.removeprefix("metas").strip()
        for part in _parts(parts):
            out.append(f"- {name.upper()}{' ' + where if where else ''}: {part.strip()}")
    return "\n".join(out) + "\n"


def _parts(text: str) -> list[str]:
    """The goals of one ``metas`` line: split on "; " outside parentheses (a note may hold one)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith("; ", i):
            parts.append(text[start:i])
            start = i + 2
    return parts + [text[start:]]


if __name__ == "__main__":
    main(sys.argv[1:])
