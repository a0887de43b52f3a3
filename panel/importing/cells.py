"""A file's cell as ``ClienteForm`` input: what people and other systems write (Excel date
serials and date cells, ``dd/mm/aaaa``, Outlook's ``5/17/1990``, F/M, Female, Activo, Sí,
Google's "310 … ::: 601 …", numbers Excel stored as floats, the apostrophe our own exports put
before a formula character) becomes what the form reads (SPEC §11, §17).

A cell that cannot mean anything raises :class:`CellError` (the row is not imported); one that
is read as empty, or as part of what it says, raises :class:`Aviso` (the row imports, and the
preview says what was done)."""

import functools
import re
from collections.abc import Iterable
from datetime import date, datetime

import phonenumbers

from .. import clock, identificacion, text
from ..export import DANGEROUS

# a/b/y with a 4- or 2-digit year ("d/m/aa"); a day and a month only (a birthday without year).
_PARTES = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?![\d])")
_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})")
_SIN_ANO = re.compile(r"--\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}")  # Google's "--05-17", "17/05"
_CERO = re.compile(r"0{1,2}[/.-]0{1,2}[/.-]0{2,4}")  # Outlook's "0/0/00": no date
_VARIOS = re.compile(r":::|;|\s/\s|\|")  # between a cell's phones (Google writes " ::: ")
_VARIOS_HINT = re.compile(r"[:;/|]")
_SERIAL = re.compile(r"\d{4,5}(\.\d+)?")  # an Excel serial that came through a CSV
MAX_SERIAL = 2_958_465  # 9999-12-31 in Excel's calendar
DIA_MES, MES_DIA = "dmy", "mdy"
NO_VALIDA = "Fecha no válida: escriba dd/mm/aaaa o aaaa-mm-dd."

GENEROS = {
    "f": "0",
    "femenino": "0",
    "mujer": "0",
    "female": "0",
    "woman": "0",
    "0": "0",
    "m": "1",
    "masculino": "1",
    "hombre": "1",
    "male": "1",
    "man": "1",
    "1": "1",
}
ESTADOS = {
    "activo": "1",
    "activa": "1",
    "1": "1",
    "si": "1",
    "s": "1",
    "inactivo": "0",
    "inactiva": "0",
    "0": "0",
    "no": "0",
    "n": "0",
    "deshabilitado": "3",
    "deshabilitada": "3",
    "3": "3",
}
SI = {"si", "s", "yes", "y", "true", "verdadero", "1", "x", "acepta"}
NO = {"no", "n", "false", "falso", "0", "no acepta"}


class CellError(ValueError):
    """A cell that cannot mean anything for its field (the message says what is expected)."""


class Aviso(ValueError):  # noqa: N818 — a warning, in the domain's word
    """A cell read as ``valor`` (empty by default) with a warning: the row still imports."""

    def __init__(self, mensaje: str, valor: str = ""):
        super().__init__(mensaje)
        self.valor = valor


def plain(value) -> str:
    """Any cell as text: numbers without '.0', a leading protective apostrophe removed."""
    if type(value) is str:  # every cell of a CSV, several times a row: the first test
        value = value.strip()
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "Sí" if value else "No"
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))
    elif isinstance(value, datetime | date):
        return value.isoformat()
    else:
        value = str(value).strip()
    if len(value) > 1 and value[0] == "'" and value[1] in DANGEROUS:
        return value[1:]
    return value


def orden_fechas(valores: Iterable) -> str:
    """How a date column is read, decided once for the whole column (SPEC §17): day-first,
    unless a value cannot be day-first (its second number above 12, Outlook's ``5/17/1990``) and
    none proves day-first (a first number above 12, which decides at once)."""
    mes_dia = False
    for value in valores:
        if not isinstance(value, str) or not (match := _PARTES.fullmatch(plain(value))):
            continue  # date cells, serials, ISO dates say nothing about the order
        first, second = int(match[1]), int(match[2])
        if first > 12:
            return DIA_MES
        mes_dia = mes_dia or second > 12
    return MES_DIA if mes_dia else DIA_MES


