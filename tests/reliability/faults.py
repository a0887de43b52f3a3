"""Sending under faults: real ``rq worker`` processes on a PRIVATE redis-server, the fake Twilio
answering 429/500/503/timeouts, workers SIGKILLed at random moments, Redis restarted mid-run."""

import os
import random
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from redis import Redis
from rq import Queue

from panel.extensions import db
from panel.models import CampanaSMS, SMSLog
from panel.sms import runners

RQ = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "rq")
FAULTS = {"429": 0.06, "500": 0.05, "503": 0.04, "timeout": 0.05}  # 20 % of creates


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server on a free port, no persistence: a restart loses every queued job."""

    def __init__(self):
        self.port = free_port()
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                if Redis.from_url(self.url).ping():
                    return self
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server privado no arrancó")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, pause: float = 0.5) -> None:
        self.stop()
        time.sleep(pause)
        self.start()


def worker_env(app, fake, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_"))}
    env.update(PANEL_ENV="testing", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url)
    env.update(
        SMS_RATE_PER_SECOND="0",
        SMS_CONCURRENCY="4",
        SMS_BATCH_SIZE="10",
        SMS_RETRY_BACKOFF="0.05",
        SMS_CLAIM_TIMEOUT="3",
        TWILIO_TIMEOUT="1",
        SMS_RATE_KEY=f"faults:{os.getpid()}:{time.time()}",
    )
    env.update({k: str(v) for k, v in fake.config().items()})
    return env


class Workers:
    """The worker processes this run started (and only those are ever signalled)."""

    def __init__(self, env: dict, redis_url: str, queue: str):
        self.env, self.redis_url, self.queue = env, redis_url, queue
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        cmd = [RQ, "worker", "--url", self.redis_url, "--name", f"w{time.time_ns()}", self.queue]
        self.procs.append(
            subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.procs if p.poll() is None]

    def kill_one(self, rng: random.Random) -> None:
        alive = self.alive()
        if alive:
            rng.choice(alive).send_signal(signal.SIGKILL)

    def keep(self, n: int) -> None:
        for _ in range(n - len(self.alive())):
            self.start()

    def stop(self) -> None:
        for p in self.alive():
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def _active(cid: int) -> bool:
    with db.engine.connect() as conn:
        estado = conn.execute(sa.select(CampanaSMS.estado).where(CampanaSMS.id == cid)).scalar()
    return estado in runners.ACTIVE


def _sent_share(cid: int, n: int) -> float:
    with db.engine.connect() as conn:
        done = conn.execute(
            sa.select(sa.func.count()).where(
                SMSLog.id_campana == cid, SMSLog.estado.in_(("enviado", "fallido"))
            )
        ).scalar()
    return done / max(n, 1)


def drive(
    app, fake, cid: int, n: int, rng: random.Random, kills: int, restart_redis: bool, limit: float = 240.0
) -> dict:
    """Run campaign ``cid`` to the end through workers while injecting the faults; returns what happened."""
    redis = PrivateRedis().start()
    queue = f"sms-faults-{rng.randrange(1 << 30)}"
    app.config.update(REDIS_URL=redis.url, SMS_QUEUE=queue, SMS_JOBS_PER_CAMPAIGN=4)
    workers = Workers(worker_env(app, fake, redis.url), redis.url, queue)
    done_kills, restarted, deadline = 0, False, time.monotonic() + limit
    try:
        runners.dispatch(cid, app)
        workers.keep(2)
        kill_at = sorted(rng.uniform(0.05, 0.9) for _ in range(kills))
        while _active(cid) and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.1, 0.4))
            share = _sent_share(cid, n)
            if done_kills < kills and share >= kill_at[done_kills]:
                workers.kill_one(rng)  # SIGKILL: no cleanup, the job and its claims are left behind
                done_kills += 1
            if restart_redis and not restarted and share >= 0.3:
                redis.restart()  # every queued job is gone; workers lose their connection
                restarted = True
            workers.keep(2)
            try:
                q = Queue(queue, connection=Redis.from_url(redis.url))
                if q.count == 0:  # what a scheduler / the operator does: resume active campaigns
                    q.enqueue(runners.RESUME_ACTIVE, job_timeout=600)
            except Exception:
                pass  # Redis is coming back
    finally:
        workers.stop()
        redis.stop()
    return {"kills": done_kills, "redis_restarted": restarted, "timed_out": _active(cid)}


def audit(fake, cid: int, n: int) -> dict:
    """The counts the issue asks for, from the fake's own record and the database."""
    db.session.expire_all()
    logs = list(db.session.scalars(sa.select(SMSLog).where(SMSLog.id_campana == cid)))
    campana = db.session.get(CampanaSMS, cid)
    created = Counter((m["to"], m["body"]) for m in fake.created)
    sids = {m["sid"] for m in fake.created}
    per_row = [created[(r.telefono, r.mensaje)] for r in logs]
    mismatch = (
        int(campana.total_clientes != len(logs))
        + int(campana.enviados_exitosos != sum(r.estado == "enviado" for r in logs))
        + int(campana.enviados_fallidos != sum(r.estado == "fallido" for r in logs))
    )
    return {
        "rows": len(logs),
        "max_creates_per_row": max(per_row, default=0),
        "rows_created_twice": sum(c > 1 for c in per_row),
        "rows_lost": n - len(logs) + sum(r.estado in ("pendiente",) for r in logs),
        "enviando_unflagged": sum(r.estado == "enviando" and not r.requiere_revision for r in logs),
        "aggregate_mismatches": mismatch + int(campana.estado in runners.ACTIVE),
        "sent_without_twilio_message": sum(r.estado == "enviado" and r.twilio_sid not in sids for r in logs),
        "created_but_marked_failed_unflagged": sum(
            r.estado == "fallido" and not r.requiere_revision and created[(r.telefono, r.mensaje)] > 0
            for r in logs
        ),
        "flagged_for_review": sum(bool(r.requiere_revision) for r in logs),
        "enviado": sum(r.estado == "enviado" for r in logs),
        "fallido": sum(r.estado == "fallido" for r in logs),
        "injected": dict(fake.injected),
    }


BAD_KEYS = (
    "rows_created_twice",
    "rows_lost",
    "enviando_unflagged",
    "aggregate_mismatches",
    "sent_without_twilio_message",
    "created_but_marked_failed_unflagged",
)
