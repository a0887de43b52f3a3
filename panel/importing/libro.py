"""An XLSX made safe for python-calamine, then read by it (SPEC §17 "Hostile files", "Speed").

calamine is ~15× faster than openpyxl, but it loads a sheet whole as a dense grid (rows ×
columns of the area its cells span; the declared ``<dimension>`` is ignored) and its zip reader
trusts the archive. So before calamine sees anything:

1. the zip's central directory must declare at most ``MAX_DESCOMPRIMIDO`` uncompressed bytes
   (a zip bomb is refused before a byte is inflated);
2. every part is inflated by Python's zipfile, which stops at the declared size and checks the
   CRC (a directory that lies cannot make more), and copied *stored* into a temporary file:
   calamine reads exactly the bytes measured here;
3. while copying, the XML parts are scanned: no ``<!DOCTYPE``/``<!ENTITY`` (entity expansion),
   no text or tag longer than ``TRAMO`` (a huge cell is refused before it is held), and in each
   sheet the cells' coordinates give the grid calamine would allocate (two cells at A1 and
   XFD1048576 would be 17 billion cells): at most ``MAX_CELDAS_HOJA``.
"""

import io
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .limites import MAX_CELDA, MAX_CELDAS_HOJA, MAX_DESCOMPRIMIDO, MAX_PARTES, ArchivoIlegible, mb, miles

