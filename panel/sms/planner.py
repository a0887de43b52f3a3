"""A chunked outbox's plans made one chunk ahead, in a thread (preparacion.py, on PostgreSQL).

Writing a chunk is PostgreSQL's work (the insert, its indexes and key checks) while the caller
waits; planning the next one is Python's (reading the clients, the skip reasons, the texts).
Done in turn they add up; with the planner one chunk ahead they overlap, each on its own CPU.
The planner only reads — in its own session, under the caller's tenant scope — and hands over
plain plans, so what is written, and when it is committed, stays the caller's alone.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

from flask import current_app

from .. import tenancy
from ..extensions import db

WAIT = 0.1  # seconds between two looks at "stop" while the caller has not taken the last plan


class Ahead:
    """``for plan in Ahead(make).run(items)``: ``make(item)`` for each item, one item ahead of
    the caller; an error of ``make`` is raised in the caller. ``stop()`` ends the thread early
    (the caller stopped taking plans) and waits for it."""

    def __init__(self, make: Callable):
        self.make = make
        self.app = current_app._get_current_object()
        self.scope = tenancy.current_scope()
        self.plans: queue.Queue = queue.Queue(maxsize=1)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self, items: Iterable) -> Iterator:
        self.thread = threading.Thread(target=self._work, args=(list(items),), name="sms-plan", daemon=True)
        self.thread.start()
        while True:
            kind, value = self.plans.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()

    def _work(self, items: list) -> None:
        try:
            with self.app.app_context(), tenancy.using(self.scope):
                for item in items:
                    made = self.make(item)
                    db.session.rollback()  # no read transaction (and its snapshot) held between items
                    if not self._hand_over(("plan", made)):
                        return
        except Exception as exc:  # the caller raises it, with its traceback
            self._hand_over(("error", exc))
            return
        self._hand_over(("done", None))

    def _hand_over(self, message) -> bool:
        """Put ``message`` for the caller; False when the caller stopped taking them."""
        while not self.stopping.is_set():
            try:
                self.plans.put(message, timeout=WAIT)
                return True
            except queue.Full:
                continue
        return False
