"""Real ``rq worker`` processes for tests: their environment and how they start."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from ..services import REDIS_URL

RQ = str(Path(sys.executable).with_name("rq"))


def worker_env(app, fake) -> dict:
    """The environment of a worker process: the test database, Redis and the fake Twilio."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_"))}
    env.update(
        PANEL_ENV="testing",
        DATABASE_URL=url,
        REDIS_URL=REDIS_URL,
        SMS_RATE_PER_SECOND="200",
        SMS_RATE_KEY=f"test:rq:{secrets.token_hex(4)}",  # a schedule of its own, not other runs'
        SMS_CONCURRENCY="2",
        SMS_BATCH_SIZE="5",
    )
    env.update({k: str(v) for k, v in fake.config().items()})
    return env


def start_worker(env: dict, queue: str) -> subprocess.Popen:
    return subprocess.Popen(
        [RQ, "worker", "--burst", "--url", REDIS_URL, queue],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
