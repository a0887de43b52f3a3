"""Run a command (a Python module) with its clock moved by a fixed offset: how a test passes its
clock to a process of its own (SPEC §15 "One clock": time-machine patches one process only).

    python -m tests.clocked 86400.0 flask --app wsgi run …   # the server lives a day ahead

The clock keeps ticking; every process started with the same offset agrees with the test's."""

import runpy
import sys
from datetime import UTC, datetime, timedelta

import time_machine


def main() -> None:
    offset, module, *args = sys.argv[1:]
    moved = datetime.now(UTC) + timedelta(seconds=float(offset))
    time_machine.travel(moved, tick=True).start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