def fecha(value, orden: str = DIA_MES) -> str:
    """A date as the form reads it (aaaa-mm-dd), from a date cell, an Excel serial or text in
    the column's order; an empty date (0/0/00) or one without year is left empty, said."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    raw = plain(value)
    if not raw:
        return ""
    if _CERO.fullmatch(raw):
        raise Aviso(f"Fecha vacía en el archivo ({raw}): se deja sin fecha.")
    if _SIN_ANO.fullmatch(raw):
        raise Aviso(f"Fecha sin año ({raw}): se deja sin fecha.")
    if _SERIAL.fullmatch(raw):  # a serial that came through a CSV
        return _serial(float(raw))
    if match := _YMD.match(raw):
        return _day(int(match[1]), int(match[2]), int(match[3]))
    if match := _PARTES.match(raw):
        first, second, year = int(match[1]), int(match[2]), _year(match[3])
        return _day(year, first, second) if orden == MES_DIA else _day(year, second, first)
    raise CellError(NO_VALIDA)


def _year(written: str) -> int:
    """A 2-digit year ("d/m/aa") in the last hundred years: 25 → 2025 until 2025, then 1925."""
    if len(written) == 4:
        return int(written)
    year = 2000 + int(written)
    return year if year <= clock.today().year else year - 100


def _day(year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise CellError(NO_VALIDA) from None


def _serial(number: float) -> str:
    from openpyxl.utils.datetime import from_excel

    if not 1 <= number <= MAX_SERIAL:
        raise CellError(NO_VALIDA)
    moment = from_excel(number)
    return (moment.date() if isinstance(moment, datetime) else moment).isoformat()


def _word(value) -> str:
    return _folded(plain(value))


@functools.lru_cache(maxsize=1024)  # F, M, Activo, Sí…: a column of a few words, row after row
def _folded(written: str) -> str:
    return text.fold(written).rstrip(".")


def genero(value) -> str:
    """F/M, Femenino/Masculino, Mujer/Hombre, Female/Male, 0/1; anything else is left empty,
    said (a contact's "Other" or "No binario" is no reason to refuse the client)."""
    raw = _word(value)
    if raw in GENEROS:
        return GENEROS[raw]
    raise Aviso(f"Género «{plain(value)[:40]}» no reconocido (F o M): se deja vacío.")


def telefono(value) -> str:
    """A phone; a cell of several (Google's "310 … ::: 601 …", or "; " / " / " between them)
    gives its first mobile, or else its first number, said."""
    raw = plain(value)
    if not _VARIOS_HINT.search(raw):  # the common cell: one number (no split, no parse)
        return raw
    partes = [p.strip() for p in _VARIOS.split(raw) if p.strip()]
    if len(partes) < 2:
        return raw
    elegido = next((p for p in partes if _movil(p)), partes[0])
    raise Aviso(f"La celda tiene {len(partes)} teléfonos: se guarda {elegido}.", elegido)


def _movil(numero: str) -> bool:
    try:
        parsed = phonenumbers.parse(numero, "CO")
    except phonenumbers.NumberParseException:
        return False
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return phonenumbers.number_type(parsed) in kinds


def estado(value) -> str:
    raw = _word(value)
    return ESTADOS.get(raw, raw)


def si_no(value) -> str:
    """A checkbox as the form reads it: 'y' ticked, '' not."""
    raw = _word(value)
    if raw in SI:
        return "y"
    if raw in NO:
        return ""
    raise CellError("Escriba Sí o No.")


def tipo_documento(value) -> str:
    """A document type by its code or name ('CE', 'C.E.', 'Cédula de extranjería', 'Pasaporte')."""
    code = identificacion.tipo_de(plain(value))
    if code is None:
        raise CellError(
            "Tipo de documento desconocido: escriba CC, CE, TI, PPT, PEP, PA o NIT (o su nombre)."
        )
    return code
