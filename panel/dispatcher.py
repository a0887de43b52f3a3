"""Where background work runs: an RQ job on its queue when REDIS_URL is set, else a daemon thread
of this process. One rule for the SMS sender (panel/sms/runners.py), the imports of clients
(panel/importing/background.py) and the loads of the RNE (panel/sms/rne_background.py); each
keeps its own queue (a setting's name), its own job (enqueued by name: the worker imports
panel.jobs, nothing here does) and its own thread's work.
"""

import threading
from collections.abc import Callable

from flask import Flask


def uses_rq(app: Flask) -> bool:
    """Jobs go to RQ when the app has Redis; otherwise they run in threads of this process."""
    return bool(app.config.get("REDIS_URL"))


def queue(app: Flask, setting: str):
    """The RQ queue named by the setting ``setting`` (SMS_QUEUE, IMPORT_QUEUE)."""
    from redis import Redis
    from rq import Queue

    return Queue(app.config[setting], connection=Redis.from_url(app.config["REDIS_URL"]))


def start_thread(run_in_app: Callable, app: Flask, *args, name: str) -> threading.Thread:
    """``run_in_app(app, *args)`` on a daemon thread of this process (it opens its own app context)."""
    thread = threading.Thread(target=run_in_app, args=(app, *args), daemon=True, name=name)
    thread.start()
    return thread


def submit(
    app: Flask,
    *,
    queue_setting: str,
    job: str,
    run_in_app: Callable,
    args: tuple,
    timeout: int,
    description: str,
    thread_name: str,
    job_id: str | None = None,
):
    """The job ``job(*args)`` on the queue of ``queue_setting`` with Redis, else
    ``run_in_app(app, *args)`` on a thread: the enqueued RQ job or the started thread. ``job_id``
    names the RQ job, for a caller that asks RQ about it later."""
    if uses_rq(app):
        q = queue(app, queue_setting)
        return q.enqueue(job, *args, job_timeout=timeout, description=description, job_id=job_id)
    return start_thread(run_in_app, app, *args, name=thread_name)
