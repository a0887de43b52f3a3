"""Dates as people type them in the panel (``dd/mm/aaaa``, ``dd/mm/aaaa hh:mm`` in Bogotá) and as
the API sends them (ISO 8601: ``format: date`` / ``date-time``): the one reader of typed dates,
the mirror of ``formatting.day`` and ``formatting.date_time``, which write them.

The panel reads both (a pasted ISO date and an old bookmark keep working); a form bound from
JSON (``binding.bind``) reads ISO only, exactly what the OpenAPI document says. The pickers'
formats (moment.js tokens) are declared here too, so what the picker writes is what is read.
"""

import re
from datetime import UTC, date, datetime

from markupsafe import Markup
from wtforms import DateField
from wtforms.widgets import TextInput

from .. import formatting
from ..clock import BOGOTA

ESCRIBA_FECHA = "Escriba la fecha como dd/mm/aaaa."
ESCRIBA_FECHA_HORA = "Escriba la fecha y la hora como dd/mm/aaaa hh:mm (hora de Bogotá)."
ESCRIBA_FECHA_ISO = "Escriba la fecha como aaaa-mm-dd."
# The date pickers (Flask-Admin's daterangepicker, moment.js tokens): what formatting writes.
PICKER_FECHA = "DD/MM/YYYY"
PICKER_FECHA_HORA = "DD/MM/YYYY HH:mm"

DIA = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
DIA_HORA = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d\d)", re.ASCII)
ISO_DIA = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)  # RFC 3339 full-date: format: date
# RFC 3339 (the API's ``format: date-time``) beyond what fromisoformat reads: a lower-case «t» or
# «z», and a leap second (:60, read as :59 — the minute is what a campaign is scheduled by).
RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:)(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)", re.ASCII)


def read_date(text: str, *, iso_only: bool) -> date:
    """``dd/mm/aaaa`` (day and month of one or two digits) or ``aaaa-mm-dd``; ISO only for the
    API. ValueError for anything else, 31/02 included."""
    text = text.strip()
    found = None if iso_only else DIA.fullmatch(text)
    if found:
        day, month, year = map(int, found.groups())
        return date(year, month, day)
    if ISO_DIA.fullmatch(text):
        return date.fromisoformat(text)
    raise ValueError(f"fecha no legible: {text!r}")


def rfc3339_as_iso(text: str) -> str:
    """An RFC 3339 date-time as Python's ISO reader takes it; any other text unchanged."""
    found = RFC3339.fullmatch(text)
    if found is None:
        return text
    start, second, fraction, zone = found.groups()
    second = "59" if second == "60" else second
    return f"{start.upper()}{second}{fraction or ''}{zone.upper()}"


def read_moment(text: str, *, iso_only: bool) -> datetime:
    """``dd/mm/aaaa hh:mm`` (naive: Bogotá time) or ISO 8601 / RFC 3339 (aware when it has an
    offset); ISO only for the API. ValueError for anything else."""
    text = text.strip()
    found = None if iso_only else DIA_HORA.fullmatch(text)
    if found:
        day, month, year, hour, minute = map(int, found.groups())
        return datetime(year, month, day, hour, minute)
    if DIA.fullmatch(text):  # a day without its time: never midnight by surprise
        raise ValueError(f"falta la hora: {text!r}")
    return datetime.fromisoformat(rfc3339_as_iso(text))


def as_utc(moment: datetime) -> datetime:
    """A moment as stored (naive UTC); a naive one is Bogotá time. ValueError past year 9999."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BOGOTA)
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31T23:59 in Bogotá is in year 10000 in UTC: no such date
        raise ValueError(f"fuera del calendario: {moment!r}") from None


def iso_only(field_or_form) -> bool:
    """Whether a form (or one of its fields) was bound from JSON: its dates are ISO only."""
    return bool(getattr(field_or_form.meta, "iso_dates", False))


class FechaInput(TextInput):
    """A text box with the Spanish date picker (Flask-Admin's form.js: ``data-role``), never the
    browser's native date input, whose format follows the browser's language (mm/dd/yyyy)."""

    def __init__(self, picker: str = PICKER_FECHA, role: str = "datepicker", placeholder: str = "dd/mm/aaaa"):
        super().__init__()
        self.picker, self.role, self.placeholder = picker, role, placeholder

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("data-role", self.role)
        kwargs.setdefault("data-date-format", self.picker)
        kwargs.setdefault("placeholder", self.placeholder)
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("inputmode", "numeric")
        return super().__call__(field, **kwargs)


class FechaField(DateField):
    """A calendar date typed ``dd/mm/aaaa`` (or ISO) in the panel, ISO in the API; shown
    ``dd/mm/aaaa``. Still a DateField: the API's schema reads it as ``format: date``."""

    widget = FechaInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        if not text:
            self.data = None
            return
        try:
            self.data = read_date(text, iso_only=iso_only(self))
        except ValueError:
            self.data = None
            raise ValueError(ESCRIBA_FECHA_ISO if iso_only(self) else ESCRIBA_FECHA) from None

    def _value(self) -> str:
        """What the box shows: the date as the panel writes it, or what was typed if unreadable."""
        if self.data is not None:
            return formatting.day(self.data)
        return " ".join(self.raw_data) if self.raw_data else ""
