"""The fake Twilio as its own process (so it never competes with the sender for the GIL)."""

import subprocess
import sys
from contextlib import contextmanager

import requests

from .common import ROOT


@contextmanager
def fake_twilio(latency: float = 0.1, rate_cap: int | None = None):
    """Run ``python -m panel.sms.fake_server``; yields (url, app config for it)."""
    cmd = [sys.executable, "-m", "panel.sms.fake_server", "--port", "0", "--latency", str(latency)]
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
