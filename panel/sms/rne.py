"""Loading and looking up the Registro de Números Excluidos (RNE) of the CRC.

A file is one number a line, or a CSV with a ``numero`` column (``,`` or ``;``); numbers national
(``3001234567``) or E.164. Lines that are not valid numbers are skipped and counted. The new list
is written beside the one in force, in batches that each commit (a sender's write never waits
long behind them, SQLite included), then swapped in by one short transaction; the old lists' rows
are removed afterwards, in batches too.

One load at a time (SPEC §18). Two loads side by side used to empty the registry: each one's
clean-up removed the other's list, still being written and so not in force, and the second swap
then put in force a list that no longer existed. Each load is now a ``CargaExcluidos`` row that
holds the lock (``en_curso``: the database admits one running load, across threads, processes
and machines): a second load is refused ("Ya se está cargando una lista"). The running load beats
a heartbeat at every batch; one silent for ``STALE`` is taken for crashed and its lock passes on,
and a load that lost its lock that way never swaps its list in. A list with no valid number, or
less than half of the one in force, needs ``confirmado``.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import audit, formatting
from ..clock import utcnow
from ..extensions import db
from ..formatting import plural
from ..models import CargaExcluidos, ListaExcluidos, NumeroExcluido
from ..phones import e164

BATCH = 20_000
REGION = "CO"
FAST = {10: "+57"}  # a 10-digit Colombian mobile: E.164 without asking phonenumbers (1M lines)
# A load that has not beaten its heartbeat for this long is taken for crashed (its process died):
# the next load may start. A live one beats at every batch (well under a second) and once its
# file is read (seconds for a million lines).
STALE = timedelta(minutes=5)
MAX_BYTES = 24 * 1024 * 1024  # a million numbers in a CSV with a few columns: ~20 MB
EN_CURSO = "Ya se está cargando una lista"
CONFIRMAR = (
    "Para reemplazarla de todos modos, confírmelo (en el panel, «Confirmo que la lista nueva reemplaza"
    " a la vigente»; en la consola, --confirmar)."
)
CARGA = CargaExcluidos.__table__


class CargaEnCurso(Exception):
    """Another load runs: this one was not started."""


class CargaRechazada(Exception):
    """The guard of empty or halved lists: nothing was replaced."""


class CargaPerdida(Exception):
    """This load was silent past STALE and another took its lock: it never swaps its list in."""


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


def start(
    archivo: str = "", id_usuario: int | None = None, confirmado: bool = False, data: bytes | None = None
) -> int:
    """Take the lock for a new load (the panel stores its upload in ``data``); its id.

    A load silent past STALE loses its lock in the same transaction. Raises CargaEnCurso when
    another load runs: the unique ``en_curso`` refuses a second running row, also when two start
    at the same instant."""
    now = utcnow()
    try:
        with db.engine.begin() as conn:
            conn.execute(
                CARGA.update()
                .where(CARGA.c.en_curso.is_(True), CARGA.c.latido < now - STALE)
                .values(en_curso=None, estado="error", terminado=now, mensaje="La carga se interrumpió.")
            )
            new = CARGA.insert().values(  # the other columns: their defaults (0, "")
                archivo_nombre=archivo[:255],
                archivo=data,
                confirmado=confirmado,
                estado="pendiente",
                en_curso=True,
                latido=now,
                creado=now,
                id_usuario=id_usuario,
            )
            return conn.execute(new).inserted_primary_key[0]
    except IntegrityError:
        raise CargaEnCurso(_busy_message()) from None


def _busy_message() -> str:
    with db.engine.connect() as conn:
        since = conn.scalar(sa.select(CARGA.c.creado).where(CARGA.c.en_curso.is_(True)))
    if since is None:  # it ended in the meantime
        return EN_CURSO + "."
    return f"{EN_CURSO} (desde el {formatting.date_time(since)}): espere a que termine."


def load(
    stream: io.TextIOBase | Iterable[str],
    archivo: str = "",
    id_usuario: int | None = None,
    confirmado: bool = False,
) -> Carga:
    """Load a new list and swap it in, now (the CLI, tests); see :func:`run`."""
    return run(start(archivo, id_usuario, confirmado), stream)


def run_stored(carga_id: int) -> Carga:
    """Load the file the panel stored with the load (a background thread or an RQ job)."""
    data = db.session.scalar(sa.select(CargaExcluidos.archivo).where(CargaExcluidos.id == carga_id))
    db.session.rollback()
    stream = io.TextIOWrapper(io.BytesIO(data or b""), encoding="utf-8-sig", errors="replace", newline="")
    return run(carga_id, stream)


def run(carga_id: int, stream: io.TextIOBase | Iterable[str]) -> Carga:
    """Parse, check the guard, write beside the list in force, swap in, remove the old lists; the
    load ends "completada", "rechazada" (the guard: CargaRechazada) or "error", in the Historial.
    The lock is held by ``carga_id`` (:func:`start`) throughout and released at the end."""
    lista_id = stored = None
    try:
        numbers, invalid = parse(stream)
        _beat(carga_id, estado="cargando", total=len(numbers), invalidas=invalid)
        _guard(len(numbers), carga_id)
        lista_id = stored = _new_list(carga_id, len(numbers), invalid)
        _insert(lista_id, sorted(numbers), carga_id)
        _analyze()
        _swap(lista_id, carga_id)
        lista_id = None  # in force now: whatever happens next, it stays
        _drop_inactive(before=stored)
    except CargaRechazada as exc:
        _finish(carga_id, "rechazada", str(exc))
        raise
    except CargaPerdida:
        _discard(lista_id)
        raise
    except BaseException:
        en_vigor = (
            "la lista nueva ya está en vigor" if stored and lista_id is None else "la lista vigente sigue"
        )
        _finish(carga_id, "error", f"La carga se interrumpió por un error inesperado; {en_vigor}.")
        _discard(lista_id)
        raise
    carga = Carga(len(numbers), invalid)
    _finish(carga_id, "completada", carga.resumen(), procesadas=len(numbers))
    return carga


def _guard(nuevos: int, carga_id: int) -> None:
    """An empty list, or one under half of the list in force, only with ``confirmado``: a wrong
    file would otherwise make every excluded number reachable."""
    if db.session.scalar(sa.select(CargaExcluidos.confirmado).where(CargaExcluidos.id == carga_id)):
        return
    vigente = active_list()
    total = vigente.total if vigente is not None else 0
    db.session.rollback()
    if nuevos == 0:
        raise CargaRechazada(f"El archivo no tiene ningún número válido; la lista vigente sigue. {CONFIRMAR}")
    if 2 * nuevos < total:
        raise CargaRechazada(
            f"La lista nueva tiene {formatting.number(nuevos)} números, menos de la mitad de los"
            f" {formatting.number(total)} de la lista vigente, que sigue. {CONFIRMAR}"
        )


def _beat(carga_id: int, conn=None, **values) -> None:
    """The heartbeat (with progress): raises CargaPerdida when this load no longer holds the lock."""
    stmt = (
        CARGA.update()
        .where(CARGA.c.id == carga_id, CARGA.c.en_curso.is_(True))
        .values(latido=utcnow(), **values)
    )
    if conn is None:
        with db.engine.begin() as own:
            beaten = own.execute(stmt).rowcount
    else:
        beaten = conn.execute(stmt).rowcount
    if beaten != 1:
        raise CargaPerdida(f"La carga {carga_id} perdió su turno: estuvo más de {STALE} sin avanzar.")


def _new_list(carga_id: int, total: int, invalid: int) -> int:
    carga = db.session.get(CargaExcluidos, carga_id)
    lista = ListaExcluidos(
        archivo=carga.archivo_nombre, total=total, invalidas=invalid, id_usuario=carga.id_usuario
    )
    db.session.add(lista)
    db.session.commit()
    return lista.id


def _insert(lista_id: int, numbers: list[str], carga_id: int | None = None) -> None:
    table = NumeroExcluido.__table__
    for start in range(0, len(numbers), BATCH):
        rows = [{"id_lista": lista_id, "numero": n} for n in numbers[start : start + BATCH]]
        with db.engine.begin() as conn:
            conn.execute(table.insert(), rows)
            if carga_id is not None:
                _beat(carga_id, conn, procesadas=start + len(rows))


def _analyze() -> None:
    """Fresh statistics for the planner (PostgreSQL): right after a million rows arrive, stale ones
    make it scan the table instead of using the primary key for the senders' lookups."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE {NumeroExcluido.__tablename__}"))


