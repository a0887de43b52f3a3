"""The README's ``rq worker`` for imports, whose import stops before its last chunk until the test
says so: a test of "the campaign completes while the import still has rows ahead" must not race
an import that became fast enough to end first (the embedded runner's test holds its thread the
same way, through ``service.after_chunk``).

    python -m tests.support.held_import_worker KEY ROWS rq-worker-arguments…

Before writing past ``ROWS`` minus one chunk, the import waits (at most a minute, a guard against
a test that never lets go) until the Redis key ``KEY`` exists. RQ's work horse is a fork of this
process, so it runs with the hook set here."""

import sys
import time

from redis import Redis
from rq.cli import main as rq_main

from panel.importing import service
from panel.importing.rows import CHUNK

from ..services import REDIS_URL

GUARD_SECONDS = 60


def hold_before_the_last_chunk(key: str, rows: int):
    def after_chunk(_job_id: int, leidas: int) -> None:
        if leidas < rows - CHUNK:
            return
        redis = Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + GUARD_SECONDS
        while not redis.exists(key) and time.monotonic() < deadline:
            time.sleep(0.05)

    return after_chunk


if __name__ == "__main__":
    key, rows, *rq_arguments = sys.argv[1:]
    service.after_chunk = hold_before_the_last_chunk(key, int(rows))
    sys.exit(rq_main(["worker", *rq_arguments], prog_name="rq"))
