"""A bounded loopback load generator: N logged-in sessions (threads + requests) browse, filter,
search, export and edit against a served app for a fixed time; reports errors and latency."""

import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LOCKED = "database is locked"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn wsgi:app`` with N workers on a free loopback port (the process we started)."""

    def __init__(self, database_url: str, workers: int = 2):
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "carga" * 8,
            "PANEL_ENV": "development",
        }  # production cookies are Secure: plain-HTTP loopback would drop them
        for key in ("REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
            env.pop(key, None)
        cmd = [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w",
            str(workers),
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "wsgi:app",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                requests.get(self.url + "/login", timeout=10)
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("gunicorn no arrancó")

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err.decode("utf-8", "replace")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[tuple] = []
        self.locked = 0

    def add(self, op: str, seconds: float, error: tuple | None = None, locked: bool = False) -> None:
        with self.lock:
            self.latency[op].append(seconds)
            if error:
                self.errors.append(error)
            self.locked += locked

    def summary(self) -> dict:
        every = sorted(x for xs in self.latency.values() for x in xs)

        def p95(xs):
            xs = sorted(xs)
            return round(xs[int(0.95 * (len(xs) - 1))] * 1000, 1) if xs else None

        return {
            "requests": len(every),
            "errors": len(self.errors),
            "database_is_locked": self.locked,
            "p50_ms": round(statistics.median(every) * 1000, 1) if every else None,
            "p95_ms": p95(every),
            "per_op_p95_ms": {op: p95(xs) for op, xs in sorted(self.latency.items())},
            "per_op_count": {op: len(xs) for op, xs in sorted(self.latency.items())},
            "first_errors": self.errors[:5],
        }


def _session(base: str, email: str, password: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    token = CSRF.search(s.get(base + "/login", timeout=30).text).group(1)
    r = s.post(base + "/login", data={"email": email, "password": password, "csrf_token": token}, timeout=30)
    assert r.ok and "/login" not in r.url, f"no pudo iniciar sesión {email}: {r.status_code}"
    return s, CSRF.search(s.get(base + "/logout", timeout=30).text).group(1)


def _ops(writer: bool, ids: list[int]) -> list[tuple[str, str, str]]:
    ops = [
        ("listar", "GET", "/admin/clientes/"),
        ("buscar", "GET", "/admin/clientes/?search=Nombre1"),
        ("filtrar", "GET", "/admin/clientes/?flt0_0=1&page_size=50"),
        ("ordenar", "GET", "/admin/clientes/?sort=2&desc=1&page=1"),
        ("detalle", "GET", "/admin/clientes/details/?id={id}"),
        ("tablero", "GET", "/admin/"),
    ]
    if writer:
        ops += [
            ("exportar", "GET", "/admin/clientes/exportar/csv/"),
            ("editar", "POST", "/admin/clientes/action/"),
            ("api_editar", "PATCH", "/Database/Database/clientes/{id}/"),
        ]
    return ops


def _loop(base, account, clock, stats, seed):
    rng = random.Random(seed)
    email, password, writer, ids, token = account
    s, csrf = _session(base, email, password)
    ops = _ops(writer, ids)
    clock["ready"].wait()  # every session is logged in before the clock starts
    while time.monotonic() < clock["stop_at"]:
        op, method, path = rng.choice(ops)
        cid = rng.choice(ids)
        url = base + path.format(id=cid)
        kwargs = {"timeout": 60, "allow_redirects": False}
        if op == "editar":
            kwargs["data"] = {
                "action": rng.choice(["activar", "desactivar"]),
                "rowid": [cid],
                "csrf_token": csrf,
            }
        if op == "api_editar":
            kwargs["json"] = {"apellido_cliente": f"Carga{rng.randrange(1000)}"}
            kwargs["headers"] = {"Authorization": f"Token {token}"}
            started = time.monotonic()
            r = requests.request(method, url, **kwargs)
        else:
            started = time.monotonic()
            r = s.request(method, url, **kwargs)
        body = (
            r.text if r.headers.get("Content-Type", "").startswith(("text/html", "application/json")) else ""
        )
        ok = r.status_code < 400 and not (op == "editar" and r.status_code != 302)
        stats.add(op, time.monotonic() - started, None if ok else (op, r.status_code, url), LOCKED in body)


def run(base: str, accounts: list[tuple], sessions: int, seconds: float) -> dict:
    """``sessions`` threads for ``seconds``; accounts: (email, password, writer, cliente ids, token)."""
    stats, clock = Stats(), {"stop_at": 0.0}
    # Once every session is logged in, the measured window starts (set before anyone is released).
    clock["ready"] = threading.Barrier(
        sessions + 1, action=lambda: clock.update(stop_at=time.monotonic() + seconds)
    )
    threads = [
        threading.Thread(target=_loop, args=(base, accounts[i % len(accounts)], clock, stats, i))
        for i in range(sessions)
    ]
    for t in threads:
        t.start()
    clock["ready"].wait(timeout=300)
    for t in threads:
        t.join(seconds + 120)
    return stats.summary() | {"sessions": sessions, "seconds": seconds}
