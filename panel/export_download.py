"""An export as a download: the rows fetched in batches in their own app context (the download
outlives the request), the file written in Python (XLSX; the CSVs where COPY does not apply),
the streamed response named after the list and the moment, and the export's Historial entry."""

from collections.abc import Callable, Iterable, Iterator

import sqlalchemy as sa
from flask import Response, current_app

from . import clock, formatting, tenancy
from .export import FORMATOS, Columna, Formato, csv_chunks
from .extensions import db

BATCH_ROWS = 5000


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


def response(codigo: str, nombre: str, chunks: Iterable[bytes]) -> Response:
    """A streamed download of ``chunks`` (written by ``export_sql.chunks``: COPY or the batched
    Python path) in the format ``codigo`` (a key of FORMATOS), named after ``nombre`` and now."""
    formato = FORMATOS[codigo]
    result = Response(chunks, content_type=formato.mimetype)  # the whole header, charset once
    stamp = formatting.local(clock.now()).strftime("%Y%m%d-%H%M%S")
    suffix = "-excel" if formato.coma_decimal else ""
    result.headers["Content-Disposition"] = (
        f'attachment; filename="{nombre}{suffix}-{stamp}.{formato.extension}"'
    )
    return result


def python_chunks(formato: Formato, nombre: str, batches: Iterable, columnas: list[Columna]) -> Iterator:
    """The file of ``batches`` written in Python: XLSX, the CSVs on SQLite (and on PostgreSQL
    when a column has no SQL twin)."""
    if formato.extension == "xlsx":
        # openpyxl is loaded by the first spreadsheet a process writes, not by every server and
        # worker at start (0.15 s and ~10 MB each, for a format most of them never write).
        from .export_xlsx import xlsx_chunks

        return closing_source(xlsx_chunks(batches, columnas, nombre), batches)
    return closing_source(csv_chunks(batches, columnas, formato), batches)


def closing_source(chunks: Iterator, source) -> Iterator:
    """``chunks``, and the rows they are written from closed as soon as the writing ends, even
    when it fails midway: the stream ends there, and the rows' app context and session (see
    ``stream_batches``) are let go now, in the context that opened them, not whenever the
    garbage collector gets to the failed writer (a context popped from another one broke the
    process's next request: "identity map is no longer valid")."""
    try:
        yield from chunks
    finally:
        chunks.close()
        if hasattr(source, "close"):
            source.close()


def audit_start(modelo: str, nombre: str, codigo: str, filtros: dict) -> int:
    """Historial first (an export that is cut off is still on record); the row count follows."""
    from . import audit

    entry = audit.record(
        "exportar",
        modelo,
        resumen=f"Exportación {FORMATOS[codigo].nombre} de {nombre} (en curso)",
        detalle={"formato": codigo, "filtros": filtros},
    )
    db.session.commit()
    return entry.id


def audit_end(entry_id: int, nombre: str, codigo: str, filas: int) -> None:
    """Complete the Historial entry of an export with the rows it wrote (after the last one)."""
    from .models import Historial

    filas_texto = formatting.plural(filas, "fila", "filas")
    resumen = f"Exportación {FORMATOS[codigo].nombre} de {filas_texto} de {nombre}"
    db.session.execute(
        sa.update(Historial).where(Historial.id == entry_id).values(filas=filas, resumen=resumen)
    )
    db.session.commit()