def _swap(lista_id: int, carga_id: int | None = None) -> None:
    """One short transaction: the new list is the one in force from now on — only if this load
    still holds the lock (checked in the same transaction) and its list is still there."""
    lista = ListaExcluidos.__table__
    with db.engine.begin() as conn:
        if carga_id is not None:
            _beat(carga_id, conn)
        if conn.scalar(sa.select(lista.c.id).where(lista.c.id == lista_id)) is None:
            raise CargaPerdida(f"La lista {lista_id} ya no existe.")
        conn.execute(lista.update().values(activa=sa.case((lista.c.id == lista_id, True), else_=False)))


def _drop_inactive(before: int | None = None) -> None:
    """Remove the lists no longer in force (older than ``before``: a list being written by a load
    that took a crashed one's turn is newer), a batch of numbers per transaction."""
    lista = ListaExcluidos.__table__
    stale = sa.select(lista.c.id).where(lista.c.activa.is_(False))
    if before is not None:
        stale = stale.where(lista.c.id < before)
    with db.engine.connect() as conn:
        old = list(conn.scalars(stale))
    for lista_id in old:
        _drop(lista_id)


def _drop(lista_id: int) -> None:
    """Remove a list's numbers, a batch per transaction, then the list; never the list in force
    (each delete checks it is still out of force)."""
    lista, numero_ = ListaExcluidos.__table__, NumeroExcluido.__table__
    out_of_force = sa.exists().where(lista.c.id == lista_id, lista.c.activa.is_(False))
    while True:
        with db.engine.begin() as conn:
            batch = sa.select(numero_.c.numero).where(numero_.c.id_lista == lista_id).limit(BATCH)
            gone = conn.execute(
                numero_.delete().where(
                    numero_.c.id_lista == lista_id, numero_.c.numero.in_(batch), out_of_force
                )
            ).rowcount
        if not gone:
            break
    with db.engine.begin() as conn:
        conn.execute(lista.delete().where(lista.c.id == lista_id, lista.c.activa.is_(False)))


