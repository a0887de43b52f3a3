"""B6: importing a generated CSV of 100,000 clients (2 % bad rows) into one tenant, ours
(panel/importing: ClienteForm per row with the choice lists loaded once, Core inserts in chunks)
against one ClienteForm validation + one ORM insert + commit per row, run on a sample and
extrapolated. Prints time, rows/s and the peak memory growth of the process."""

import csv
import io
import random
import resource
import sys
import time

import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.datastructures import MultiDict

from panel import tenancy
from panel.extensions import db
from panel.forms.cliente_form import ClienteForm
from panel.importing import reading, service
from panel.models import Ciudad, Cliente, ConsentimientoSMS, Historial, ImportacionClientes, Usuario

from .common import bench_config, emit, machine_info, ratio, size, table, timer
from .generate import ensure, tenant_ids

ROWS = {"full": 100_000, "quick": 100_000, "smoke": 500}
SAMPLE = {"full": 2_000, "quick": 1_000, "smoke": 50}
BAD_EVERY = 50  # 2 % of the rows have an error
PREFIX = "9"  # imported cédulas (9 + 9 digits) never meet the generated ones (8 digits)
HEADER = [
    "Cédula",
    "Nombres",
    "Apellidos",
    "Celular",
    "Correo",
    "Fecha de nacimiento",
    "Sexo",
    "Ciudad",
    "Estado",
]
MOBILE = ("300", "301", "302", "304", "310", "311", "312", "313", "315", "316", "318", "320", "321", "350")
GOAL_SECONDS, GOAL_RATIO, GOAL_MB = 20.0, 10.0, 100.0


def rows(n: int, ciudades: list[str], start: int = 0):
    """The file's rows: as people write them (dots in cédulas, spaces in phones, dd/mm/aaaa)."""
    rng = random.Random(6 + start)
    for i in range(start, start + n):
        cedula = f"{PREFIX}{i:09d}"
        row = [
            f"{cedula[:1]}.{cedula[1:4]}.{cedula[4:7]}.{cedula[7:]}",
            rng.choice(["Ana", "Luis", "María José", "Andrés", "Lucía"]),
            rng.choice(["Gómez", "Pérez", "Muñoz", "Rodríguez", ""]),
            f"{rng.choice(MOBILE)} {rng.randrange(10**6, 10**7)}",
            f"cliente{i}@correo.co",
            f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 13):02d}/{rng.randrange(1950, 2005)}",
            rng.choice(["F", "M", "Femenino", "Masculino"]),
            rng.choice(ciudades),
            rng.choice(["Activo", "Inactivo"]),
        ]
        if i % BAD_EVERY == BAD_EVERY - 1:
            row[4] = "sin-arroba.correo.co"  # Correo electrónico no válido.
        yield row


