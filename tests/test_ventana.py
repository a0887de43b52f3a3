"""The contact window of Ley 2300 de 2023 (art. 3), in Bogotá time, with Colombian holidays."""

from datetime import UTC, datetime, time

import pytest

from panel.formatting import BOGOTA
from panel.sms.ventana import LEGAL, LEGAL_WINDOW, Ventana, VentanaError, describe_start, festivo


def bogota(*args) -> datetime:
    return datetime(*args, tzinfo=BOGOTA)


@pytest.mark.parametrize(
    "moment,open_",
    [
        (bogota(2026, 12, 1, 6, 59), False),  # Tuesday, before 07:00
        (bogota(2026, 12, 1, 7, 0), True),  # half-open: 07:00 is in
        (bogota(2026, 12, 1, 18, 59), True),
        (bogota(2026, 12, 1, 19, 0), False),  # 19:00 is out
        (bogota(2026, 12, 5, 7, 30), False),  # Saturday opens at 08:00
        (bogota(2026, 12, 5, 8, 0), True),
        (bogota(2026, 12, 5, 15, 0), False),  # Saturday closes at 15:00
        (bogota(2026, 12, 6, 10, 0), False),  # Sunday: never
        (bogota(2026, 12, 8, 10, 0), False),  # Tuesday 8 December: La Inmaculada Concepción
        (bogota(2026, 1, 12, 10, 0), False),  # Monday: Reyes Magos moved by the Ley Emiliani
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), True),  # 18:30 in Bogotá
        (datetime(2026, 12, 2, 0, 30), False),  # naive UTC as stored: 19:30 in Bogotá
    ],
)
def test_the_legal_window(moment, open_):
    assert LEGAL_WINDOW.is_open(moment) is open_


def test_the_next_opening_skips_sundays_and_holidays():
    saturday_night = bogota(2026, 12, 5, 23, 0)
    assert LEGAL_WINDOW.next_opening(saturday_night) == bogota(2026, 12, 7, 7, 0)
    monday_night = bogota(2026, 12, 7, 20, 0)  # Tuesday 8 is a holiday
    assert LEGAL_WINDOW.next_opening(monday_night) == bogota(2026, 12, 9, 7, 0)
    open_now = bogota(2026, 12, 9, 10, 15)
    assert LEGAL_WINDOW.next_opening(open_now) == open_now
    assert LEGAL_WINDOW.closing(open_now) == bogota(2026, 12, 9, 19, 0)
    assert LEGAL_WINDOW.closing(saturday_night) is None


def test_the_review_says_when_sending_starts():
    assert (
        describe_start(bogota(2026, 12, 7, 7, 0))
        == "se enviará a partir del lunes 7 de diciembre a las 07:00"
    )


def test_a_tenant_may_narrow_the_window_never_widen_it():
    narrow = Ventana({d: (time(9), time(17)) for d in range(5)})  # no Saturdays, shorter days
    assert not narrow.is_open(bogota(2026, 12, 1, 8, 0)) and narrow.is_open(bogota(2026, 12, 1, 9, 0))
    assert not narrow.is_open(bogota(2026, 12, 5, 10, 0))
    for wider in ({0: (time(6), time(19))}, {5: (time(8), time(16))}, {6: (time(9), time(12))}):
        with pytest.raises(VentanaError, match="solo puede reducirse"):
            Ventana({**LEGAL, **wider})


def test_holidays_come_from_the_holidays_package_in_spanish():
    assert festivo(bogota(2026, 12, 25).date()) == "Navidad"
    assert festivo(bogota(2026, 12, 1).date()) is None
