"""Files for the import tests, made by the tests in each shape people send, and a way to run
an import to its end without the panel."""

import csv
import io
import re
from datetime import date, datetime

import sqlalchemy as sa
from openpyxl import Workbook

from panel import tenancy
from panel.extensions import db
from panel.importing import service
from panel.models import Cliente

from .support.pages import poll_progress

HEADER = ["Cédula", "Nombres", "Apellidos", "Celular", "Correo", "Fecha de nacimiento", "Sexo", "Ciudad"]


def row(n: int, **over) -> list:
    """A good row (cédula 10203040 + n); ``over`` replaces cells by header."""
    cells = dict(
        zip(
            HEADER,
            [
                f"{1020000000 + n:,}".replace(",", "."),
                f"Ana{n}",
                "Pérez",
                f"300 {n:07d}",
                f"ana{n}@example.com",
                "15/03/1990",
                "F",
                "Medellín",
            ],
            strict=True,
        )
    )
    cells.update(over)
    return [cells[h] for h in HEADER]


def csv_bytes(rows: list[list], header=HEADER, delimiter=",", encoding="utf-8", bom=False, tail="") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue() + tail
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def xlsx_bytes(rows: list[list], header=HEADER, blank_rows_after: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for cells in rows:
        sheet.append(cells)
    for _ in range(blank_rows_after):
        sheet.append([None] * len(header))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def excel_serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


def imported(data: bytes, tenant_id: int, nombre: str = "clientes.csv", mapping=None, **opciones):
    """Upload, preview and run an import for a tenant; (job, the preview, the run's summary)."""
    job = service.create(data, nombre, tenant_id, tenant_id, **opciones)
    if mapping is not None:
        job.mapeo = {str(k): v for k, v in mapping.items()}
        db.session.commit()
    vista = service.preview(job)
    job.estado = "pendiente"
    db.session.commit()
    resumen = service.run(job.id)
    db.session.expire_all()
    return job, vista, resumen


def preview_of(data: bytes, tenant_id: int, nombre: str = "clientes.csv", **opciones) -> dict:
    return service.preview(service.create(data, nombre, tenant_id, tenant_id, **opciones))


def clientes(tenant_id: int) -> dict[str, Cliente]:
    """The tenant's clients by cédula, fresh from the database."""
    db.session.expire_all()
    with tenancy.using(tenant_id):
        return {c.cedula_cliente: c for c in db.session.scalars(sa.select(Cliente))}


def errors_of(vista: dict) -> list[tuple[int, str, str]]:
    return [tuple(e) for e in vista["errores"]]


NOW = datetime(2026, 12, 1, 10, 0)


def wait_until_done(client, job_id: int, seen: list | None = None, timeout: float = 120) -> dict:
    """Poll the import's progress (its preview or its run) until it ends."""
    return poll_progress(client, f"/admin/clientes/importar/{job_id}/progreso.json", seen, timeout)


def job_id_of(location: str) -> int:
    return int(re.search(r"/importar/(\d+)/", location).group(1))
