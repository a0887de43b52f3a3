"""A campaign's log rows written set-based in chunks, never one ORM object per row: on SQLite
one executemany of plain tuples; on PostgreSQL one INSERT … SELECT per chunk that sends each
distinct ``Contenido`` once."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from ..extensions import db
from ..models import SMSLog, utcnow
from .planning import CONTENIDO_KEYS, Contenido, Destinatario

CHUNK = 10_000


def _insert_rows(campana_id: int, tenant: int, rows: list[Destinatario]) -> None:
    """Write the log rows set-based, never one ORM object per row."""
    fixed = {"id_campana": campana_id, "id_propietario": tenant, "intentos": 0}
    fixed |= {"requiere_revision": False, "reintentable": False, "creado": utcnow(), "actualizado": utcnow()}
    write = _insert_joined if db.session.get_bind().dialect.name == "postgresql" else _insert_many
    for start in range(0, len(rows), CHUNK):
        write(rows[start : start + CHUNK], fixed)


def _insert_many(batch: list[Destinatario], fixed: dict) -> None:
    """SQLite: one executemany per batch, of plain tuples in the statement's column order. The
    constant values go through their column types once; the per-row values are ints, texts and
    NULLs, which need no conversion — SQLAlchemy's per-row parameter processing would double
    the time of a 100,000-row campaign."""
    table, conn = SMSLog.__table__, db.session.connection()
    columns = ("id_cliente", "telefono", *CONTENIDO_KEYS, *fixed)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    constants = tuple(_bound(table.c[k], v, conn.dialect) for k, v in fixed.items())
    conn.exec_driver_sql(
        sql, [(r.cliente.id_cliente, r.telefono, *r.contenido[:6], *constants) for r in batch]
    )


def _bound(column, value, dialect):
    """``value`` as the driver receives it for ``column`` (e.g. a datetime as SQLite's text)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)  # SQLite's DATETIME, say
    return process(value) if process else value


def _insert_joined(batch: list[Destinatario], fixed: dict) -> None:
    """PostgreSQL: one INSERT … SELECT per batch that sends each distinct Contenido once (a few
    hundred texts for 10,000 rows, instead of 10,000 texts psycopg would quote one by one) and,
    per row, the client, the phone and the number of its Contenido; the rows go in plan order.
    psycopg would send an executemany as one INSERT per row, and COPY is refused on tables
    under row level security."""
    table = SMSLog.__table__
    numbers: dict[Contenido, int] = {}
    which = [numbers.setdefault(r.contenido, len(numbers) + 1) for r in batch]  # 1-based: ORDINALITY
    contenidos = list(numbers)
    params = {
        # Integers travel as one comma-separated text: no per-element quoting or escaping.
        "ids": ",".join(str(r.cliente.id_cliente) for r in batch),
        "contenido": ",".join(map(str, which)),
        "telefonos": [r.telefono for r in batch],
    }
    params |= {k: [s[i] for s in contenidos] for i, k in enumerate(CONTENIDO_KEYS)}
    params |= {f"k_{k}": v for k, v in fixed.items()}
    binds = [sa.bindparam("telefonos", type_=ARRAY(table.c.telefono.type))]
    binds += [sa.bindparam(k, type_=ARRAY(table.c[k].type)) for k in CONTENIDO_KEYS]
    binds += [sa.bindparam(f"k_{k}", type_=table.c[k].type) for k in fixed]
    columns = ("id_cliente", "telefono", *CONTENIDO_KEYS, *fixed)
    stmt = sa.text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT f.id_cliente, f.telefono, {', '.join(f's.{k}' for k in CONTENIDO_KEYS)}, "
        f"{', '.join(f':k_{k}' for k in fixed)} "
        "FROM unnest(string_to_array(:ids, ',')::integer[], :telefonos,"
        " string_to_array(:contenido, ',')::integer[])"
        " WITH ORDINALITY AS f(id_cliente, telefono, contenido, orden) "
        f"JOIN unnest({', '.join(f':{k}' for k in CONTENIDO_KEYS)}) WITH ORDINALITY"
        f" AS s({', '.join(CONTENIDO_KEYS)}, numero) ON s.numero = f.contenido "
        "ORDER BY f.orden"
    ).bindparams(*binds)
    db.session.execute(stmt, params)
