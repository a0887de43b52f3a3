"""Reading an uploaded file as rows of cells, streamed: a CSV (UTF-8 with or without BOM, or
Windows-1252; ``,``, ``;`` or tab) or an XLSX (openpyxl in read-only mode).

Rows come one at a time with their number in the file (the header is row 1 when it is the
first line), so a file of 200,000 rows is never held as a list. Blank rows are skipped.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

MAX_FILAS = 200_000
SAMPLE = 64 * 1024
DELIMITERS = (";", ",", "\t")
XLSX_MAGIC = b"PK\x03\x04"


class ArchivoIlegible(ValueError):
    """A file that cannot be read as a table (the message says why, in Spanish)."""


@dataclass
class Tabla:
    """An open file: its header cells, and a fresh iterator over its data rows each call."""

    encabezados: list[str]
    _rows: object  # a callable giving (row number, cells) pairs after the header
    formato: str

    def filas(self) -> Iterator[tuple[int, list]]:
        return self._rows()


def open_table(data: bytes, nombre: str = "") -> Tabla:
    """The table in ``data`` (an XLSX by its content, else a CSV)."""
    if not data:
        raise ArchivoIlegible("El archivo está vacío.")
    if data.startswith(XLSX_MAGIC):
        return _xlsx(data)
    if nombre.lower().endswith((".xlsx", ".xls")):
        raise ArchivoIlegible("El archivo no es un Excel válido (.xlsx). Guárdelo como .xlsx o CSV.")
    return _csv(data)


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _after_header(rows: Iterator[list]) -> tuple[int, list, Iterator[tuple[int, list]]]:
    """The header (the first row that is not blank) and the numbered non-blank rows after it."""
    for number, cells in enumerate(rows, start=1):
        if not _blank(cells):
            return number, cells, _numbered(rows, number)
    raise ArchivoIlegible("El archivo no tiene filas (ni siquiera los encabezados).")


def _numbered(rows: Iterator[list], after: int) -> Iterator[tuple[int, list]]:
    for number, cells in enumerate(rows, start=after + 1):
        if not _blank(cells):
            yield number, list(cells)


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


def _text_stream(data: bytes, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")


def _csv(data: bytes) -> Tabla:
    encoding = encoding_of(data)
    sample = data[:SAMPLE].decode(encoding, errors="ignore").lstrip("\ufeff")
    first = next((line for line in sample.splitlines() if line.strip()), "")
    delimiter = delimiter_of(first)

    def rows():
        return csv.reader(_text_stream(data, encoding), delimiter=delimiter)

    try:
        _, header, _ = _after_header(rows())
    except csv.Error as exc:
        raise ArchivoIlegible(f"El archivo no se puede leer como CSV: {exc}.") from None
    return Tabla(_header_text(header), lambda: _after_header(_guarded(rows()))[2], f"CSV ({delimiter})")


def _guarded(reader) -> Iterator[list]:
    """A CSV reader whose malformed line stops the file with a clear message."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ArchivoIlegible(f"Línea {reader.line_num} mal formada: {exc}.") from None
        yield row


# --- XLSX ----------------------------------------------------------------------------------


def _xlsx(data: bytes) -> Tabla:
    from openpyxl import load_workbook

    def rows():
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, ParseError) as exc:
            raise ArchivoIlegible(f"El archivo Excel no se puede abrir ({exc}).") from None
        sheet = book.worksheets[0]
        try:
            yield from sheet.iter_rows(values_only=True)
        except ParseError as exc:  # a sheet's XML is read as the rows are (an undefined entity…)
            raise ArchivoIlegible(f"El archivo Excel está dañado ({exc}).") from None
        finally:
            book.close()

    _, header, _ = _after_header(rows())
    return Tabla(_header_text(header), lambda: _after_header(rows())[2], "XLSX")
