"""An ``rq worker`` process for the benchmarks: RQ's own Worker, in burst mode (it exits when
the queue is empty), on an app built with the benchmark's settings (BENCH_WORKER_CONFIG, JSON):
the same configuration as the benchmark's own app (database, fake Twilio, queue, rate key),
whatever the environment of the run holds.

    python -m bench.worker QUEUE
"""

import json
import os
import sys

from redis import Redis
from rq import Queue, Worker

from panel import create_app, jobs

from .common import bench_config, database_url


def main(queue_name: str) -> None:
    extra = json.loads(os.environ.get("BENCH_WORKER_CONFIG", "{}"))
    app = create_app(bench_config(database_url(), **extra))
    jobs.use_app(app)  # the app the RQ jobs run in (panel.jobs builds one from env otherwise)
    jobs.freeze_heap()  # as panel.jobs does for the app it builds
    connection = Redis.from_url(app.config["REDIS_URL"])
    Worker([Queue(queue_name, connection=connection)], connection=connection).work(
        burst=True, logging_level="WARNING"
    )


if __name__ == "__main__":
    main(sys.argv[1])
