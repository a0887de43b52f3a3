"""Loading and looking up the Registro de Números Excluidos (RNE) of the CRC.

A file is one number a line, or a CSV with a ``numero`` column (``,`` or ``;``); numbers national
(``3001234567``) or E.164. Lines that are not valid numbers are skipped and counted. The new list
is written beside the one in force, in batches that each commit (a sender's write never waits
long behind them, SQLite included), then swapped in by one short transaction; the old list's rows
are removed afterwards, in batches too.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..formatting import plural
from ..models import ListaExcluidos, NumeroExcluido
from ..phones import e164

BATCH = 20_000
REGION = "CO"
FAST = {10: "+57"}  # a 10-digit Colombian mobile: E.164 without asking phonenumbers (1M lines)


@dataclass(frozen=True)
class Carga:
    """What a load did: how many numbers the new list holds, how many lines were skipped."""

    cargados: int
    invalidas: int

    def resumen(self) -> str:
        cargados = plural(self.cargados, "número cargado", "números cargados")
        invalidas = plural(self.invalidas, "línea inválida ignorada", "líneas inválidas ignoradas")
        return f"{cargados}, {invalidas}"


def _normalise(raw: str) -> str | None:
    text = raw.strip().strip('"').strip()
    if len(text) == 10 and text.startswith("3") and text.isdigit():
        return FAST[10] + text
    if len(text) == 13 and text.startswith("+573") and text[1:].isdigit():
        return text
    return e164(text, REGION) if text else None


def _cells(lines: Iterable[str]) -> Iterator[str | None]:
    """The number cell of each line: the ``numero`` column when there is a header, else the line."""
    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        return
    dialect = ";" if first.count(";") > first.count(",") else ","
    header = [h.strip().strip('"').lower() for h in first.lstrip("\ufeff").split(dialect)]
    if "numero" not in header and "número" not in header:
        yield first.lstrip("\ufeff")
        yield from lines
        return
    column = header.index("numero" if "numero" in header else "número")
    for row in csv.reader(lines, delimiter=dialect):
        yield row[column] if len(row) > column else None


def parse(lines: Iterable[str]) -> tuple[set[str], int]:
    """The distinct E.164 numbers of a file, and how many non-blank lines were not numbers."""
    numbers: set[str] = set()
    invalid = 0
    for cell in _cells(lines):
        if cell is None or not cell.strip():
            invalid += cell is None
            continue
        number = _normalise(cell)
        if number is None:
            invalid += 1
        else:
            numbers.add(number)
    return numbers, invalid


def load(stream: io.TextIOBase | Iterable[str], archivo: str = "", id_usuario: int | None = None) -> Carga:
    """Load a new list and swap it in; the previous list is then removed."""
    numbers, invalid = parse(stream)
    lista = ListaExcluidos(
        archivo=archivo[:255], total=len(numbers), invalidas=invalid, id_usuario=id_usuario
    )
    db.session.add(lista)
    db.session.commit()
    _insert(lista.id, sorted(numbers))
    _analyze()
    _swap(lista.id)
    _drop_inactive()
    return Carga(len(numbers), invalid)


def _insert(lista_id: int, numbers: list[str]) -> None:
    table = NumeroExcluido.__table__
    for start in range(0, len(numbers), BATCH):
        rows = [{"id_lista": lista_id, "numero": n} for n in numbers[start : start + BATCH]]
        with db.engine.begin() as conn:
            conn.execute(table.insert(), rows)


def _analyze() -> None:
    """Fresh statistics for the planner (PostgreSQL): right after a million rows arrive, stale ones
    make it scan the table instead of using the primary key for the senders' lookups."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE {NumeroExcluido.__tablename__}"))


def _swap(lista_id: int) -> None:
    """One short transaction: the new list is the one in force from now on."""
    lista = ListaExcluidos.__table__
    with db.engine.begin() as conn:
        conn.execute(lista.update().values(activa=sa.case((lista.c.id == lista_id, True), else_=False)))


def _drop_inactive() -> None:
    """Remove the lists no longer in force, a batch of numbers per transaction."""
    lista, numero = ListaExcluidos.__table__, NumeroExcluido.__table__
    with db.engine.connect() as conn:
        old = list(conn.scalars(sa.select(lista.c.id).where(lista.c.activa.is_(False))))
    for lista_id in old:
        while True:
            with db.engine.begin() as conn:
                batch = sa.select(numero.c.numero).where(numero.c.id_lista == lista_id).limit(BATCH)
                gone = conn.execute(
                    numero.delete().where(numero.c.id_lista == lista_id, numero.c.numero.in_(batch))
                ).rowcount
            if not gone:
                break
        with db.engine.begin() as conn:
            conn.execute(lista.delete().where(lista.c.id == lista_id))


def active_list() -> ListaExcluidos | None:
    return db.session.scalar(sa.select(ListaExcluidos).where(ListaExcluidos.activa.is_(True)))


def excluded(numbers: Iterable[str], conn=None) -> set[str]:
    """Which of these E.164 numbers are in the list in force (one indexed lookup per chunk),
    through ``conn`` (a Core connection: the sender) or the ORM session."""
    reader = conn if conn is not None else db.session
    wanted = sorted({n for n in numbers if n})
    lista = reader.scalar(sa.select(ListaExcluidos.id).where(ListaExcluidos.activa.is_(True)))
    if lista is None or not wanted:
        return set()
    found: set[str] = set()
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        stmt = sa.select(NumeroExcluido.numero).where(
            NumeroExcluido.id_lista == lista, NumeroExcluido.numero.in_(chunk)
        )
        found.update(reader.scalars(stmt))
    return found


def listed_clause(numero: str):
    """SQL true when ``numero`` is in the list in force: the departure gate's per-row form of
    ``excluded`` (one indexed lookup, in the gate's one statement)."""
    lista, numeros = ListaExcluidos.__table__, NumeroExcluido.__table__
    in_force = sa.select(lista.c.id).where(lista.c.activa.is_(True)).scalar_subquery()
    return sa.exists(
        sa.select(numeros.c.id_lista).where(numeros.c.id_lista == in_force, numeros.c.numero == numero)
    )
