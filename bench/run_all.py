"""Every benchmark in one run, on one data set: ``make bench`` (BENCH_SIZE=quick|full|smoke)."""

import sys

from . import b1_list, b2_export, b3_outbox, b4_sending, b5_scaleout
from .common import emit, size
from .generate import ensure

BENCHMARKS = {"b1": b1_list, "b2": b2_export, "b3": b3_outbox, "b4": b4_sending, "b5": b5_scaleout}


def main(names: list[str]) -> None:
    s = size()
    ensure(s)
    for name in names or BENCHMARKS:
        BENCHMARKS[name].run(s)
    emit(f"fin: {', '.join(names or BENCHMARKS)} ({s.name})")


if __name__ == "__main__":
    main(sys.argv[1:])
