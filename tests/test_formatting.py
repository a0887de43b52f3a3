"""formatting.py: dates in Bogotá, pesos as Colombians write them, labels for codes."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from panel import clock, formatting


@pytest.mark.parametrize(
    "amount,expected",
    [
        (1782000, "$ 1.782.000"),
        (Decimal("1782000.00"), "$ 1.782.000"),
        (Decimal("1782000.5"), "$ 1.782.000,50"),
        (Decimal("749.50"), "$ 749,50"),
        (0, "$ 0"),
        (Decimal("-3000"), "-$ 3.000"),
        (None, ""),
    ],
)
def test_money_in_pesos(amount, expected):
    assert formatting.money(amount) == expected


def test_times_are_shown_in_bogota_without_seconds():
    stored = datetime(2026, 12, 1, 6, 50, 25, 481538)  # naive UTC, as the database returns it
    assert formatting.date_time(stored) == "01/12/2026 01:50"
    assert formatting.day(stored) == "01/12/2026"
    assert formatting.day(date(2026, 1, 9)) == "09/01/2026"


def test_exports_and_the_api_carry_bogota_time_with_its_offset():
    stored = datetime(2026, 12, 1, 13, 5, 9, 123)
    assert formatting.export_time(stored) == "2026-12-01 08:05:09-05:00"
    assert formatting.iso(stored) == "2026-12-01T08:05:09.000123-05:00"


@pytest.mark.parametrize(
    "kind,code,label",
    [
        ("estado_entrega", "delivered", "Entregado"),
        ("estado_entrega", "undelivered", "No entregado"),
        ("estado_sms", "enviado", "Enviado"),
        ("modelo", "PlantillaSMS", "Plantilla SMS"),
        ("estado_cliente", 3, "Deshabilitado"),
        ("estado_entrega", "algo-nuevo", "algo-nuevo"),
    ],
)
def test_codes_are_shown_by_their_labels(kind, code, label):
    assert formatting.label(kind, code) == label


def test_today_is_the_date_in_bogota_not_in_utc():
    """At 03:00 UTC it is still the evening before in Bogotá: "today" (a birth date must come
    before it, the demo's campaigns count from it) is Bogotá's date, read through the one clock."""
    with time_machine.travel(datetime(2026, 12, 6, 6, 0, tzinfo=UTC), tick=False):
        assert clock.today() == date(2026, 12, 6)
    with time_machine.travel(datetime(2026, 12, 6, 3, 0, tzinfo=UTC), tick=False):
        assert clock.today() == date(2026, 12, 5)


def test_a_rate_reads_as_a_percentage_with_one_decimal_at_most():
    assert formatting.percent(0.125) == "12,5 %"
    assert formatting.percent(1) == "100 %"
    assert formatting.percent(2 / 3) == "66,7 %"
    assert formatting.percent(0) == "0 %"
    assert formatting.percent(None) == "—"  # a rate over nothing
