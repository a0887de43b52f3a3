"""The benchmark app served by gunicorn as its own process, and a logged-in HTTP session."""

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests

from .common import PASSWORD, ROOT

BASELINE = "bench.baseline_app:create()"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(
    url: str,
    workers: int = 1,
    env: dict | None = None,
    timeout: float = 60,
    app: str = "bench.server:create()",
):
    """Serve ``app`` (ours by default; ``BASELINE`` for the standalone baseline) on a loopback
    port; yields (base URL, master Popen)."""
    port = free_port()
    environ = {**os.environ, "BENCH_DATABASE_URL": url, "PANEL_ENV": "testing", **(env or {})}
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "900",
        "--log-level",
        "warning",
        app,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=environ)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc, timeout)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(base: str, proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn terminó antes de servir")
        try:
            if requests.get(base + "/login", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise RuntimeError("gunicorn no respondió a tiempo")


def workers_of(proc) -> list[int]:
    """The pids of gunicorn's worker processes (children of the master)."""
    with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
        return [int(p) for p in f.read().split()]


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB, from the OS."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
    return out


def reset_peak(pid: int) -> bool:
    """Reset the process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0, own processes)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def session(base: str, email: str) -> requests.Session:
    """An HTTP session logged in through the app's login form (the baseline's has no CSRF token)."""
    s = requests.Session()
    token = CSRF.search(s.get(base + "/login", timeout=30).text)
    answer = s.post(
        base + "/login",
        data={"email": email, "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, f"no se pudo iniciar sesión como {email}"
    return s
