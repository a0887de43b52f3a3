"""A file's cell as ``ClienteForm`` input: what people and other systems write (Excel date
serials and date cells, ``dd/mm/aaaa``, F/M, Activo, Sí, numbers Excel stored as floats, the
apostrophe our own exports put before a formula character) becomes what the form reads."""

import re
from datetime import date, datetime

from .. import identificacion, text
from ..export import DANGEROUS

_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})")
MAX_SERIAL = 2_958_465  # 9999-12-31 in Excel's calendar

GENEROS = {
    "f": "0",
    "femenino": "0",
    "mujer": "0",
    "0": "0",
    "m": "1",
    "masculino": "1",
    "hombre": "1",
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


def plain(value) -> str:
    """Any cell as text: numbers without '.0', a leading protective apostrophe removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    value = str(value).strip()
    if len(value) > 1 and value[0] == "'" and value[1] in DANGEROUS:
        return value[1:]
    return value


def fecha(value) -> str:
    """A date as the form reads it (aaaa-mm-dd), from a date cell, an Excel serial or text."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    raw = plain(value)
    if not raw:
        return ""
    if re.fullmatch(r"\d{4,5}(\.\d+)?", raw):  # a serial that came through a CSV
        return _serial(float(raw))
    for pattern, order in ((_YMD, (0, 1, 2)), (_DMY, (2, 1, 0))):
        if match := pattern.match(raw):
            parts = [int(p) for p in match.groups()]
            try:
                return date(parts[order[0]], parts[order[1]], parts[order[2]]).isoformat()
            except ValueError:
                break
    raise CellError("Fecha no válida: escriba dd/mm/aaaa o aaaa-mm-dd.")


def _serial(number: float) -> str:
    from openpyxl.utils.datetime import from_excel

    if not 1 <= number <= MAX_SERIAL:
        raise CellError("Fecha no válida: escriba dd/mm/aaaa o aaaa-mm-dd.")
    moment = from_excel(number)
    return (moment.date() if isinstance(moment, datetime) else moment).isoformat()


def _word(value) -> str:
    return text.fold(plain(value)).rstrip(".")


def genero(value) -> str:
    raw = _word(value)
    return GENEROS.get(raw, raw)  # anything else: the form says it is not a valid choice


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
