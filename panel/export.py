"""Streamed CSV and XLSX exports, safe against spreadsheet formula injection.

Rows come as plain tuples from one SELECT of the exported columns, fetched a few thousand at a
time (a server-side cursor on PostgreSQL), so memory stays constant whatever the number of
rows. Each column has one converter chosen before the first row (not a type check per cell);
related names (empresa, ciudad…) come from small lookups loaded once. CSV is written chunk by
chunk; XLSX uses openpyxl's write-only mode on a temporary file, then streams that file.
"""

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from . import clock, formatting, tenancy
from .extensions import db

# OWASP: a cell starting with one of these may be evaluated as a formula.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
_DANGEROUS_FIRST = frozenset(DANGEROUS)
E164 = re.compile(r"\+[1-9]\d{6,14}")
BATCH_ROWS = 5000
FILE_CHUNK = 64 * 1024
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Columna:
    """A column of an export: Spanish header, what the SELECT reads, what kind of value it is.
    ``nombres`` turns a stored code or id into its text (an estado label, an empresa's name)."""

    titulo: str
    campo: Any
    tipo: str = "texto"  # texto | numero | telefono | fecha | booleano
    nombres: dict | None = None


def seguro(text) -> str:
    """Text that a spreadsheet will not evaluate: a leading formula character gets an apostrophe."""
    if text is None:
        return ""
    text = str(text)
    return "'" + text if text and text[0] in _DANGEROUS_FIRST else text


def _telefono(value) -> str:
    """A phone that is strictly E.164 cannot carry a formula: it is written as it is."""
    return value if value and E164.fullmatch(value) else seguro(value)


def _fecha(value) -> str:
    """A moment in Bogotá time with its offset (formatting.py); a calendar date as aaaa-mm-dd."""
    if value is None:
        return ""
    return formatting.export_time(value) if isinstance(value, datetime) else value.isoformat()


def _numero(value):
    return "" if value is None else value


def _booleano(value) -> str:
    return "Sí" if value else "No"


CONVERTERS: dict[str, Callable] = {
    "texto": seguro,
    "telefono": _telefono,
    "fecha": _fecha,
    "numero": _numero,
    "booleano": _booleano,
}


def converter(columna: Columna) -> Callable:
    """The one function that turns this column's raw values into safe cells."""
    if columna.nombres is not None:
        safe = {key: seguro(name) for key, name in columna.nombres.items()}
        return lambda value: safe.get(value, "" if value is None else seguro(value))
    return CONVERTERS[columna.tipo]


def celda(value, tipo: str = "texto"):
    """The safe cell of any single value (numbers stay numbers, dates ISO, E.164 as is)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _booleano(value)
    if tipo == "numero" and isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return _fecha(value)
    return _telefono(str(value)) if tipo == "telefono" else seguro(value)


def _safe_batches(batches: Iterable[list], columnas: list[Columna]) -> Iterator[list[list]]:
    convert = [converter(c) for c in columnas]
    for batch in batches:
        yield [[f(v) for f, v in zip(convert, row, strict=True)] for row in batch]


def csv_chunks(batches: Iterable[list], columnas: list[Columna]) -> Iterator[str]:
    """UTF-8 CSV with a BOM (so Excel reads the accents), one chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.titulo for c in columnas])
    yield buffer.getvalue()
    for rows in _safe_batches(batches, columnas):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(rows)
        yield buffer.getvalue()


def xlsx_chunks(batches: Iterable[list], columnas: list[Columna], titulo: str = "Datos") -> Iterator[bytes]:
    """An XLSX built in write-only mode on disk, then streamed from the file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(titulo[:31])
    sheet.append([c.titulo for c in columnas])
    for rows in _safe_batches(batches, columnas):
        for row in rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
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


def stream_batches(stmt, on_end: Callable[[int], None] | None = None, batch: int = BATCH_ROWS) -> Iterator:
    """The rows of ``stmt`` as lists of tuples, ``batch`` at a time (a server-side cursor on
    PostgreSQL), in their own app context and session under the caller's tenant scope: the
    download outlives the request that started it. ``on_end(n)`` runs after the last row."""
    app, scope = current_app._get_current_object(), tenancy.current_scope()  # now, in the request

    def batches():
        with app.app_context(), tenancy.using(scope):
            total = 0
            try:
                for part in db.session.execute(stmt.execution_options(yield_per=batch)).partitions():
                    total += len(part)
                    yield part
                if on_end is not None:
                    on_end(total)
            finally:
                db.session.remove()

    return batches()


def response(formato: str, nombre: str, batches: Iterable, columnas: list[Columna]) -> Response:
    """A streamed download of ``batches`` as ``formato`` (csv or xlsx)."""
    chunks = csv_chunks(batches, columnas) if formato == "csv" else xlsx_chunks(batches, columnas, nombre)
    result = Response(chunks, mimetype=MIMETYPES[formato])
    stamp = formatting.local(clock.now()).strftime("%Y%m%d-%H%M%S")
    result.headers["Content-Disposition"] = f'attachment; filename="{nombre}-{stamp}.{formato}"'
    return result


def audit_start(modelo: str, nombre: str, formato: str, filtros: dict) -> int:
    """Historial first (an export that is cut off is still on record); the row count follows."""
    from . import audit

    entry = audit.record(
        "exportar",
        modelo,
        resumen=f"Exportación {formato.upper()} de {nombre} (en curso)",
        detalle={"formato": formato, "filtros": filtros},
    )
    db.session.commit()
    return entry.id


def audit_end(entry_id: int, nombre: str, formato: str, filas: int) -> None:
    """Complete the Historial entry of an export with the rows it wrote (after the last one)."""
    from .models import Historial

    resumen = f"Exportación {formato.upper()} de {filas} filas de {nombre}"
    db.session.execute(
        sa.update(Historial).where(Historial.id == entry_id).values(filas=filas, resumen=resumen)
    )
    db.session.commit()
