"""The XLSX export: openpyxl's write-only mode on a temporary file, then streamed: real date
cells in Bogotá time (the header says so), column widths from the header and the first rows, a
frozen header row and a filter over the data; text always a string cell, never a formula."""

import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .export import FORMATOS, Columna, _safe_batches

FILE_CHUNK = 64 * 1024
BOGOTA_HEADER = " (hora de Bogotá)"
# Excel's own codes (not the screen's): it shows them in the user's regional separators.
XLSX_NUMBER_FORMATS = {"fecha": "dd/mm/yyyy", "fecha_hora": "dd/mm/yyyy hh:mm:ss"}
FIXED_WIDTHS = {"fecha": 12, "fecha_hora": 20, "booleano": 10}
MIN_WIDTH, MAX_WIDTH = 8, 60


def xlsx_titulo(columna: Columna) -> str:
    """The XLSX header: a moment column says that its cells are Bogotá time."""
    return columna.titulo + (BOGOTA_HEADER if columna.tipo == "fecha_hora" else "")


def xlsx_chunks(batches: Iterable[list], columnas: list[Columna], titulo: str = "Datos") -> Iterator[bytes]:
    """An XLSX built in write-only mode on disk, then streamed from the file. Write-only mode
    writes widths and the frozen pane before the first row, so they are set from the header
    and the first batch; the filter is written after the last row, so it covers them exactly."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(titulo[:31])
    headers = [xlsx_titulo(c) for c in columnas]
    rows = _safe_batches(batches, columnas, FORMATOS["xlsx"])
    first = next(rows, [])
    for i, width in enumerate(_widths(columnas, headers, first), 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_header_cell(sheet, h) for h in headers])
    to_cells = [_cell_maker(sheet, c) for c in columnas]
    count = 0
    for batch in itertools.chain([first], rows):
        for row in batch:
            sheet.append([f(v) for f, v in zip(to_cells, row, strict=True)])
        count += len(batch)
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(columnas), 1))}{count + 1}"
    with tempfile.TemporaryFile() as tmp:
        workbook.save(tmp)
        tmp.seek(0)
        while chunk := tmp.read(FILE_CHUNK):
            yield chunk


def _widths(columnas: list[Columna], headers: list[str], rows: list[list]) -> list[int]:
    """Each column as wide as its header or its longest value in the first rows (dates and
    yes/no a fixed width), within bounds; the 2 extra leave room for the filter's arrow."""
    widths = []
    for i, (columna, header) in enumerate(zip(columnas, headers, strict=True)):
        fixed = FIXED_WIDTHS.get(columna.tipo) if columna.nombres is None else None
        longest = fixed or max((_length(row[i]) for row in rows), default=0)
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH, len(header), longest) + 2))
    return widths


def _length(value) -> int:
    if value is None:
        return 0
    return max(len(line) for line in str(value).splitlines() or [""])


def _cell_maker(sheet, columna: Columna) -> Callable:
    """How this column's safe values become cells: numbers as they are, dates as date cells,
    everything else as text cells."""
    if columna.nombres is None and columna.tipo in XLSX_NUMBER_FORMATS:
        number_format = XLSX_NUMBER_FORMATS[columna.tipo]
        return lambda value: _date_cell(sheet, value, number_format)
    if columna.nombres is None and columna.tipo == "numero":
        return lambda value: None if value == "" else value
    return lambda value: _text_cell(sheet, value)


def _text_cell(sheet, value: str):
    """Text is always a string cell: never a formula, whatever it starts with. What a worksheet
    cannot hold (control characters of rows stored before the forms refused them) is dropped,
    so one old row never fails the whole export."""
    cell = WriteOnlyCell(sheet, value=None)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
    cell.data_type = "s"
    return cell


def _date_cell(sheet, value, number_format: str):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _header_cell(sheet, text: str):
    cell = _text_cell(sheet, text)
    cell.font = Font(bold=True)
    return cell
