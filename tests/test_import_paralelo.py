"""A large preview validated by forked workers (panel/importing/paralelo.py) says what one process
says: the same rows, errors, warnings, defaults, new empresas and kept rows, on a file made so
that the order matters across chunks (a document repeated chunks apart, once after an invalid
first, an empresa spelled two ways with its NIT given later, a row in error naming one)."""

import os
import signal
import threading
import time

import pytest

from panel import tenancy
from panel.extensions import db
from panel.importing import columns, paralelo, reading, service
from panel.importing.rows import Lector

from .import_support import HEADER, csv_bytes, row

HEADER_EMPRESA = HEADER + ["Razón social", "NIT"]
SIZE = 7  # rows per chunk: the file's 60 rows in nine chunks, spread over both workers
# The threads of a process that runs nothing else: a test process may hold others that earlier
# tests left (an xdist worker's browser session), which would keep the rows in one process.
ALONE = 1

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="two processes need two CPUs")


def file_rows() -> list[list]:
    rows = [row(n) + ["", ""] for n in range(1, 61)]
    rows[4] = row(5) + ["Acme S.A.S.", ""]  # new empresa, no NIT yet
    rows[20] = row(21) + ["ACME s.a.s.", "900.123.456"]  # the same one, another spelling, its NIT
    rows[33] = row(34, Correo="sin-arroba") + ["Beta", ""]  # a row in error naming an empresa
    rows[45] = row(46) + ["Beta", ""]
    rows[38] = row(3) + ["", ""]  # row 3's document again, five chunks later
    rows[9] = row(10, Nombres="") + ["", ""]  # invalid: its document is not claimed…
    rows[50] = row(10) + ["", ""]  # …so this later row has it
    rows[12] = row(13, Sexo="Otro", Ciudad="") + ["", ""]  # a warning and a default
    rows[55] = row(56, Celular="310 000 0001 ::: 601 000 0002") + ["", ""]
    return rows


def lector_of(data: bytes) -> Lector:
    tabla = reading.open_table(data, "clientes.csv")
    return Lector(tabla, columns.guess(tabla.encabezados), False)


def seen(filas) -> list[tuple]:
    """Each row as the preview reads it; a new empresa by the first row that names the same one."""
    first: dict[int, int] = {}
    out = []
    for f in filas:
        nueva = f.empresa_nueva
        empresa = None if nueva is None else (nueva.nombre, nueva.nit, first.setdefault(id(nueva), f.numero))
        out.append(
            (f.numero, f.celdas, f.valores, f.errores, f.avisos, f.por_defecto, empresa, f.acepta_dicho)
        )
    return out


@pytest.fixture
def pooled(app):
    app.config["IMPORT_PROCESOS_DESDE"] = 10
    yield
    app.config["IMPORT_PROCESOS_DESDE"] = paralelo.DESDE


def test_workers_and_one_process_read_every_row_alike(app, tenants, pooled):
    data = csv_bytes(file_rows(), header=HEADER_EMPRESA)
    with tenancy.using(tenants.admin_a.id):
        alone, together = lector_of(data), lector_of(data)
        assert paralelo.procesos(together, ALONE) == 2
        one = [f for chunk in alone.chunks(SIZE) for f in chunk]
        two = [f for chunk in paralelo.chunks(together, SIZE, ALONE) for f in chunk]
    assert seen(two) == seen(one)
    errores = {f.numero: f.errores for f in two if f.errores}
    assert len(two) == 60 and sorted(errores) == [11, 35, 40]  # file rows (the header is row 1)
    assert errores[40] == [("Cédula", "Cédula repetida en el archivo (fila 4).")]
    assert two[50].valores is not None  # file row 52: row 11 was refused, so the document is its
    acme = [f.empresa_nueva for f in two if f.empresa_nueva and f.empresa_nueva.nombre == "Acme S.A.S."]
    assert len(acme) == 2 and acme[0] is acme[1] and acme[0].nit == "9001234568"
    assert together.vistas == alone.vistas


def test_the_preview_in_two_processes_keeps_what_one_keeps(app, tenants, pooled):
    data = csv_bytes(file_rows(), header=HEADER_EMPRESA)
    previews = []
    for procesos in (1, 2):
        app.config["IMPORT_PROCESOS"] = procesos
        job = service.create(data, "clientes.csv", tenants.admin_a.id, tenants.admin_a.id)
        vista = service.preview(job)
        db.session.refresh(job)
        previews.append((vista, job.validadas, job.rechazos))
    app.config["IMPORT_PROCESOS"] = paralelo.PROCESOS
    assert previews[1] == previews[0]
    vista = previews[1][0]
    assert (vista["total"], vista["con_errores"]) == (60, 3)
    assert [e["nombre"] for e in vista["empresas_nuevas"]] == ["Acme S.A.S.", "Beta"]


def test_one_process_when_forking_is_not_safe_or_not_worth_it(app, tenants, pooled):
    data = csv_bytes(file_rows(), header=HEADER_EMPRESA)
    with tenancy.using(tenants.admin_a.id):
        lector = lector_of(data)
        assert paralelo.procesos(lector, ALONE) == 2  # the positive case first
        lector.actualizar = True  # an update reads the stored clients per chunk
        assert paralelo.procesos(lector, ALONE) == 1
        lector.actualizar = False
        app.config["IMPORT_PROCESOS_DESDE"] = 61
        assert paralelo.procesos(lector, ALONE) == 1  # a small file
        app.config["IMPORT_PROCESOS_DESDE"] = 10
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)  # as the embedded runner's thread in a web process
        other.start()
        try:
            assert threading.active_count() > 1
            assert paralelo.procesos(lector) == 1  # the threads counted now: this one at least
        finally:
            stop.set()
            other.join()
        assert paralelo.procesos(lector, ALONE) == 2


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_worker_ends_when_its_parent_is_killed():
    """A work horse killed by RQ (or by anyone) leaves no worker behind waiting on its queue."""
    ready_r, ready_w = os.pipe()
    horse = os.fork()
    if horse == 0:  # the work horse…
        worker = os.fork()
        if worker == 0:  # …and its worker, as _forked makes it
            paralelo.die_with_parent(os.getppid())
            os.write(ready_w, f"{os.getpid()}\n".encode())
            time.sleep(60)
        else:
            time.sleep(60)
        os._exit(0)
    os.close(ready_w)
    worker = int(os.read(ready_r, 32))
    os.close(ready_r)
    assert _alive(worker)
    os.kill(horse, signal.SIGKILL)
    os.waitpid(horse, 0)
    for _ in range(400):  # the signal is delivered at once; the reaper may take a moment
        if not _alive(worker):
            break
        time.sleep(0.05)
    assert not _alive(worker)


def test_a_heap_frozen_before_stays_frozen(app, tenants, pooled):
    """An RQ worker freezes its heap once (jobs.freeze_heap): a preview in two processes, which
    freezes it for its fork, must not thaw it afterwards."""
    import gc

    data = csv_bytes(file_rows(), header=HEADER_EMPRESA)
    gc.freeze()  # as freeze_heap leaves a worker (the test process may have frozen some already)
    frozen = gc.get_freeze_count()
    with tenancy.using(tenants.admin_a.id):
        lector = lector_of(data)
        assert paralelo.procesos(lector, ALONE) == 2
        assert len([f for chunk in paralelo.chunks(lector, SIZE, ALONE) for f in chunk]) == 60
    assert gc.get_freeze_count() >= frozen > 0