def _discard(lista_id: int | None) -> None:
    """A failed load's half-written list goes (never the one in force)."""
    db.session.rollback()
    if lista_id is not None:
        _drop(lista_id)


def _finish(carga_id: int, estado: str, mensaje: str, **values) -> None:
    """End the load (its file is no longer needed), release the lock, and say it in the Historial."""
    db.session.rollback()
    carga = db.session.get(CargaExcluidos, carga_id)
    carga.estado, carga.mensaje, carga.en_curso = estado, mensaje[:255], None
    carga.terminado, carga.archivo = utcnow(), None
    for key, value in values.items():
        setattr(carga, key, value)
    cargados = carga.procesadas if estado == "completada" else 0
    cuenta = Carga(cargados, carga.invalidas).resumen()
    if estado != "completada":
        cuenta += f" (el archivo tenía {plural(carga.total, 'número válido', 'números válidos')})"
    audit.record(  # "ListaExcluidos": the Historial's name for the registry (formatting.LABELS)
        "accion",
        "ListaExcluidos",
        filas=cargados,
        resumen=f"RNE «{carga.archivo_nombre or 'sin nombre'}», carga {ESTADOS[estado].lower()}: {cuenta}",
        detalle={
            "carga": carga.id,
            "archivo": carga.archivo_nombre,
            "estado": estado,
            "cargados": cargados,
            "numeros_en_archivo": carga.total,
            "invalidas": carga.invalidas,
            "mensaje": carga.mensaje,
        },
        usuario_id=carga.id_usuario,
    )
    db.session.commit()


ESTADOS = {
    "pendiente": "En cola",
    "cargando": "Cargando",
    "completada": "Completada",
    "rechazada": "Rechazada",
    "error": "Error",
}


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
