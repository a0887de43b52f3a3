"""The sender: one implementation for the embedded thread and the RQ workers.

Rows are claimed atomically (``pendiente`` → ``enviando``) in small batches and sent by a bounded
thread pool under the global rate limit. The calling thread claims the next batch as soon as the
pool's queue runs dry (not when the whole previous batch is done, so no thread idles at a batch's
tail), and writes the outcomes of the sends that have finished, together, the moment it sees
them. Only outcomes that guarantee Twilio created nothing are retried; an ambiguous one is
reconciled against Twilio's message list or flagged for review — never re-sent.

This module is the loop; its parts sit beside it: ``send_run`` (a pass's settings and state),
``claims`` (taking rows), ``delivery`` (one row: the gate, the call, retries, reconciling) and
``outcomes`` (writing what happened).
"""

import queue
from concurrent.futures import Future, ThreadPoolExecutor, wait

from .. import clock
from ..extensions import db
from ..secretos import SecretoError
from . import lifecycle, reglas
from .claims import _claim, release
from .delivery import _send, recover_stale
from .outcomes import _abort, store
from .send_run import _naive, _Run


def _opening(conn, campana_id: int):
    """None when the campaign may send now; else its window's next opening (naive UTC)."""
    rules = reglas.of_campaign(conn, campana_id)
    now = clock.now()
    if rules is None or rules.ventana.is_open(now):
        return None
    return _naive(rules.ventana.next_opening(now))


def run_campaign(campana_id: int) -> dict:
    """Send what is pending of a campaign (needs an app context); returns the row counts."""
    if not lifecycle.begin(campana_id, opening=_opening):
        return lifecycle.counts(campana_id)
    try:
        run = _Run(campana_id)
    except SecretoError as exc:  # the tenant's own token cannot be opened: say so on the campaign
        with db.engine.begin() as conn:
            lifecycle.fail(conn, campana_id, str(exc))
        return lifecycle.counts(campana_id)
    recover_stale(run)
    _pump(run)
    if run.stop.is_set():
        _abort(campana_id, run.reason)
    with db.engine.begin() as conn:
        counts = lifecycle.refresh_totals(campana_id, conn=conn)
        lifecycle.settle_cancelled(conn, campana_id)
        return counts


def _pump(run: _Run) -> None:
    """Claim and send until nothing is pending, keeping the pool fed; write outcomes as they come.

    At most ``concurrency + batch`` rows of this process are in ``enviando`` at any time: what a
    crash can leave behind for ``recover_stale``.
    """
    inflight: dict[Future, object] = {}
    finished: queue.SimpleQueue = queue.SimpleQueue()
    more = True
    with ThreadPoolExecutor(max_workers=run.settings.concurrency) as pool:
        try:
            while True:
                more = more and _feed(run, pool, inflight, finished)
                if not inflight:
                    return
                error = _store_done(run, inflight, _drain(finished))
                if error is not None:
                    raise error
        finally:
            _wind_down(run, inflight)


def _feed(run: _Run, pool: ThreadPoolExecutor, inflight: dict, finished: queue.SimpleQueue) -> bool:
    """Claim more rows while the pool's queue is empty; False once nothing is left to claim."""
    while not run.stop.is_set() and len(inflight) <= run.settings.concurrency:
        rows, taken = _claim(run.campana_id, run.settings.batch, run.reglas)
        for row in rows:
            future = pool.submit(_send, run, row)
            inflight[future] = row
            future.add_done_callback(finished.put)
        if taken < run.settings.batch:  # a short claim means no row was left pending
            return False
    return not run.stop.is_set()


def _drain(finished: queue.SimpleQueue) -> list[Future]:
    """The sends finished so far: wait for one, then take every other already done with it."""
    done = [finished.get()]
    while True:
        try:
            done.append(finished.get_nowait())
        except queue.Empty:
            return done


def _store_done(run: _Run, inflight: dict, done: list[Future]) -> BaseException | None:
    """Write the finished sends' outcomes in one transaction; return a send's unexpected error.

    A row leaves ``inflight`` only once written, so an error cutting the write short leaves it to
    ``_wind_down``. A send that raised (e.g. the rate-limit storage is down) leaves its row in
    ``enviando``: nothing is known about it, so ``recover_stale`` reconciles it later."""
    ok = [f for f in done if not f.cancelled() and f.exception() is None]
    store(run, [(inflight[f], f.result()) for f in ok])
    for future in done:
        del inflight[future]
    return next((f.exception() for f in done if not f.cancelled() and f.exception()), None)


def _wind_down(run: _Run, inflight: dict) -> None:
    """After an error (or a job timeout): rows not handed to Twilio yet go back to ``pendiente``;
    the sends under way end, and their outcomes are written."""
    release([row for future, row in inflight.items() if future.cancel()])
    wait(list(inflight))
    _store_done(run, inflight, list(inflight))
