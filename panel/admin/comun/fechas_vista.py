"""Dates in every model view: a date column's form field and the list's date filters read what
staff type (``dd/mm/aaaa``, ``dd/mm/aaaa hh:mm`` in Bogotá: ``forms/fechas.py``) and still ISO
(a link or bookmark written before). Flask-Admin's own read ISO only, and its date-time filters
compared the typed time with the stored UTC one as if they were the same clock."""

from flask_admin.contrib.sqla import filters as F  # noqa: N812
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts

from ...forms import fechas

SEPARADORES = (" a ", " to ")  # the panel's picker writes « a »; Flask-Admin's links « to »


def _range(value: str, read) -> list:
    """'dd/mm/aaaa a dd/mm/aaaa' (or Flask-Admin's ' to ') as two values, the first not later."""
    for separador in SEPARADORES:
        if separador in value:
            start, end = (read(part) for part in value.split(separador, 1))
            if start > end:
                raise ValueError("el rango termina antes de empezar")
            return [start, end]
    raise ValueError(f"no es un rango: {value!r}")


def _day(value: str):
    return fechas.read_date(value, iso_only=False)


def _moment(value: str):
    """A typed Bogotá time as stored (naive UTC)."""
    return fechas.as_utc(fechas.read_moment(value, iso_only=False))


class _Dia:
    def clean(self, value):
        return _day(value)


class _DiaHora:
    def clean(self, value):
        return _moment(value)


class _Rango:
    read = staticmethod(_day)

    def clean(self, value):
        return _range(value, self.read)

    def validate(self, value) -> bool:
        try:
            self.clean(value)
        except ValueError:
            return False
        return True


class _RangoHora(_Rango):
    read = staticmethod(_moment)


def _typed(base, reader):
    """Flask-Admin's filter ``base`` (its query, its operation's name) reading as ``reader``."""
    return type(base.__name__, (reader, base), {})


class FiltrosConFecha(F.FilterConverter):
    """Flask-Admin's filters, with its date and date-time ones reading the panel's formats."""

    date_filters = (
        _typed(F.DateEqualFilter, _Dia),
        _typed(F.DateNotEqualFilter, _Dia),
        _typed(F.DateGreaterFilter, _Dia),
        _typed(F.DateSmallerFilter, _Dia),
        _typed(F.DateBetweenFilter, _Rango),
        _typed(F.DateNotBetweenFilter, _Rango),
        F.FilterEmpty,
    )
    datetime_filters = (
        _typed(F.DateTimeEqualFilter, _DiaHora),
        _typed(F.DateTimeNotEqualFilter, _DiaHora),
        _typed(F.DateTimeGreaterFilter, _DiaHora),
        _typed(F.DateTimeSmallerFilter, _DiaHora),
        _typed(F.DateTimeBetweenFilter, _RangoHora),
        _typed(F.DateTimeNotBetweenFilter, _RangoHora),
        F.FilterEmpty,
    )


class FormularioConFecha(AdminModelConverter):
    """A date column in a model view's form: the panel's text box with the Spanish picker."""

    @converts("Date")
    def convert_date(self, field_args, **extra):
        return fechas.FechaField(**field_args)
