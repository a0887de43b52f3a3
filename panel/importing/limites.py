"""The limits of an imported file (SPEC §17 "Hostile files"), in one place, and the error that
says in Spanish which one a file passed. Every limit is checked while reading, before the work
or the memory it bounds is spent: a hostile file costs at most what a file at the limits costs."""

from flask import current_app, has_app_context

MAX_BYTES = 20 * 1024 * 1024  # IMPORT_MAX_BYTES' default: the upload itself
MAX_DESCOMPRIMIDO = 100 * 1024 * 1024  # an XLSX's parts once uncompressed, all together
MAX_PARTES = 10_000  # entries in an XLSX's zip (a real workbook has tens)
MAX_CELDA = 1_000  # characters in a cell
MAX_FILAS = 200_000  # data rows, blank rows between them counted
MAX_BLANCAS = 1_000  # blank rows in a row end the table
MAX_LINEA = 256 * 1024  # characters in one physical line of a CSV
# An XLSX sheet is loaded by calamine as a dense grid (rows × columns of the sheet's used
# area, ~32 bytes a cell): at most this many cells, ~200,000 rows of 30 columns (~190 MB).
MAX_CELDAS_HOJA = 6_000_000


class ArchivoIlegible(ValueError):
    """A file that cannot be read as a table (the message says why, in Spanish)."""


def max_bytes() -> int:
    """The upload limit in force: the app's IMPORT_MAX_BYTES, else the default."""
    if has_app_context():
        return int(current_app.config.get("IMPORT_MAX_BYTES", MAX_BYTES))
    return MAX_BYTES


def miles(n: int) -> str:
    """12.345 as Colombians write it (the module is below panel.formatting's imports)."""
    return f"{n:,}".replace(",", ".")


def mb(n: int) -> str:
    """Bytes in MB (in KB under one MB: a limit lowered for a test still reads right)."""
    if n < 1024 * 1024:
        return f"{miles(round(n / 1024))} KB"
    return f"{miles(round(n / (1024 * 1024)))} MB"


def too_big() -> ArchivoIlegible:
    return ArchivoIlegible(f"El archivo pasa de {mb(max_bytes())}: divídalo en partes.")


def check_name(nombre: str) -> None:
    if "\x00" in nombre:
        raise ArchivoIlegible("El nombre del archivo tiene un carácter nulo (NUL): cámbielo.")


def long_cell(numero: int, columna: int | None = None) -> ArchivoIlegible:
    where = f"la fila {miles(numero)}" + ("" if columna is None else f", columna {columna + 1}")
    return ArchivoIlegible(
        f"Una celda de {where} pasa de {miles(MAX_CELDA)} caracteres: acórtela o quite esa columna."
    )


def too_many_rows() -> ArchivoIlegible:
    return ArchivoIlegible(
        f"El archivo tiene más de {miles(MAX_FILAS)} filas (contando las filas en blanco entre los "
        "datos): divídalo en partes."
    )