def csv_file(n: int, ciudades: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADER)
    writer.writerows(rows(n, ciudades))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_file(n: int, ciudades: list[str]) -> bytes:
    """The same rows as an Excel file (openpyxl's write-only mode: shared strings, r="…" refs)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for cells in rows(n, ciudades):
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_xlsx(data: bytes) -> tuple[float, float, int]:
    """(ours: reading.open_table and its rows, baseline: openpyxl read-only, rows read)."""
    from openpyxl import load_workbook

    with timer() as t_ours:
        tabla = reading.open_table(data, "b6.xlsx")
        n = sum(1 for _ in tabla.filas())
    with timer() as t_base:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        m = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
        book.close()
    assert n == m, (n, m)
    return t_ours[0], t_base[0], n


CPU: list[float] = [0.0, 0.0, 0.0]  # (preview, import, the preview's workers) CPU seconds of the last ours()


def children_cpu() -> float:
    """CPU seconds of the finished child processes (the preview's workers, paralelo.py)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def children_rss_mb() -> float:
    """The largest resident memory of a finished child process (shared pages counted)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    """The process's peak resident memory so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def ours(data: bytes, admin_id: int) -> tuple[float, float, service.Resumen]:
    """(preview seconds, import seconds, summary): the panel's two steps, the file kept in the DB."""
    cpu, workers = [time.process_time()], children_cpu()
    with timer() as t_preview:
        job = service.create(data, "b6.csv", admin_id, admin_id)
        service.preview(job)
    cpu.append(time.process_time())
    workers = children_cpu() - workers
    job.estado = "pendiente"
    db.session.commit()
    with timer() as t_run:
        resumen = service.run(job.id)
    cpu.append(time.process_time())
    # the process's own seconds (what load stretches least), and its preview's workers'
    CPU[:] = [cpu[1] - cpu[0], cpu[2] - cpu[1], workers]
    return t_preview[0], t_run[0], resumen


def baseline(n: int, ciudades: dict[str, int], admin_id: int) -> float:
    """One ClienteForm (its choice lists loaded for each row) + one ORM insert + commit per row."""
    with timer() as t:
        for cells in rows(n, list(ciudades), start=10**8):
            inputs = dict(zip(HEADER, cells, strict=True))
            day, month, year = inputs["Fecha de nacimiento"].split("/")
            form = ClienteForm(
                formdata=MultiDict(
                    {
                        "cedula_cliente": inputs["Cédula"],
                        "nombre_cliente": inputs["Nombres"],
                        "apellido_cliente": inputs["Apellidos"],
                        "telefono": inputs["Celular"],
                        "email": inputs["Correo"],
                        "fecha_nacimiento": f"{year}-{month}-{day}",
                        "genero": "0" if inputs["Sexo"].startswith("F") else "1",
                        "id_ciudad": str(ciudades[inputs["Ciudad"]]),
                        "id_pais": "1",
                        "estado": "1" if inputs["Estado"] == "Activo" else "0",
                        "acepta_sms": "y",
                    }
                ),
                meta={"csrf": False},
            )
            if not form.validate():
                continue
            cliente = Cliente(id_propietario=admin_id)
            for name in ClienteForm.WRITABLE:
                setattr(cliente, name, form[name].data)
            db.session.add(cliente)
            db.session.commit()
    return t[0]


def clean(admin_id: int) -> None:
    """Remove what the benchmark imported, so the data set stays as generated."""
    cliente = Cliente.__table__
    mine = sa.select(cliente.c.id_cliente).where(
        cliente.c.id_propietario == admin_id, cliente.c.cedula_cliente.like(f"{PREFIX}%")
    )
    with db.engine.begin() as conn:
        consent = ConsentimientoSMS.__table__
        conn.execute(consent.delete().where(consent.c.id_cliente.in_(mine)))
        conn.execute(cliente.delete().where(cliente.c.id_cliente.in_(mine)))
        conn.execute(ImportacionClientes.__table__.delete())
        historial = Historial.__table__
        conn.execute(historial.delete().where(historial.c.resumen.like("Importación de clientes «b6.csv»%")))


def _met(ok: bool) -> str:
    return "cumplido" if ok else "no cumplido"


def run(s=None) -> str:
    s = s or size()
    url = ensure(s)
    from panel import create_app

    app = create_app(bench_config(url))
    admin_id = tenant_ids(url)["admins"][0]
    n, sample = ROWS[s.name], SAMPLE[s.name]
    with app.app_context():
        upgrade()  # a data set generated before the imports' table came: add it
        info = machine_info(db.engine) + f"\nen proceso, tamaño {s.name}; base: {sample:,} filas, extrapolada"
        clean(admin_id)
        # Each municipio as people write it: "Rionegro (Antioquia)" where the name repeats.
        colombianas = db.session.scalars(sa.select(Ciudad).where(Ciudad.id_pais == 1))
        ciudades = {c.etiqueta: c.id for c in colombianas}
        data = csv_file(n, list(ciudades))
        admin = db.session.get(Usuario, admin_id)
        with tenancy.using(admin):
            before = rss_mb()
            t_preview, t_run, resumen = ours(data, admin_id)
            growth = rss_mb() - before
            child_rss = children_rss_mb()
            db.session.remove()
            t_sample = baseline(sample, ciudades, admin_id)
            db.session.remove()
        t_xlsx, t_openpyxl, leidas = read_xlsx(xlsx_file(n, list(ciudades)))
        clean(admin_id)
        postgres = db.engine.dialect.name == "postgresql"
        db.session.remove()
        db.engine.dispose()
    expected_bad = n // BAD_EVERY
    assert (resumen.total, resumen.con_errores) == (n, expected_bad), resumen
    t_base = t_sample * n / sample
    speedup = t_base / t_run
    rows_ = [
        (
            f"importación de {n:,} filas ({resumen.con_errores:,} con errores): tiempo",
            f"{t_run:.2f} s",
            f"{t_base:.1f} s",
            ratio(t_run, t_base),
        ),
        ("filas/s", f"{n / t_run:,.0f}", f"{n / t_base:,.0f}", ratio(n / t_run, n / t_base, True)),
        ("vista previa (todas las filas validadas)", f"{t_preview:.2f} s", "—", "—"),
        ("CPU del proceso: vista previa / importación", f"{CPU[0]:.1f} s / {CPU[1]:.1f} s", "—", "—"),
        ("CPU de los procesos de la vista previa (paralelo.py)", f"{CPU[2]:.1f} s", "—", "—"),
        (
            f"lectura de un XLSX de {leidas:,} filas (calamine; base: openpyxl read-only)",
            f"{t_xlsx:.2f} s",
            f"{t_openpyxl:.2f} s",
            ratio(t_xlsx, t_openpyxl),
        ),
        ("crecimiento del pico de memoria", f"{growth:.0f} MB", "—", "—"),
        ("pico de memoria de un proceso de la vista previa", f"{child_rss:.0f} MB", "—", "—"),
    ]
    goals = (
        f"metas (PostgreSQL): vista previa ≤ {GOAL_SECONDS:.0f} s: {_met(t_preview <= GOAL_SECONDS)}; "
        f"importación ≤ {GOAL_SECONDS:.0f} s: {_met(t_run <= GOAL_SECONDS)}; "
        f"≥ {GOAL_RATIO:.0f}× la base: {_met(speedup >= GOAL_RATIO)}; "
        f"memoria ≤ {GOAL_MB:.0f} MB: {_met(growth <= GOAL_MB)}"
        + ("" if postgres else " (en SQLite, solo de referencia)")
        + ("" if n == 100_000 else f" (metas para 100.000 filas; aquí {n:,})")
    )
    text = table("B6 importación de clientes", rows_, info) + "\n" + goals + "\n"
    emit(text)
    return text


if __name__ == "__main__":
    run()
