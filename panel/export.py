"""Streamed exports in three formats, safe against spreadsheet formula injection.

Rows come as plain tuples from one SELECT of the exported columns, fetched a few thousand at a
time (a server-side cursor on PostgreSQL), so memory stays constant whatever the number of
rows. Each column has one converter per format, chosen before the first row (not a type check
per cell); related names (empresa, ciudad…) come from small lookups loaded once.

- "CSV (Excel)": `;`, a BOM and decimal commas, as Excel with Colombian regional settings
  reads a file it opens with a double click.
- "CSV": `,` and a BOM, numbers with a decimal point, for other programs.
- "XLSX": openpyxl's write-only mode on a temporary file, then streamed: real date cells in
  Bogotá time, column widths, a frozen header row and a filter over the data.

"CSV (Excel)" writes dates as people read them, ``dd/mm/aaaa`` and ``dd/mm/aaaa hh:mm`` in Bogotá
(what Excel with Colombian settings takes for a date); the plain CSV keeps ISO 8601 for programs,
``aaaa-mm-dd`` and ``aaaa-mm-dd HH:MM:SS-05:00``. Every format writes labels, not codes, and the
same headers (XLSX adds "(hora de Bogotá)" to its moment columns).

This module holds the formats, the columns and each column's converters (with their SQL twins)
and the CSV writer; beside it: ``export_xlsx.py`` (the XLSX writer), ``export_download.py`` (the
batches, the streamed response, the Historial entry) and ``export_sql.py`` (PostgreSQL's COPY).
"""

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from . import clock, formatting

# OWASP: a cell starting with one of these may be evaluated as a formula.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
_DANGEROUS_FIRST = frozenset(DANGEROUS)
_DANGEROUS_CODES = [ord(c) for c in DANGEROUS]
FORMULA_GUARD = "'"
# ASCII digits only ([0-9], not \d): PostgreSQL's twin below reads the same pattern, and a
# "phone" of other scripts' digits is not E.164 anyway, so it gets the apostrophe.
E164_PATTERN = r"\+[1-9][0-9]{6,14}"
E164 = re.compile(E164_PATTERN)
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Formato:
    """An export format: its code in the URL, its name in the menu, how its file is written."""

    codigo: str
    nombre: str
    descripcion: str
    extension: str
    mimetype: str
    separador: str = ","
    coma_decimal: bool = False


# The one list of formats: the menus, the URLs and the views' ``export_types`` all read it.
# "csv" and "xlsx" keep the URLs they always had.
FORMATOS = {
    f.codigo: f
    for f in (
        Formato(
            "csv-excel",
            "CSV (Excel)",
            "Separado por punto y coma, con coma decimal: se abre en Excel con la configuración de Colombia",
            "csv",
            CSV_MIMETYPE,
            separador=";",
            coma_decimal=True,
        ),
        Formato("csv", "CSV", "Separado por comas, con punto decimal (otros programas)", "csv", CSV_MIMETYPE),
        Formato("xlsx", "XLSX", "Libro de Excel: fechas, filtros y encabezado fijo", "xlsx", XLSX_MIMETYPE),
    )
}
CODIGOS = tuple(FORMATOS)


@dataclass(frozen=True)
class Columna:
    """A column of an export: Spanish header, what the SELECT reads, what kind of value it is.
    ``nombres`` turns a stored code or id into its text (an estado label, an empresa's name)."""

    titulo: str
    campo: Any
    tipo: str = "texto"  # texto | numero | telefono | fecha | fecha_hora | booleano
    nombres: dict | None = None
    # The words of a value only Python can write (Historial's detail): such a column keeps the
    # whole export on the Python path.
    texto: Callable[[Any], str] | None = None


def seguro(text) -> str:
    """Text that a spreadsheet will not evaluate: a leading formula character gets an apostrophe."""
    if text is None:
        return ""
    text = str(text)
    return FORMULA_GUARD + text if text and text[0] in _DANGEROUS_FIRST else text


def seguro_sql(text):
    """``seguro`` in SQL, for PostgreSQL's COPY: ``text`` is a SQL text (NULL stays NULL, which
    the COPY writes as an empty cell). The first character is read by its code (ascii() is the
    code point in a UTF-8 database): an integer IN, not seven text comparisons, is ~7× cheaper."""
    return sa.case(
        (sa.func.ascii(text).in_(_DANGEROUS_CODES), sa.literal(FORMULA_GUARD, sa.Text) + text), else_=text
    )


