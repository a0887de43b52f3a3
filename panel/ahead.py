"""Work made one item ahead, in a thread: a chunked writer's next chunk prepared while this one
is written (on PostgreSQL: a campaign's outbox, sms/preparacion.py; an import's rows,
importing/service.py).

Writing a chunk is PostgreSQL's work (the insert, its indexes and key checks) while the caller
waits; preparing the next one is Python's (reading the clients or the file, the checks, the
texts). Done in turn they add up; one chunk ahead they overlap, each on its own CPU. The thread
only reads — in its own session, under the caller's tenant scope — and hands over plain values,
so what is written, and when it is committed, stays the caller's alone. The items themselves are
taken one at a time in the thread (a file's rows are read there, never all at once).
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

from flask import current_app

from . import tenancy
from .extensions import db

WAIT = 0.1  # seconds between two looks at "stop" while the caller has not taken the last plan


class Ahead:
    """``for plan in Ahead(make).run(items)``: ``make(item)`` for each item, one item ahead of
    the caller; an error of ``make`` is raised in the caller. ``stop()`` ends the thread early
    (the caller stopped taking plans) and waits for it."""

    def __init__(self, make: Callable, name: str = "adelante"):
        self.make, self.name = make, name
        self.app = current_app._get_current_object()
        self.scope = tenancy.current_scope()
        self.plans: queue.Queue = queue.Queue(maxsize=1)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self, items: Iterable) -> Iterator:
        self.thread = threading.Thread(target=self._work, args=(items,), name=self.name, daemon=True)
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

    def _work(self, items: Iterable) -> None:
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


def ahead(make: Callable, items: Iterable, name: str = "adelante") -> Iterator:
    """``make(item)`` for each item, one ahead of the caller; the thread ends with the loop that
    takes them (closed early by ``close()``, an error or a timeout, it stops and is joined)."""
    worker = Ahead(make, name)
    try:
        yield from worker.run(items)
    finally:
        worker.stop()
