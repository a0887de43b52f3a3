"""A large preview's rows validated by two processes (B6: the preview of 100,000 rows is ~27 s
of CPU in one process, docs/performance.md).

Validating a row is pure once the catalogue and the form are loaded; three things depend on the
rows before it: a document repeated in the file, the new empresas (the first spelling names
one), and everything counted after (notes, tally, kept rows). So the parent reads the file and
sends chunks of cells, in order, to forked workers that convert and validate them
(``Lector.validate``); it takes the chunks back in the same order and does the ordered part
itself (``Lector.settle``). The rows are the ones ``Lector.check`` makes in one process
(tests/test_import_paralelo.py compares both on a file made to tell them apart).

When: a create-only preview (an update reads the stored clients per chunk; the run takes the
preview's rows) of at least ``IMPORT_PROCESOS_DESDE`` rows, with ``IMPORT_PROCESOS`` ≥ 2 and as
many CPUs, on Linux, in a process with one thread. Forking copies every lock of the parent as it
is, and another thread may hold one (the embedded runner's import thread inside a web process):
there the preview stays in its own process. The CLI has one thread, and so has an RQ work
horse with the panel's app built; a process that has another simply validates in one.

The workers inherit the loaded catalogue, form and rules (nothing is loaded again) and never use
the database: each drops its copy of the parent's connection pool without closing it (closing
would end the parent's sessions). At most two chunks per worker are in flight, so memory does
not grow with the file; a worker that dies fails the preview (BrokenProcessPool), which the job
shows as failed with "Reintentar"; a parent that dies (a work horse killed) takes its workers
with it (Linux's parent-death signal: they would otherwise wait on their queue for ever).
"""

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator

from flask import current_app, has_app_context

from ..extensions import db
from .empresas import Nueva
from .rows import CHUNK, Fila, Lector

PROCESOS, DESDE = 2, 5_000  # IMPORT_PROCESOS and IMPORT_PROCESOS_DESDE's defaults
EN_VUELO = 2  # chunks in flight per worker: each has the next while the parent settles one

_lector: Lector | None = None  # the reader a forked worker inherited


def procesos(lector: Lector, hilos: int | None = None) -> int:
    """How many processes validate this file's rows (1: the reader's own, as it goes).
    ``hilos``: the threads this process runs (counted now when not given); with more than one,
    a fork could copy a lock another thread holds, so the rows stay in this process."""
    hilos = threading.active_count() if hilos is None else hilos
    config = current_app.config if has_app_context() else {}
    wanted = int(config.get("IMPORT_PROCESOS", PROCESOS))
    if lector.actualizar or lector.previas is not None or wanted < 2:
        return 1
    if lector.tabla.total < int(config.get("IMPORT_PROCESOS_DESDE", DESDE)):
        return 1  # a fork and the rows' trips cost more than a small file's validation
    if hilos > 1 or not sys.platform.startswith("linux"):
        return 1
    return min(wanted, os.cpu_count() or 1)


def chunks(lector: Lector, size: int = CHUNK, hilos: int | None = None) -> Iterator[list[Fila]]:
    """``lector.chunks()``, in several processes when :func:`procesos` allows."""
    n = procesos(lector, hilos)
    if n < 2:
        yield from lector.chunks(size)
    else:
        yield from _pooled(lector, n, size)


def _pooled(lector: Lector, n: int, size: int) -> Iterator[list[Fila]]:
    from concurrent.futures import ProcessPoolExecutor

    global _lector
    lector.decide_dates()  # before the fork: every worker reads the dates alike
    _lector = lector
    context = multiprocessing.get_context("fork")
    # The parent's objects out of the collector's reach before the fork: a worker's collections
    # would otherwise write to every one of them and copy all of the parent's pages. A process
    # that froze its heap itself (an RQ worker's jobs.freeze_heap) keeps it frozen: unfreezing
    # here would undo that too, so the preview's objects then stay frozen until the job's end.
    already_frozen = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        forked = (db.engine, os.getpid())
        with ProcessPoolExecutor(n, mp_context=context, initializer=_forked, initargs=forked) as pool:
            window: deque = deque()
            batches, unreadable = lector.batches(size), None
            while True:
                while unreadable is None and len(window) < n * EN_VUELO:
                    try:
                        batch = next(batches, None)
                    except Exception as exc:  # noqa: BLE001 — raised after the chunks before it
                        unreadable = exc
                        break
                    if batch is None:
                        break
                    window.append((batch, pool.submit(_validate, batch)))
                if not window:
                    break
                batch, done = window.popleft()
                filas = done.result()
                for fila, (_, celdas) in zip(filas, batch, strict=True):
                    fila.celdas = celdas  # not sent back: the parent still has them
                yield lector.settle(filas)
            if unreadable is not None:
                raise unreadable
    finally:
        _lector = None
        if not already_frozen:
            gc.unfreeze()


class _Anotadas:
    """A worker's new empresas: each row's as it named it; the parent names them in order."""

    @staticmethod
    def named(nombre: str, nit: str | None) -> Nueva:
        return Nueva(nombre, nit)


def _forked(engine, parent: int) -> None:
    """In the worker, once: it ends with its parent, leaves the parent's connections alone, and
    only notes the empresas."""
    die_with_parent(parent)
    engine.dispose(close=False)
    _lector.nuevas = _Anotadas()


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """This process is killed when its parent ends (prctl's parent-death signal, Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)


def _validate(batch: list[tuple[int, list]]) -> list[Fila]:
    filas = _lector.validate([Fila(numero, celdas) for numero, celdas in batch])
    for fila in filas:
        fila.celdas = None  # the parent has them
    return filas