BLOQUE = 256 * 1024  # bytes inflated at a time
TRAMO = 64 * 1024  # the longest run without a tag a sheet may hold (a cell is ≤ 1,000 characters)
SHEET = re.compile(r"xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
SHARED = re.compile(r"xl/sharedstrings\.xml$", re.IGNORECASE)
ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
ENDS = (b" ", b">", b"/", b"\t", b"\n", b"\r")  # what may follow a tag's name
# An entity reference other than XML's five and character references (no DTD may define one).
UNDEFINED = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")
REF = re.compile(rb"\br=\"([A-Za-z]{0,4})(\d{1,9})\"")


def danado(detalle: str = "") -> ArchivoIlegible:
    return ArchivoIlegible("El archivo Excel no se puede abrir" + (f" ({detalle})" if detalle else "") + ".")


NUL = ArchivoIlegible("El archivo Excel tiene un carácter nulo (NUL): está dañado o no es una hoja de datos.")
ENTIDAD = ArchivoIlegible(
    "El archivo Excel usa una entidad XML no definida o no admitida: está dañado. "
    "Ábralo y guárdelo de nuevo como .xlsx desde Excel."
)
DECLARA = ArchivoIlegible(
    "El archivo Excel declara entidades XML (<!DOCTYPE>), que no se admiten: "
    "ábralo y guárdelo de nuevo como .xlsx desde Excel."
)


@dataclass
class Grid:
    """What a sheet's cells span (1-based, inclusive): the grid calamine will allocate for it."""

    min_row: int = 1 << 40
    max_row: int = 0
    min_col: int = 1 << 40
    max_col: int = 0

    def add(self, rows, cols) -> None:
        if rows:
            self.min_row, self.max_row = min(self.min_row, *rows), max(self.max_row, *rows)
        if cols:
            self.min_col, self.max_col = min(self.min_col, *cols), max(self.max_col, *cols)

    def size(self) -> tuple[int, int]:
        if not self.max_row or not self.max_col:
            return 0, 0
        return self.max_row - self.min_row + 1, self.max_col - self.min_col + 1


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


class Scanner:
    """Fed an XML part's bytes in order. Refuses declarations (``<!DOCTYPE``, ``<!ENTITY``) and
    NULs in any part; in a sheet measures the grid its cells span, counts them, and refuses a
    run of ``TRAMO`` bytes without a tag; counts a shared-strings part's strings. The work is a
    few C-level passes per byte (bytes.count, one regex findall a cell): a third of calamine's."""

    def __init__(self, nombre: str):
        self.nombre = nombre
        self.sheet = bool(SHEET.match(nombre))
        self.shared = bool(SHARED.match(nombre))
        self.carry = b""
        self.strings = 0
        self.grid = Grid()
        self.tags = 0  # cells (calamine holds each before it builds the grid)
        self.prefix: bytes | None = None  # the namespace prefix of the sheet's tags ("x:"), once seen
        self.where = "before"  # the part of the sheet: before, inside or after <sheetData>
        self.exact = False  # following row by row (a cell or row without r="…" was seen)
        self.row = self.cells = self.widest = 0  # the followed row: its number, cells, widest r="…"

    def feed(self, chunk: bytes, final: bool = False) -> None:
        data = self.carry + chunk
        if not (self.sheet or self.shared):  # only declarations and NULs: rescan a 16-byte overlap
            self.carry = data[-16:]
            self._scan(data)
            return
        cut = len(data) if final else max(data.rfind(b"<"), 0)  # whole tags, a run without one bounded
        self.carry = data[cut:]
        if len(self.carry) > TRAMO:  # a text or a tag with no end in sight
            raise ArchivoIlegible(
                f"El archivo Excel tiene un texto de más de {miles(TRAMO)} caracteres seguidos "
                f"(en {self.nombre}): ninguna celda puede pasar de {miles(MAX_CELDA)} caracteres."
            )
        self._scan(data[:cut])

    def _scan(self, data: bytes) -> None:
        if b"<!" in data and (b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper()):
            raise DECLARA
        if b"\x00" in data:
            raise NUL
        tagged = self.sheet or self.shared  # cut at a "<": every text and reference whole
        if tagged and b"&" in data and UNDEFINED.search(data):
            raise ENTIDAD
        if self.sheet:
            self._sheet(data)
        elif self.shared:
            self.strings += sum(data.count(b"<si" + end) for end in ENDS[1:3]) + data.count(b":si>")
            if self.strings > MAX_CELDAS_HOJA:
                raise _too_wide(self.strings)

    def _sheet(self, data: bytes) -> None:
        """Only what is inside <sheetData> (before it are <cols>, after it formats: not cells)."""
        if self.prefix is None and (root := ROOT.search(data)):
            self.prefix = root.group(1) or b""
            p = re.escape(self.prefix)
            self.cell_ref = re.compile(rb'<%sc r="([A-Z]{1,3})(\d{1,7})"' % p)
            self.row_ref = re.compile(rb'<%srow r="(\d{1,7})"' % p)
            self.row_attrs = re.compile(rb"<%srow(?=[\s/>])([^>]*)" % p)
            self.any_cell_ref = re.compile(rb"<%sc\s[^>]*?\br=\"([A-Za-z]{1,4})(\d{1,9})\"" % p)
        if self.prefix is None or self.where == "after":
            return
        p = self.prefix
        if self.where == "before":
            at = data.find(b"<" + p + b"sheetData")
            if at < 0:
                return
            data, self.where = data[at:], "inside"
        end = data.find(b"</" + p + b"sheetData")
        if end >= 0:
            data, self.where = data[:end], "after"
        self._measure(data)

    def _count(self, data: bytes, name: bytes) -> int:
        """How many ``name`` tags ``data`` holds (bytes.count: ~40× a regex's findall)."""
        start = b"<" + self.prefix + name
        return sum(data.count(start + end) for end in ENDS)

    def _measure(self, data: bytes) -> None:
        """Rows and cells whose tag starts with its r="…" (Excel, LibreOffice, openpyxl and
        xlsxwriter write them so) are measured by C-level passes: every "<c" inside <sheetData>
        must be such a cell. Otherwise (a cell or row without r="…", rich inline text) the rows
        are followed in Python, one step a row: an implicit row is the previous plus one, and a
        row's cells reach at most its widest r="…" plus its number of cells (calamine places a
        cell without r="…" one past the previous)."""
        cells = data.count(b"<" + self.prefix + b"c")  # cells, and any <color> of rich text: a bound
        self.tags += cells
        if self.tags > MAX_CELDAS_HOJA:
            raise _too_wide(self.tags)
        if not self.exact:
            refs, rows = self.cell_ref.findall(data), self.row_ref.findall(data)
            if len(refs) == cells and len(rows) == data.count(b"<" + self.prefix + b"row"):
                letters, numbers = zip(*refs, strict=True) if refs else ((), ())
                self.grid.add({int(r) for r in {*rows, *numbers}}, {_column(c) for c in set(letters)})
                self.row = self.grid.max_row
            else:
                self.exact, self.grid.min_col = True, 1
        if self.exact:
            self._follow(data)
        height, width = self.grid.size()
        if height * width > MAX_CELDAS_HOJA:
            raise _too_wide(height * width, height, width)

    def _follow(self, data: bytes) -> None:
        at = 0
        for tag in self.row_attrs.finditer(data):
            self._cells(data[at : tag.start()])
            ref = REF.search(tag.group(1))
            self.row, self.cells, self.widest = (int(ref.group(2)) if ref else self.row + 1), 0, 0
            self.grid.add([self.row], [])
            at = tag.end()
        self._cells(data[at:])

    def _cells(self, segment: bytes) -> None:
        """The cells of the current row in ``segment``."""
        refs = self.any_cell_ref.findall(segment)
        self.cells += self._count(segment, b"c")
        if refs:
            self.widest = max(self.widest, *(_column(c) for c, _ in refs))
            self.grid.add([int(r) for _, r in refs], [])
        if self.cells:
            self.grid.add([self.row], [self.widest + self.cells])


def _too_wide(cells: int, height: int = 0, width: int = 0) -> ArchivoIlegible:
    area = f" ({miles(height)} filas × {miles(width)} columnas)" if height else ""
    return ArchivoIlegible(
        f"La hoja de Excel ocupa {miles(cells)} celdas{area}: el límite es {miles(MAX_CELDAS_HOJA)}. "
        "Borre las filas y columnas que no son datos, o guárdela como CSV."
    )


def _directory(data: bytes) -> zipfile.ZipFile:
    """The zip, refused by what its central directory declares (nothing is inflated yet)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise danado(str(exc)) from None
    infos = archive.infolist()
    if len(infos) > MAX_PARTES:
        raise danado(f"tiene {miles(len(infos))} partes")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_DESCOMPRIMIDO:
        raise ArchivoIlegible(
            f"El archivo Excel ocupa {mb(declared)} sin comprimir: el límite es {mb(MAX_DESCOMPRIMIDO)}. "
            "Divídalo en partes o guárdelo como CSV."
        )
    return archive


def _copy(archive: zipfile.ZipFile, out: zipfile.ZipFile) -> None:
    """Every part inflated (bounded), scanned and stored uncompressed in ``out``."""
    total = 0
    for info in archive.infolist():
        if info.is_dir():
            continue
        xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
        scanner = Scanner(info.filename) if xml else None
        target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        try:
            with archive.open(info) as source, out.open(target, "w", force_zip64=True) as sink:
                while chunk := source.read(BLOQUE):
                    total += len(chunk)
                    if total > MAX_DESCOMPRIMIDO:  # zipfile stops at the declared size: a guard only
                        raise ArchivoIlegible(
                            f"El archivo Excel pasa de {mb(MAX_DESCOMPRIMIDO)} sin comprimir."
                        )
                    if scanner:
                        scanner.feed(chunk)
                    sink.write(chunk)
                if scanner:
                    scanner.feed(b"", final=True)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise danado(str(exc)) from None


def first_sheet(data: bytes) -> tuple[int, Callable[[], Iterator[list]]]:
    """(the sheet row of the first row given, a fresh iterator over its rows each call) of the
    workbook's first sheet, read by calamine from the checked copy."""
    from python_calamine import CalamineError, CalamineWorkbook

    archive = _directory(data)
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as copy:
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
            _copy(archive, out)
        copy.flush()
        try:
            with CalamineWorkbook.from_path(copy.name) as book:
                sheet = book.get_sheet_by_index(0)  # loaded whole: the copy is no longer needed
        except CalamineError as exc:
            raise _calamine_error(exc) from None
        except (ValueError, OSError) as exc:
            raise danado(str(exc)) from None
    start = sheet.start[0] + 1 if sheet.start else 1
    return start, sheet.iter_rows


def _calamine_error(exc: Exception) -> ArchivoIlegible:
    text = str(exc)
    if "0x0 character" in text:  # &#0;: a NUL written as a character reference
        return NUL
    if "entity" in text.lower():
        return ENTIDAD
    return danado(text)