def _telefono(value) -> str:
    """A phone that is strictly E.164 cannot carry a formula: it is written as it is."""
    return value if value and E164.fullmatch(value) else seguro(value)


def _telefono_sql(value):
    # E.164 starts with "+": the regular expression only runs for the values that do
    e164 = sa.and_(sa.func.ascii(value) == ord("+"), value.regexp_match(f"^{E164_PATTERN}$"))
    return sa.case((e164, value), else_=seguro_sql(value))


def _telefono_hoja(value) -> str:
    """CSV (Excel) and XLSX: a Colombian number in national form, text a spreadsheet keeps as
    written ('300 123 4567'); any other, as the plain CSV would but always guarded (Excel
    evaluates a leading '+')."""
    return seguro(formatting.phone_sheet(value))


def _telefono_hoja_sql(value):
    """``_telefono_hoja`` in SQL: formatting.phone_sheet's grouping by substrings."""
    part = lambda start, length: sa.func.substr(value, start, length)  # noqa: E731
    rest = " " + part(7, 3) + " " + part(10, 4)
    national = sa.case((part(4, 1) == "3", part(4, 3) + rest), else_="(" + part(4, 3) + ")" + rest)
    colombian = value.regexp_match(f"^{formatting.COLOMBIA_E164.pattern}$")
    return sa.case((colombian, national), else_=seguro_sql(value))


def _fecha(value) -> str:
    """A moment in Bogotá time with its offset (formatting.py); a calendar date as aaaa-mm-dd."""
    if value is None:
        return ""
    return formatting.export_time(value) if isinstance(value, datetime) else value.isoformat()


# formatting.export_time in SQL: the COPY's transaction runs with TimeZone = Bogotá, so to_char
# writes Bogotá's wall clock and offset. to_char's offset has no seconds; Python's has them when
# they are not zero, which only local mean times had (Bogotá's until 1914: -04:56:16).
SQL_SETTINGS = {"TimeZone": clock.BOGOTA.key, "DateStyle": "ISO"}  # the COPY's transaction
_SQL_MOMENT = "YYYY-MM-DD HH24:MI:SSTZH:TZM"


def _fecha_hora_sql(value):
    moment = value if value.type.timezone else sa.func.timezone("UTC", value)  # stored naive UTC
    offset = sa.cast(sa.func.abs(sa.extract("timezone", moment)), sa.Integer) % 60
    seconds = sa.case((offset != 0, ":" + sa.func.lpad(sa.cast(offset, sa.Text), 2, "0")), else_="")
    # the offset's seconds are looked for only before the last of them (a third of the cost)
    until = SECONDS_IN_OFFSET_UNTIL
    before = value < (until.replace(tzinfo=UTC) if value.type.timezone else until)
    return sa.func.to_char(moment, _SQL_MOMENT) + sa.case((before, seconds), else_="")


def _seconds_in_offset_until(step: timedelta = timedelta(days=30)) -> datetime:
    """A naive UTC moment after which Bogotá's offset never has seconds (Python's zoneinfo, the
    same tz database as PostgreSQL's): a month past the last moment seen with them, 1800-2100.
    Local mean times lasted decades, never less than a month."""
    moment, last = datetime(1800, 1, 1), datetime(1800, 1, 1)
    while moment < datetime(2100, 1, 1):
        if formatting.local(moment).utcoffset() % timedelta(minutes=1):
            last = moment
        moment += step
    return last + step


# Once per process, at import (~15 ms), not in the first export's time to first byte.
SECONDS_IN_OFFSET_UNTIL = _seconds_in_offset_until()


def _fecha_sql(value):
    return value  # date.isoformat() is a date's own text with DateStyle ISO (SQL_SETTINGS)


def _fecha_hoja(value) -> str:
    """CSV (Excel): dd/mm/aaaa, a moment as dd/mm/aaaa hh:mm in Bogotá (formatting.py)."""
    return formatting.date_time(value) if isinstance(value, datetime) else formatting.day(value)


