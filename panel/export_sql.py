"""The CSV exports on PostgreSQL: ``COPY (SELECT …) TO STDOUT`` writes the file's rows.

The statement is the export's own tenant-scoped select (the ORM criteria attached by
``tenancy.scoped``, RLS's ``app.tenant`` set on the transaction by the tenancy hook), its
columns replaced by the SQL twin of each converter (``export.sql_converter``), so PostgreSQL
writes exactly the cells the Python path writes. What is left to Python is what COPY cannot
be told (docs/decisions/export-copy.md):

- the header line, the BOM and the delimiter: the Python writer's own header;
- the line ending: COPY ends each row with LF, Python's csv module with CRLF. Each COPY data
  message is exactly one row (its LF last), so the LF is swapped per row, never inside a value;
- an empty text: COPY quotes a value equal to its NULL string (''), Python writes nothing, so
  every text cell goes out as NULLIF(cell, '').

A one-column export keeps the Python path: Python writes its empty row as ``""``.
"""

import logging
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from flask import current_app

from . import export, export_download, tenancy
from .extensions import db

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
CONFIG_KEY = "EXPORT_COPY"  # False: every export takes the Python path (a switch, on by default)


def chunks(
    stmt, columnas: list, codigo: str, nombre: str, on_end: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The file of ``stmt``'s rows (a select of ``columnas``' fields) in the format ``codigo``:
    PostgreSQL's COPY writes the CSVs when every column has its SQL twin, the batched Python
    path (``export``) writes the rest. ``on_end(n)`` runs after the last row. The choice lives
    here, above ``export``, so the exporter's rules never import the COPY that uses them."""
    formato = export.FORMATOS[codigo]
    copy_stmt = copy_select(stmt, columnas, formato)
    if copy_stmt is not None:
        return copy_chunks(copy_stmt, columnas, formato, on_end)
    batches = export_download.stream_batches(stmt, on_end)
    return export_download.python_chunks(formato, nombre, batches, columnas)


def copy_select(stmt, columnas: list, formato) -> sa.Select | None:
    """``stmt`` with each exported column written by its SQL twin, when COPY writes this export:
    a CSV format on PostgreSQL, two columns or more, every one with its twin; else None."""
    if not (usable(formato) and len(columnas) >= 2):
        return None
    if any(_has_subquery(c.campo) for c in columnas):
        stmt, values = _values_once(stmt, columnas)
    else:
        values = [c.campo for c in columnas]
    cells = [export.sql_converter(c, formato, value) for c, value in zip(columnas, values, strict=True)]
    if any(cell is None for cell in cells):
        return None
    return stmt.with_only_columns(*(cell.label(f"c{i}") for i, cell in enumerate(cells)))


def _has_subquery(campo) -> bool:
    clause = campo.__clause_element__() if hasattr(campo, "__clause_element__") else campo
    return any(isinstance(e, sa.ScalarSelect) for e in sa.sql.visitors.iterate(clause))


def _values_once(stmt, columnas: list) -> tuple[sa.Select, list]:
    """A twin reads its value two or three times, and PostgreSQL would run a subquery's (Clientes'
    "Acepta SMS desde") each time: the values come from the export's own select, tenant-scoped,
    in a derived table that OFFSET 0 keeps PostgreSQL from folding back in (and in its order)."""
    inner = tenancy.scoped(stmt.with_only_columns(*(c.campo.label(f"v{i}") for i, c in enumerate(columnas))))
    derived = inner.offset(0).subquery("exportadas")
    return sa.select(*derived.c).select_from(derived), list(derived.c)


def usable(formato) -> bool:
    """A CSV format, on PostgreSQL, with the switch on."""
    return (
        formato.extension == "csv"
        and current_app.config.get(CONFIG_KEY, True)
        and db.engine.dialect.name == "postgresql"
    )


def copy_sql(conn, copy_stmt, formato) -> tuple[str, dict]:
    """The COPY statement and its parameters (psycopg binds them client side: COPY takes none)."""
    compiled = tenancy.scoped(copy_stmt).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    for name, process in (compiled._bind_processors or {}).items():
        if name in params:
            params[name] = process(params[name])
    options = f"FORMAT csv, DELIMITER '{formato.separador}'"
    return f"COPY ({compiled.string}) TO STDOUT WITH ({options})", params


def copy_chunks(
    copy_stmt, columnas: list, formato, on_end: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The CSV file as bytes: the Python writer's header, then COPY's rows ``CHUNK_BYTES`` at a
    time, in their own app context and session under the caller's tenant scope (as
    ``export_download.stream_batches``). ``on_end(n)`` runs after the last row."""
    app, scope = current_app._get_current_object(), tenancy.current_scope()  # now, in the request
    header = next(export.csv_chunks([], columnas, formato)).encode()

    def chunks():
        yield header
        with app.app_context(), tenancy.using(scope):
            try:
                conn = db.session.connection()
                # through SQLAlchemy, so the tenancy hook sets app.tenant on this transaction too;
                # both settings end with it (the audit's commit)
                settings = {**export.SQL_SETTINGS, "client_encoding": "UTF8"}
                conn.execute(sa.select(*(sa.func.set_config(k, v, True) for k, v in settings.items())))
                sql, params = copy_sql(conn, copy_stmt, formato)
                total = 0
                with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(sql, params) as copy:
                    for rows in _rows(copy, cursor.connection.pgconn):
                        total += len(rows)
                        yield b"\r\n".join(rows) + b"\r\n"
                logger.info("exportación por COPY: %d filas", total)
                if on_end is not None:
                    on_end(total)
            finally:
                db.session.remove()

    return chunks()


def _rows(copy, pgconn) -> Iterator[list]:
    """COPY's rows without their LF, about ``CHUNK_BYTES`` at a time. libpq is asked for the
    rows it already holds without waiting (psycopg's ``copy.read`` costs ~2 µs a row, as much
    as PostgreSQL's work on it); only when none is buffered does ``copy.read`` wait for the
    server. The end of the COPY is read by whichever of the two meets it."""
    rows, size = [], 0
    while True:
        nbytes, row = pgconn.get_copy_data(1)  # 1: never block; 0 when no whole row is buffered
        if nbytes == 0:
            row = copy.read()  # waits; b"" at the end, having read the COPY's result itself
            nbytes = len(row)
            if not nbytes:
                break
        elif nbytes < 0:
            _finish(pgconn)
            break
        rows.append(row[:-1])
        size += nbytes
        if size >= CHUNK_BYTES:
            yield rows
            rows, size = [], 0
    if rows:
        yield rows


def _finish(pgconn) -> None:
    """After the last row: the COPY's own result (an error the server met at the end is raised
    here, as psycopg would), then libpq's end of results."""
    # PostgreSQL's driver is loaded where COPY runs, not by every process that builds the app:
    # a process on SQLite never needs it (0.1 s of every server's and worker's start).
    from psycopg import errors, pq

    result = pgconn.get_result()
    while pgconn.get_result() is not None:
        pass
    if result is None or result.status != pq.ExecStatus.COMMAND_OK:
        raise errors.error_from_result(result) if result else errors.InternalError("COPY sin resultado")
