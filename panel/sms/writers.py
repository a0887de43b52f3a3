"""A preparation's chunks written and committed, each behind the preparer's checkpoint
(preparacion.py): one after the other, or — on PostgreSQL — by several writers at once.

Each chunk's transaction inserts its rows and ends with the checkpoint: a conditional UPDATE of
``preparacion_latido`` from the preparer's last token (``lifecycle.checkpoint``), then the
commit. A resumer or "Cancelar" that changed the row makes it fail: that chunk is rolled back
(it writes nothing) and every writer stops. Ending with it, not starting with it, keeps the
campaign's row lock for an instant instead of the whole insert, so two writers' inserts run at
once (PostgreSQL's insert work — the rows, their indexes and key checks — is one CPU per
connection); the checkpoints and commits take turns under one lock, so the token goes from one
checkpoint to the next exactly as with one writer, and the number written (``after_chunk``)
counts committed chunks.
"""

import threading
from collections.abc import Callable, Iterator

from flask import current_app

from .. import tenancy
from ..extensions import db
from ..models import utcnow
from . import enlaces, lifecycle
from .log_rows import _insert_rows


class Fence:
    """The preparer's token, passed from one chunk's checkpoint to the next."""

    def __init__(self, campana_id: int, tenant: int, token, after_chunk: Callable | None):
        self.campana_id, self.tenant, self.token = campana_id, tenant, token
        self.after_chunk = after_chunk
        self.turn = threading.Lock()
        self.lost = False  # a checkpoint was refused: nobody writes more
        self.written = 0

    def write(self, rows: list) -> bool:
        """Insert one chunk's rows and commit them behind the checkpoint, in the calling thread's
        session; False when the checkpoint was refused (the chunk is rolled back)."""
        _insert_rows(self.campana_id, self.tenant, enlaces.assign(self.campana_id, self.tenant, rows))
        with self.turn:
            new_token = utcnow()
            conn = db.session.connection()
            if self.lost or not lifecycle.checkpoint(conn, self.campana_id, self.token, new_token):
                db.session.rollback()
                self.lost = True
                return False
            db.session.commit()
            self.token = new_token
            self.written += len(rows)
            if self.after_chunk is not None:  # tests pause here: no other chunk commits meanwhile
                self.after_chunk(self.campana_id, self.written)
        return True


def one_by_one(fence: Fence, plans: Iterator) -> bool:
    """Every chunk in this thread's session, in order; False once a checkpoint was refused."""
    return all(fence.write(p.rows) for p in plans)


def at_once(fence: Fence, plans: Iterator, writers: int) -> bool:
    """Every chunk, ``writers`` at a time, each writer a thread with its own session (and
    connection) under the caller's tenant scope; False once a checkpoint was refused. An error
    of a writer stops the others and is raised here."""
    app, scope = current_app._get_current_object(), tenancy.current_scope()
    taking = threading.Lock()
    errors: list[BaseException] = []

    def next_plan():
        with taking:
            return None if fence.lost or errors else next(plans, None)

    def work() -> None:
        with app.app_context(), tenancy.using(scope):
            try:
                while (p := next_plan()) is not None and fence.write(p.rows):
                    pass
            except BaseException as exc:
                db.session.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=work, name=f"sms-escritor-{i}", daemon=True) for i in range(writers)]
    try:
        for t in threads:  # started inside: a timeout may land while the second one starts
            t.start()
        for t in threads:
            t.join()
    except BaseException:
        # The caller was interrupted while starting or waiting (an RQ job's timeout is raised
        # here): the writers commit nothing more — the next checkpoint is refused — and a
        # resumer takes over.
        fence.lost = True
        raise
    if errors:
        raise errors[0]
    return not fence.lost