def _fecha_hoja_sql(value):
    """``_fecha_hoja`` in SQL (the COPY's TimeZone is Bogotá, SQL_SETTINGS)."""
    if isinstance(value.type, sa.DateTime):
        moment = value if value.type.timezone else sa.func.timezone("UTC", value)  # stored naive UTC
        return sa.func.to_char(moment, "DD/MM/YYYY HH24:MI")
    return sa.func.to_char(value, "DD/MM/YYYY")


def _fecha_xlsx(value):
    """A calendar date stays a date; a moment becomes a naive Bogotá time (cells have no zone)."""
    return formatting.spreadsheet_time(value) if isinstance(value, datetime) else value


def _numero(value):
    return "" if value is None else value


def _numero_sql(value):
    """str() of an int or a Decimal is PostgreSQL's own text of the integer or numeric."""
    return value


def _decimal_comma_sql(value):
    """formatting.decimal_comma: the numeric's text with a comma for its point."""
    return sa.func.replace(sa.cast(value, sa.Text), ".", ",")


def _booleano(value) -> str:
    return formatting.yes_no(value)


def _booleano_sql(value):
    return sa.case((value, formatting.yes_no(True)), else_=formatting.yes_no(False))  # NULL: "No"


CONVERTERS: dict[str, Callable] = {
    "texto": seguro,
    "telefono": _telefono,
    "fecha": _fecha,
    "fecha_hora": _fecha,
    "numero": _numero,
    "booleano": _booleano,
}
XLSX_CONVERTERS: dict[str, Callable] = {
    **CONVERTERS,
    "telefono": _telefono_hoja,
    "fecha": _fecha_xlsx,
    "fecha_hora": _fecha_xlsx,
}


# The SQL twin of each CSV converter above (PostgreSQL's COPY, panel/export_sql.py); a kind
# without a twin here, or a value type whose text PostgreSQL writes differently (floats, Python
# enums), keeps the Python path for the whole export.
SQL_CONVERTERS: dict[str, Callable] = {
    "texto": seguro_sql,
    "telefono": _telefono_sql,
    "fecha": _fecha_sql,
    "fecha_hora": _fecha_hora_sql,
    "numero": _numero_sql,
    "booleano": _booleano_sql,
}
TEXT_KINDS = ("texto", "telefono")
SQL_TYPES: dict[str, tuple] = {
    "texto": (sa.String, sa.Integer),
    "telefono": (sa.String,),
    "fecha": (sa.Date,),
    "fecha_hora": (sa.DateTime,),
    "numero": (sa.Integer, sa.Numeric),
    "booleano": (sa.Boolean,),
}


def converter(columna: Columna, formato: Formato = FORMATOS["csv"]) -> Callable:
    """The one function that turns this column's raw values into safe values of ``formato``."""
    if columna.texto is not None:
        return lambda value: seguro(columna.texto(value))
    if columna.nombres is not None:
        safe = {key: seguro(name) for key, name in columna.nombres.items()}
        return lambda value: safe.get(value, "" if value is None else seguro(value))
    if formato.extension == "xlsx":
        return XLSX_CONVERTERS[columna.tipo]
    if formato.coma_decimal and columna.tipo == "numero":
        return formatting.decimal_comma
    if formato.coma_decimal and columna.tipo == "telefono":
        return _telefono_hoja
    if formato.coma_decimal and columna.tipo in ("fecha", "fecha_hora"):
        return _fecha_hoja
    return CONVERTERS[columna.tipo]


def sql_converter(columna: Columna, formato: Formato, campo=None):
    """``converter`` in SQL: the expression that writes ``columna`` as its CSV cell (NULL for an
    empty one), or None when PostgreSQL would not write exactly the same text. ``campo`` is
    where the statement reads the column's value (default: ``columna.campo`` itself)."""
    kind = getattr(columna.campo, "type", None)
    if columna.texto is not None:
        return None
    if not _sql_writes_as_python(kind, columna.tipo if columna.nombres is None else "texto"):
        return None
    return _sql_cell(columna, formato, columna.campo if campo is None else campo, kind)


