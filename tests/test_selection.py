"""Posted ids: only what can be an INTEGER key gets near the database."""

import pytest

from panel.ids import as_id, parse_ids


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("7", 7),
        (" 12 ", 12),
        ("2147483647", 2**31 - 1),
        ("2147483648", None),
        ("99999999999999999999", None),
        ("0", None),
        ("-3", None),
        ("²", None),
        ("٣", None),
        ("1e3", None),
        ("", None),
        ("3\n", 3),
        ("1.0", None),
    ],
)
def test_as_id_accepts_only_positive_integer_keys(raw, expected):
    assert as_id(raw) == expected


def test_parse_ids_keeps_valid_ids_once_and_in_order():
    assert parse_ids(["3,1", "x", "3", "²", "2147483648", "2"]) == [3, 1, 2]


def test_an_exotic_digit_in_a_bulk_action_is_ignored_not_a_500(client, tenants):
    from .helpers import csrf_of, login

    login(client, tenants.admin_a.email)
    token = csrf_of(client)
    for url, rowid in (("/admin/empresas/action/", "²"), ("/admin/clientes/action/", "2147483648")):
        answer = client.post(
            url,
            data={
                "action": "delete" if "empresas" in url else "activar",
                "rowid": rowid,
                "csrf_token": token,
            },
        )
        assert answer.status_code in (200, 302)
