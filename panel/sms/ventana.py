"""The contact window of Ley 2300 de 2023, art. 3: when a commercial SMS may reach a person.

Monday to Friday [07:00, 19:00), Saturday [08:00, 15:00), never on Sundays or Colombian public
holidays (the ``holidays`` package, country CO, Ley Emiliani moves included), in America/Bogota.
A tenant may narrow the window (later start, earlier end, fewer days), never widen it. Every
function takes the moment explicitly (from ``panel.clock``), so tests control time.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays
from babel.dates import format_datetime

from ..clock import BOGOTA
from ..formatting import local

# weekday() → (opening, closing); Sunday (6) is absent: never.
LEGAL: dict[int, tuple[time, time]] = {
    **{d: (time(7), time(19)) for d in range(5)},
    5: (time(8), time(15)),
}
SEARCH_DAYS = 40  # a window always opens within this many days (holidays never run that long)
WIDER = "La ventana de envío solo puede reducirse dentro de los límites de la ley."


class VentanaError(ValueError):
    """A tenant window that would widen the law's."""


@cache
def _festivos(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CO", years=year, language="es")


def festivo(day: date) -> str | None:
    """The name of the Colombian public holiday on ``day``, or None."""
    return _festivos(day.year).get(day)


@dataclass(frozen=True)
class Ventana:
    """Opening hours per weekday (Bogotá time); the legal ones unless a tenant narrowed them."""

    horas: dict[int, tuple[time, time]] = field(default_factory=lambda: dict(LEGAL))

    def __post_init__(self) -> None:
        for day, (start, end) in self.horas.items():
            legal = LEGAL.get(day)
            if legal is None or start < legal[0] or end > legal[1] or start >= end:
                raise VentanaError(WIDER)

    def _interval(self, day: date) -> tuple[datetime, datetime] | None:
        """Today's [open, close) in Bogotá, or None when nothing may be sent that day."""
        hours = self.horas.get(day.weekday())
        if hours is None or festivo(day):
            return None
        return (datetime.combine(day, hours[0], BOGOTA), datetime.combine(day, hours[1], BOGOTA))

    def is_open(self, moment: datetime) -> bool:
        """May a commercial SMS be handed to Twilio at ``moment``?"""
        now = local(moment)
        interval = self._interval(now.date())
        return interval is not None and interval[0] <= now < interval[1]

    def closing(self, moment: datetime) -> datetime | None:
        """When the window open at ``moment`` closes (None when it is closed)."""
        now = local(moment)
        interval = self._interval(now.date())
        return interval[1] if interval and interval[0] <= now < interval[1] else None

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself when the window is open, else the next time it opens (Bogotá)."""
        now = local(moment)
        for offset in range(SEARCH_DAYS):
            interval = self._interval(now.date() + timedelta(days=offset))
            if interval and now < interval[1]:
                return max(now, interval[0])
        raise VentanaError("La ventana de envío no abre en los próximos días.")

    def fits(self, start: datetime, rate: float) -> int | None:
        """How many messages fit, at ``rate`` per second, from ``start`` to the close of the
        window ``start`` falls in (or the next one that day); None: no limit of rate."""
        if not rate:
            return None
        opening = self.next_opening(start)
        close = self.closing(opening)
        if local(opening).date() != local(start).date():
            return 0
        return int((close - opening).total_seconds() * rate)

    def finish(self, start: datetime, n: int, rate: float) -> datetime:
        """When ``n`` messages sent at ``rate`` per second from ``start`` end, window after window."""
        moment = self.next_opening(start)
        remaining = n / rate if rate else 0.0
        while True:
            close = self.closing(moment)
            span = (close - moment).total_seconds()
            if remaining <= span:
                return moment + timedelta(seconds=remaining)
            remaining -= span
            moment = self.next_opening(close)


LEGAL_WINDOW = Ventana()


def _spoken(moment: datetime) -> str:
    return format_datetime(local(moment), "EEEE d 'de' MMMM 'a las' HH:mm", locale="es_CO")


def describe_start(moment: datetime) -> str:
    """'se enviará a partir del lunes 7 de diciembre a las 07:00' (Spanish, Bogotá time)."""
    return f"se enviará a partir del {_spoken(moment)}"


def describe_end(moment: datetime) -> str:
    """'terminará hacia el lunes 7 de diciembre a las 09:30' (Spanish, Bogotá time)."""
    return f"terminará hacia el {_spoken(moment)}"
