"""B6's write, taken apart: where the import's time goes once its preview is done (issue #27).

Previews B6's generated file once (kept in the database under the name ``b6w-<rows>.csv``),
then runs the import ``BENCH_B6W_RUNS`` times (each after removing what the last one wrote) and
prints, per run: wall time, this process's CPU, the PostgreSQL backends' CPU (read from
/proc, so only with the server on this machine), the load, and the statements sent by kind.
``BENCH_B6W_EXPLAIN=1`` adds EXPLAIN (ANALYZE, BUFFERS) of one chunk's statements, run inside a
transaction that is rolled back.

    BENCH_DATABASE_URL=postgresql://…/panel_bench_x python -m bench.b6_write [rows]
"""

import collections
import os
import pickle
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from panel import tenancy
from panel.extensions import db
from panel.importing import service
from panel.models import Ciudad, ImportacionClientes, Usuario

from . import b6_import
from .common import bench_config, emit
from .generate import ensure, tenant_ids


def load() -> str:
    return " / ".join(os.getloadavg().__repr__().strip("()").split(", "))


def backend_cpu(conn) -> dict[int, float]:
    """{pid: CPU seconds} of the client backends on this database (utime + stime of
    /proc/<pid>/stat): autovacuum's workers, which the inserts wake, are not the import's."""
    pids = conn.execute(
        sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend'"
        )
    ).scalars()
    return {pid: process_cpu(pid) for pid in pids}


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends spent between two readings (a backend gone since is not counted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


class Statements:
    """The statements sent through an engine, by their first words."""

    def __init__(self, engine):
        self.kinds: collections.Counter = collections.Counter()
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        words = statement.split()
        kind = " ".join(words[:3]) if words[0] in ("INSERT", "DELETE") else " ".join(words[:2])
        self.kinds[kind[:60]] += 1


class Phases:
    """Wall, this process's CPU and the session's backend's CPU spent inside some functions of
    the run (the write of a chunk, its checkpoint); the rest is reading and checking rows."""

    def __init__(self, module, *names: str):
        self.totals = {name: [0.0, 0.0, 0.0] for name in names}
        for name in names:
            setattr(module, name, self._timed(name, getattr(module, name)))

    def _timed(self, name: str, function):
        def timed(*args, **kwargs):
            pid = db.session.connection().connection.dbapi_connection.info.backend_pid
            before = (time.perf_counter(), time.process_time(), process_cpu(pid))
            try:
                return function(*args, **kwargs)
            finally:
                after = (time.perf_counter(), time.process_time(), process_cpu(pid))
                for i in range(3):
                    self.totals[name][i] += after[i] - before[i]

        return timed

    def line(self) -> str:
        parts = [
            f"{n}: {w:.2f} s de reloj, CPU {c:.2f} s + PostgreSQL {s:.2f} s"
            for n, (w, c, s) in self.totals.items()
        ]
        for total in self.totals.values():
            total[:] = [0.0, 0.0, 0.0]
        return "; ".join(parts)


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def job_for(data: bytes, name: str, admin_id: int) -> ImportacionClientes:
    """The previewed job of this file, made once."""
    with tenancy.using(tenancy.EVERY_TENANT):
        job = db.session.scalar(
            sa.select(ImportacionClientes).where(ImportacionClientes.archivo_nombre == name)
        )
    if job is not None and job.validadas:
        return job
    started = time.perf_counter()
    job = service.create(data, name, admin_id, admin_id)
    service.preview(job)
    emit(f"vista previa de {name}: {time.perf_counter() - started:.1f} s")
    return job


def reset(job: ImportacionClientes, admin_id: int) -> None:
    """Remove what the last run wrote and put the job back in the queue, its preview kept."""
    cliente = db.metadata.tables["cliente"]
    consent = db.metadata.tables["consentimiento_sms"]
    mine = sa.select(cliente.c.id_cliente).where(
        cliente.c.id_propietario == admin_id, cliente.c.cedula_cliente.like(f"{b6_import.PREFIX}%")
    )
    with db.engine.begin() as conn:
        conn.execute(consent.delete().where(consent.c.id_cliente.in_(mine)))
        conn.execute(cliente.delete().where(cliente.c.id_cliente.in_(mine)))
        conn.execute(
            ImportacionClientes.__table__.update()
            .where(ImportacionClientes.__table__.c.id == job.id)
            .values(
                estado="pendiente",
                fase="importacion",
                escritas=0,
                procesadas=0,
                nuevos=0,
                actualizados=0,
                con_errores=0,
                advertencias=0,
                rechazos=None,
                terminado=None,
            )
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE cliente, consentimiento_sms"))


def run(n: int) -> None:
    url = ensure()
    from panel import create_app

    app = create_app(bench_config(url))
    admin_id = tenant_ids(url)["admins"][0]
    with app.app_context():
        colombianas = db.session.scalars(sa.select(Ciudad).where(Ciudad.id_pais == 1))
        data = b6_import.csv_file(n, [c.etiqueta for c in colombianas])
        admin = tenancy.scope_for(db.session.get(Usuario, admin_id))  # kept past each run's session
        with tenancy.using(admin):
            job = job_for(data, f"b6w-{n}.csv", admin_id)
        counter = Statements(db.engine)
        phases = Phases(service, "_write_chunk", "_finish")
        beats = Phases(service.estado, "beat")
        commits = Phases(db.session, "commit")
        for _ in range(int(os.environ.get("BENCH_B6W_RUNS", "1"))):
            reset(job, admin_id)
            db.session.remove()
            with db.engine.connect() as conn:
                server_before = backend_cpu(conn)
            counter.kinds.clear()
            load_before = load()
            wall, cpu = time.perf_counter(), time.process_time()
            with tenancy.using(admin):
                resumen = service.run(job.id)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            with db.engine.connect() as conn:
                server = spent(server_before, backend_cpu(conn))
            emit(
                f"{n:,} filas: {wall:.2f} s de reloj, CPU del proceso {cpu:.2f} s, CPU de PostgreSQL "
                f"{server:.2f} s; carga {load_before} → {load()}; {resumen.linea()}"
            )
            emit(f"    {phases.line()}; {beats.line()}; {commits.line()}")
            for kind, count in counter.kinds.most_common():
                emit(f"    {count:6d}  {kind}")
        if os.environ.get("BENCH_B6W_EXPLAIN") == "1":
            explain(job, admin, admin_id)
        reset(job, admin_id)  # the data set as generated, or the next run makes it again


def explain(job, admin, admin_id: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each single statement of the first chunk's write: the chunk
    is written once to see its statements, rolled back, and each is explained (and rolled back)."""
    reset(job, admin_id)
    db.session.remove()
    original = service._write_chunk

    def one_chunk(lector, filas, tenant, actor):
        conn = db.session.connection()
        seen: list = []

        def capture(c, cursor, statement, parameters, context, executemany):
            if not statement.startswith("SELECT set_config"):
                seen.append((statement, parameters, executemany))

        conn.exec_driver_sql("SAVEPOINT b6w")
        event.listen(conn, "before_cursor_execute", capture)
        try:
            sys.modules["panel.importing.writing"].write(conn, lector, filas, tenant, actor)
        finally:
            event.remove(conn, "before_cursor_execute", capture)
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT b6w")
        if dump := os.environ.get("BENCH_B6W_DUMP"):  # the chunk's statements, for replays
            Path(dump).write_bytes(pickle.dumps(seen))
        cursor = conn.connection.dbapi_connection.cursor()
        shift = 0  # the replayed clients' ids are new: the evidence follows them
        for statement, parameters, many in seen:  # replayed in order, each on the one before
            rows = parameters if many else [parameters]
            if statement.startswith("INSERT INTO consentimiento_sms"):
                rows = [_shifted(r, shift) for r in rows]
            emit(f"-- {len(rows)} × {statement[:150]}")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, rows[0])
            emit("\n".join("    " + row[0] for row in cursor.fetchall()))
            if statement.startswith("INSERT INTO cliente"):
                cursor.execute("SELECT max(id_cliente) FROM cliente")
                shift = cursor.fetchone()[0] - max(_evidence_ids(seen))
            if len(rows) > 1:
                started = time.perf_counter()
                cursor.executemany(statement, rows[1:])
                emit(f"    las otras {len(rows) - 1}: {1000 * (time.perf_counter() - started):.1f} ms")
        cursor.close()
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT b6w")
        raise _Done

    service._write_chunk = one_chunk
    try:
        with tenancy.using(admin):
            service.run(job.id)
    except _Done:
        pass
    finally:
        service._write_chunk = original
        db.session.rollback()


def _evidence_ids(seen: list) -> list[int]:
    """The clients' ids in the captured evidence: one array (PostgreSQL now) or a row each."""
    for statement, parameters, many in seen:
        if statement.startswith("INSERT INTO consentimiento_sms"):
            return [r["id_cliente"] for r in parameters] if many else parameters["ids"]
    return [0]


def _shifted(parameters: dict, shift: int) -> dict:
    if "ids" in parameters:
        return parameters | {"ids": [i + shift for i in parameters["ids"]]}
    return parameters | {"id_cliente": parameters["id_cliente"] + shift}


class _Done(Exception):
    pass


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else b6_import.ROWS["quick"])
