"""The Email rule's domain check, remembered per process (panel/correo.py): the same answers as
email-validator's own function, each domain checked once."""

import pytest
from email_validator import EmailNotValidError, validate_email

from panel import correo
from panel.forms import cliente_form

DOMINIOS = [
    "correo.co",
    "gmail.com",
    "Correo.CO",
    "ñandú.com.co",
    "xn--and-6ma2c.co",
    "sin-punto",
    "-guion.co",
    "a..b.co",
    "localhost",
    "ejemplo.invalid",
    "d" * 64 + ".co",
    "correo.co.",
]


def answer(address: str):
    """What validate_email says of an address: its normalized form, or its error's words."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return f"error: {exc}"


@pytest.fixture
def remembered():
    recordada = correo._modulo.validate_email_domain_name
    assert hasattr(recordada, "cache_info"), f"{cliente_form.__name__} wraps it when imported"
    yield recordada
    correo._modulo.validate_email_domain_name = recordada


def test_remembered_answers_are_the_librarys_own(remembered):
    ours = [answer(f"ana@{d}") for d in DOMINIOS]
    assert any(a.startswith("error:") for a in ours) and any("@" in a for a in ours)  # both kinds
    correo._modulo.validate_email_domain_name = remembered.__wrapped__  # the library as shipped
    assert [answer(f"ana@{d}") for d in DOMINIOS] == ours


def test_a_domain_is_checked_once_for_many_addresses(remembered):
    remembered.cache_clear()
    for i in range(50):
        assert answer(f"cliente{i}@correo.co") == f"cliente{i}@correo.co"
    assert remembered.cache_info().misses == 1 and remembered.cache_info().hits == 49


def test_wrapping_twice_keeps_one_cache(remembered):
    correo.remember_domains()
    assert correo._modulo.validate_email_domain_name is remembered
