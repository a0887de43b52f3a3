"""Writing a validated chunk with Core statements: what the ORM's hooks would do per row
(tenant stamp, ``telefono_e164``, ``busqueda``), done once per chunk; the consent evidence and
the tenant's exclusion list go through the one consent path (panel/consent.py). Historial gets
one entry for the whole import (written by the caller)."""

import sqlalchemy as sa

from .. import consent
from ..clock import utcnow
from ..models import Cliente
from .rows import Fila, Lector

FUENTE = consent.FUENTE_IMPORTACION


def write(conn, lector: Lector, filas: list[Fila], tenant: int, actor: int | None) -> tuple[int, int]:
    """Insert the new rows and update the existing ones of a chunk; (nuevos, actualizados)."""
    now = utcnow()
    lector.nuevas.create(conn, filas, tenant)  # the empresas these rows name that do not exist yet
    nuevas = [f for f in filas if f.valores is not None and f.id_cliente is None]
    cambiadas = [f for f in filas if f.valores is not None and f.id_cliente is not None]
    clientes = _insert(conn, nuevas, tenant, now) + _update(conn, cambiadas, tenant, now)
    numeros = _said(f for f in nuevas + cambiadas if f.acepta_dicho)
    consent.record(conn, tenant, FUENTE, clientes=clientes, numeros=numeros, actor=actor)
    return len(nuevas), len(cambiadas)


def _insert(conn, filas: list[Fila], tenant: int, now) -> list[tuple[int, bool]]:
    """The new clients (ids back in the file's order); each has its first consent evidence.
    Their documents are not added to the catalogue's: each is already the file's
    (``Lector.vistas``), so a later row repeating one is refused as repeated in the file, as the
    preview said, and no second dictionary of 100,000 documents is kept (B6's memory, #27)."""
    if not filas:
        return []
    table = Cliente.__table__
    rows = [f.valores | {"id_propietario": tenant, "creado": now, "actualizado": now} for f in filas]
    if conn.dialect.name == "postgresql":
        ids = _insert_arrays(conn, table, rows)
    else:
        stmt = table.insert().returning(table.c.id_cliente, sort_by_parameter_order=True)
        ids = [row.id_cliente for row in conn.execute(stmt, rows)]
    return [(i, bool(f.valores["acepta_sms"])) for i, f in zip(ids, filas, strict=True)]


def _insert_arrays(conn, table: sa.Table, rows: list[dict]) -> list[int]:
    """PostgreSQL: the chunk as one array per column, ``INSERT … SELECT FROM unnest(…)``: a
    statement of a few hundred bytes with a parameter per column. A multi-row VALUES of 1,000
    rows has 20,000 placeholders that psycopg rewrites on every chunk (half the insert's time).
    The ids come back by document, unique in the file (rows.py refuses a repeated one)."""
    names = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays(conn, table, names)}) "
    sql += "RETURNING id_cliente, tipo_documento, cedula_cliente"
    params = {f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)}
    ids = {(r.tipo_documento, r.cedula_cliente): r.id_cliente for r in conn.exec_driver_sql(sql, params)}
    return [ids[row["tipo_documento"], row["cedula_cliente"]] for row in rows]


def arrays(conn, table: sa.Table, names: list[str]) -> str:
    """The arrays' placeholders, ``%(cN)b``: psycopg sends a list in binary with its C dumpers;
    as text (``%s``) it quotes each element in Python (a regular expression per cell), which
    was most of the process's own time in the write (issue #27: 30–40 ms of CPU per 1,000 rows
    as text, 7–9 ms in binary, and less for the server to parse)."""
    return ", ".join(
        f"CAST(%(c{i})b AS {table.c[name].type.compile(conn.dialect)}[])" for i, name in enumerate(names)
    )


def _update(conn, filas: list[Fila], tenant: int, now) -> list[tuple[int, bool]]:
    """The existing clients, every saved column at once (blank cells already hold the stored
    values); a consent that changed gets its evidence."""
    if not filas:
        return []
    table = Cliente.__table__
    stmt = table.update().where(
        table.c.id_cliente == sa.bindparam("b_id"), table.c.id_propietario == sa.bindparam("b_tenant")
    )
    rows = [f.valores | {"b_id": f.id_cliente, "b_tenant": tenant, "actualizado": now} for f in filas]
    conn.execute(stmt, rows)
    return [
        (f.id_cliente, bool(f.valores["acepta_sms"]))
        for f in filas
        if bool(f.valores["acepta_sms"]) != f.acepta_antes
    ]


def _said(filas) -> dict[str, bool]:
    """{E.164: acepta} of the rows whose file says yes or no: that moves the number on or off the
    tenant's own list (a default "acepta" of a new client takes no number off it)."""
    said = ((f.valores["telefono_e164"], bool(f.valores["acepta_sms"])) for f in filas)
    return {numero: acepta for numero, acepta in said if numero}
