"""The fake Twilio as its own process (so it never competes with the sender for the GIL).

``python -m bench.fake --latency 0.1 --rate-cap 50`` is ``panel.testing.fake_server`` plus one
counter in ``GET /_fake/stats``: ``busiest_second``, the most create requests that *arrived* in
any rolling second (rejected ones included), which is what a rate cap at Twilio counts.
"""

import argparse
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager

import requests

from panel.testing.fake_server import FakeTwilio, busiest

from .common import ROOT


class ArrivalsFake(FakeTwilio):
    """The fake Twilio, also answering the busiest second of arrivals (where its rate cap looks)."""

    def stats(self) -> dict:
        with self.lock:
            arrivals = sorted(self.arrivals)
        return super().stats() | {"busiest_second": busiest(arrivals)}


@contextmanager
def fake_twilio(latency: float = 0.1, rate_cap: int | None = None):
    """Run ``python -m bench.fake``; yields (url, app config for it)."""
    cmd = [sys.executable, "-m", "bench.fake", "--latency", str(latency)]
    cmd += ["--rate-cap", str(rate_cap)] if rate_cap else []
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        config = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(4))
        yield url, config
    finally:
        proc.terminate()
        proc.wait(10)


def stats(url: str) -> dict:
    return requests.get(url + "/_fake/stats", timeout=30).json()


def main(argv=None) -> None:
    """Serve until SIGTERM, printing the URL and then the app settings, one per line."""
    parser = argparse.ArgumentParser(description="Twilio falso de los benchmarks")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate-cap", type=int, default=None)
    args = parser.parse_args(argv)
    fake = ArrivalsFake(latency=args.latency, rate_cap=args.rate_cap).start()
    done = threading.Event()  # before the URL is printed: a caller may terminate us right after
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(fake.url, flush=True)
    for key, value in fake.config().items():
        print(f"{key}={value}", flush=True)
    done.wait()
    fake.stop()


if __name__ == "__main__":
    main()
