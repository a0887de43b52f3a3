"""Reading an uploaded file as rows of cells, bounded and streamed: a CSV (UTF-8 with or without
BOM, or Windows-1252; ``,``, ``;`` or tab) or an XLSX (python-calamine, after panel/importing/
libro.py made it safe to hand over).

Opening a file reads it once through (a survey): every limit of SPEC §17 (limites.py) is checked
there, so an upload is refused at once with its reason and the later passes (preview, run) meet
no surprise. Rows come one at a time with their number in the file (the header is row 1 when it
is the first line); columns past the header's last are dropped; blank rows are skipped but
counted, and ``MAX_BLANCAS`` of them in a row end the table (what follows is not read).
"""

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import libro
from .limites import (
    MAX_BLANCAS,
    MAX_CELDA,
    MAX_FILAS,
    MAX_LINEA,
    ArchivoIlegible,
    check_name,
    long_cell,
    max_bytes,
    miles,
    too_big,
    too_many_rows,
)

__all__ = ["MAX_FILAS", "ArchivoIlegible", "Tabla", "open_table"]

SAMPLE = 64 * 1024
DELIMITERS = (";", ",", "\t")
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Tabla:
    """An open file: its header cells, how many data rows it has, and a fresh iterator over
    them each call."""

    encabezados: list[str]
    _rows: Callable[[], Iterator[tuple[int, list]]]
    formato: str
    total: int = 0  # the data rows the file has (blank rows not counted)

    def filas(self) -> Iterator[tuple[int, list]]:
        return self._rows()


def open_table(data: bytes, nombre: str = "", survey: bool = True) -> Tabla:
    """The table in ``data`` (an XLSX by its content, else a CSV), checked whole — unless
    ``survey`` is False: a file already surveyed (the run, after its preview) is checked row by
    row as it is read, the same limits, without a whole read first."""
    check_name(nombre)
    if not data:
        raise ArchivoIlegible("El archivo está vacío.")
    if len(data) > max_bytes():
        raise too_big()
    if data.startswith(XLSX_MAGIC):
        return _xlsx(data, survey)
    if nombre.lower().endswith((".xlsx", ".xls")):
        raise ArchivoIlegible("El archivo no es un Excel válido (.xlsx). Guárdelo como .xlsx o CSV.")
    return _csv(data, survey)


# --- rows, whatever the format ------------------------------------------------------------


def _blank(cells) -> bool:
    """No cell with something in it (a CSV's cells are strings; calamine's empty cell is "")."""
    return not "".join(map(str, cells)).strip()


def _header(rows: Iterator[list], first: int) -> tuple[int, list]:
    """(its number, its cells) of the header: the first row that is not blank."""
    for number, cells in enumerate(rows, start=first):
        if not _blank(cells):
            return number, cells
        if number - first >= MAX_BLANCAS:
            break
    raise ArchivoIlegible("El archivo no tiene filas (ni siquiera los encabezados).")


def _width(header: list) -> int:
    """The header's columns up to its last named one (the cells past it are not read)."""
    named = [i for i, c in enumerate(header) if not _blank([c])]
    return named[-1] + 1


def _data_rows(rows: Iterator[list], after: int, width: int, check) -> Iterator[tuple[int, list]]:
    """The numbered non-blank rows after the header, cut to its width. Blank rows count toward
    ``MAX_FILAS`` once a data row follows them (trailing ones are free); ``MAX_BLANCAS`` in a row
    end the table. ``check`` refuses a row's bad cell."""
    counted = blanks = 0
    for number, cells in enumerate(rows, start=after + 1):
        cells = cells[:width]
        if _blank(cells):
            blanks += 1
            if blanks >= MAX_BLANCAS:
                return
            continue
        counted += blanks + 1
        blanks = 0
        if counted > MAX_FILAS:
            raise too_many_rows()
        check(number, cells)
        yield number, cells


def _table(rows: Callable[[], Iterator[list]], first: int, formato: str, check, survey: bool = True) -> Tabla:
    """The header, the survey of every row (the limits), and the rows again on demand."""
    number, header = _header(rows(), first)
    width = _width(header)
    header = _header_text(header[:width])
    check(number, header)

    def data() -> Iterator[tuple[int, list]]:
        source = rows()
        for _ in range(number - first + 1):  # up to the header, already read
            next(source)
        return _data_rows(source, number, width, check)

    total = sum(1 for _ in data()) if survey else 0
    return Tabla(header, data, formato, total)


def _header_text(cells) -> list[str]:
    return ["" if c is None else str(c).strip() for c in cells]


# --- CSV -----------------------------------------------------------------------------------


def encoding_of(data: bytes) -> str:
    """UTF-8 (with or without BOM) when every byte decodes as UTF-8, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), 1 << 20):  # in slices: no second copy of a big file
            decoder.decode(data[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def delimiter_of(first_line: str) -> str:
    """The separator the header line uses most, outside quotes (``,`` when there is none)."""
    counts = {d: 0 for d in DELIMITERS}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _refuse_nul(data: bytes) -> None:
    """A NUL byte is never text: UTF-16 says how to fix it, anything else where it is."""
    at = data.find(b"\x00")
    if at < 0:
        return
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or at < 4:
        raise ArchivoIlegible("El archivo está en UTF-16: guárdelo como CSV UTF-8 o como .xlsx.")
    line = data.count(b"\n", 0, at) + 1
    raise ArchivoIlegible(
        f"La línea {miles(line)} tiene un carácter nulo (NUL): el archivo está dañado o no es texto."
    )


def _lines(data: bytes, encoding: str) -> Iterator[str]:
    """The file's physical lines, none read past ``MAX_LINEA`` characters (a 20 MB line is
    refused after 256 KB, not held whole); csv joins a quoted cell's lines itself."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")
    number = 0
    while line := stream.readline(MAX_LINEA + 1):
        number += 1
        if len(line) > MAX_LINEA:
            raise ArchivoIlegible(
                f"La línea {miles(number)} pasa de {miles(MAX_LINEA)} caracteres: "
                "el archivo no es un CSV de clientes."
            )
        yield line


def _check_cells(number: int, cells: list) -> None:
    """A cell over ``MAX_CELDA`` characters refuses the file (numbers and dates are short)."""
    if cells and max(map(len, map(str, cells))) > MAX_CELDA:
        raise long_cell(number, next(i for i, c in enumerate(cells) if len(str(c)) > MAX_CELDA))


def _csv(data: bytes, survey: bool = True) -> Tabla:
    _refuse_nul(data)
    encoding = encoding_of(data)
    sample = data[:SAMPLE].decode(encoding, errors="ignore").lstrip("\ufeff")
    first = next((line for line in sample.splitlines() if line.strip()), "")
    delimiter = delimiter_of(first)

    def rows() -> Iterator[list]:
        return _guarded(csv.reader(_lines(data, encoding), delimiter=delimiter))

    return _table(rows, 1, f"CSV ({delimiter})", _check_cells, survey)


def _guarded(reader) -> Iterator[list]:
    """A CSV reader whose malformed line stops the file with a clear message."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise long_cell(reader.line_num) from None
            raise ArchivoIlegible(f"Línea {reader.line_num} mal formada: {exc}.") from None
        yield row


# --- XLSX ----------------------------------------------------------------------------------


def _xlsx(data: bytes, survey: bool = True) -> Tabla:
    start, rows = libro.first_sheet(data)
    return _table(rows, start, "XLSX", _check_cells, survey)