def _sql_cell(columna: Columna, formato: Formato, campo, kind):
    if columna.nombres is not None:
        cell = _nombres_sql(campo, columna.nombres, kind)
        if cell is None:
            return None
    elif columna.tipo == "texto" and not isinstance(kind, sa.String):
        cell = seguro_sql(sa.cast(campo, sa.Text))
    elif formato.coma_decimal and columna.tipo == "numero" and not isinstance(kind, sa.Integer):
        return _decimal_comma_sql(campo)
    elif formato.coma_decimal and columna.tipo == "telefono":
        cell = _telefono_hoja_sql(campo)
    elif formato.coma_decimal and columna.tipo in ("fecha", "fecha_hora"):
        cell = _fecha_hoja_sql(campo)
    else:
        cell = SQL_CONVERTERS[columna.tipo](campo)
    # COPY quotes a '' (its NULL is ''), Python's csv writes nothing: only text can be ''
    return sa.func.nullif(cell, "") if columna.nombres is not None or columna.tipo in TEXT_KINDS else cell


def _sql_writes_as_python(kind, tipo: str) -> bool:
    if isinstance(kind, sa.Float) or (isinstance(kind, sa.Enum) and kind.enum_class is not None):
        return False  # repr(float) and str(enum member) are not PostgreSQL's text
    if isinstance(kind, sa.Numeric) and not kind.asdecimal:
        return False
    return isinstance(kind, SQL_TYPES[tipo])


def _nombres_sql(campo, nombres: dict, kind):
    """The ``nombres`` branch of ``converter`` in SQL: the safe name of the value's key (keys of
    another type than the column's never match, in Python either), else the value, safe."""
    if not all(isinstance(k, str | int) or k is None for k in nombres):
        return None  # a float or tuple key: only Python's == knows what it matches
    safe = {k: seguro(v) for k, v in nombres.items() if k is not None and _can_equal(k, kind)}
    text = sa.cast(campo, sa.Text)
    return sa.case(
        (campo.is_(None), sa.literal(seguro(nombres[None]) if None in nombres else "", sa.Text)),
        else_=sa.func.coalesce(_lookup_sql(campo, text, safe), seguro_sql(text)),
    )


def _lookup_sql(campo, text, safe: dict):
    """The name of ``campo``'s key, NULL if it has none: ids (dense integers, a few empresas or
    ciudades) index an array, half the cost of a JSON object, which serves every other key."""
    if safe and all(isinstance(k, int) for k in safe):
        low, high = min(safe), max(safe)
        if high - low < 4 * len(safe) + 64:
            names = [safe.get(key) for key in range(low, high + 1)]
            array = sa.sql.elements.Grouping(sa.cast(sa.literal(names, ARRAY(sa.Text)), ARRAY(sa.Text)))
            return array[campo - (low - 1) if low != 1 else campo]  # ( )[i]: PostgreSQL's syntax
    names = {str(int(k)) if isinstance(k, int) else k: name for k, name in safe.items()}
    return sa.cast(sa.literal(json.dumps(names), sa.Text), JSONB).op("->>")(text)


def _can_equal(key, kind) -> bool:
    """Whether a value read from a column of this type can equal ``key`` in Python (1 == True)."""
    return isinstance(key, str) if isinstance(kind, sa.String) else isinstance(key, int)


def celda(value, tipo: str = "texto"):
    """The safe cell of any single value (numbers stay numbers, dates ISO, E.164 as is)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _booleano(value)
    if tipo == "numero" and isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return _fecha(value)
    return _telefono(str(value)) if tipo == "telefono" else seguro(value)


def _safe_batches(batches: Iterable[list], columnas: list[Columna], formato: Formato) -> Iterator[list[list]]:
    convert = [converter(c, formato) for c in columnas]
    for batch in batches:
        yield [[f(v) for f, v in zip(convert, row, strict=True)] for row in batch]


def csv_chunks(
    batches: Iterable[list], columnas: list[Columna], formato: Formato = FORMATOS["csv"]
) -> Iterator[str]:
    """UTF-8 CSV with a BOM (so Excel reads the accents), one chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=formato.separador)
    buffer.write("\ufeff")
    writer.writerow([c.titulo for c in columnas])
    yield buffer.getvalue()
    for rows in _safe_batches(batches, columnas, formato):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(rows)
        yield buffer.getvalue()
