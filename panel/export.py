"""Streamed CSV and XLSX exports, safe against spreadsheet formula injection.

Rows come from an iterator (a ``yield_per`` query), so memory stays constant whatever the
number of rows: CSV is written chunk by chunk; XLSX uses openpyxl's write-only mode (rows go
to a temporary file as they are written) and the finished file is streamed from disk.
"""

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import Response, current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from . import tenancy
from .extensions import db

# OWASP: a cell starting with one of these may be evaluated as a formula.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
E164 = re.compile(r"\+[1-9]\d{6,14}")
CHUNK_ROWS = 500
FILE_CHUNK = 64 * 1024
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Columna:
    """A column of an export: Spanish header, how to get the value, what kind it is."""

    titulo: str
    valor: Callable
    tipo: str = "texto"  # texto | numero | telefono


def celda(value, tipo: str = "texto"):
    """The safe value of a cell: numbers stay numbers, E.164 phones stay as they are,
    dates are ISO, any other text that could start a formula gets an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if tipo == "numero" and isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return (
            value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else value.isoformat()
        )
    text = str(value)
    if tipo == "telefono" and E164.fullmatch(text):
        return text
    if text.startswith(DANGEROUS):
        return "'" + text
    return text


def _row(obj, columnas) -> list:
    return [celda(c.valor(obj), c.tipo) for c in columnas]


def csv_chunks(rows: Iterable, columnas: list[Columna]) -> Iterator[str]:
    """UTF-8 CSV with a BOM (so Excel reads the accents), a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.titulo for c in columnas])
    for n, obj in enumerate(rows, 1):
        writer.writerow(_row(obj, columnas))
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_chunks(rows: Iterable, columnas: list[Columna], titulo: str = "Datos") -> Iterator[bytes]:
    """An XLSX built in write-only mode on disk, then streamed from the file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(titulo[:31])
    sheet.append([c.titulo for c in columnas])
    for obj in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in _row(obj, columnas)])
    with tempfile.TemporaryFile() as tmp:
        workbook.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(FILE_CHUNK):
            yield chunk


def _xlsx_cell(sheet, value):
    """Text is always a string cell: never a formula, whatever it starts with."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=None)
        cell.value = value
        cell.data_type = "s"
        return cell
    return value


def stream_rows(stmt, batch: int = CHUNK_ROWS) -> Iterator:
    """The ORM rows of ``stmt``, fetched ``batch`` at a time (a server-side cursor on
    PostgreSQL) in their own app context and session, under the caller's tenant scope:
    the download outlives the request that started it."""
    app, scope = current_app._get_current_object(), tenancy.current_scope()  # now, in the request

    def rows():
        with app.app_context(), tenancy.using(scope):
            yield from db.session.scalars(stmt.execution_options(yield_per=batch))

    return rows()


def response(formato: str, nombre: str, rows: Iterable, columnas: list[Columna]) -> Response:
    """A streamed download of ``rows`` as ``formato`` (csv or xlsx)."""
    chunks = csv_chunks(rows, columnas) if formato == "csv" else xlsx_chunks(rows, columnas, nombre)
    result = Response(chunks, mimetype=MIMETYPES[formato])
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    result.headers["Content-Disposition"] = f'attachment; filename="{nombre}-{stamp}.{formato}"'
    return result
