"""Ids as they come in (a form, a query string, a JSON body, a webhook): the ground floor.

One rule everywhere: only what can be a positive INTEGER key reaches the database; anything
else is "no such row" (``as_id``) or, in a form's choice field, "not a valid choice".
"""

import re

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # an INTEGER key on both engines; PostgreSQL refuses a bigger literal
MAX_IDS = 10_000  # beyond a page or two of ticked rows, "all matching" is the way
_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() accepts '²', which int() refuses
BLANK = (None, "", "None", "null")


def as_id(value) -> int | None:
    """A posted id as a positive INTEGER key, or None when it cannot be one."""
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


class IdConverter(IntegerConverter):
    """The app's ``<int:…>``: a path segment is an id only when ``as_id`` takes it, so zero,
    negatives, other scripts' digits and numbers above INTEGER match no route (the 404 of
    panel/errors.py, JSON on API paths) instead of reaching the database (PostgreSQL's
    "integer out of range", SQLite's OverflowError). Registered in ``create_app`` before any
    route, so every ``<int:…>`` rule, present and future, uses it."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def parse_ids(values) -> list[int]:
    """Positive integer ids (comma-separated or one per value), deduplicated, in order;
    anything else is dropped."""
    ids: dict[int, None] = {}
    for raw in values:
        for part in str(raw).split(","):
            if (number := as_id(part)) is not None:
                ids[number] = None
    return list(ids)[:MAX_IDS]


def coerce_choice(value):
    """A choice field's coercion: an integer within INTEGER range, else the value unchanged so
    that validation refuses it as "not a valid choice" (never a 500, never a silent default)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        if not re.fullmatch(r"-?[0-9]{1,10}", text):
            return value
        number = int(text)
    return number if -MAX_ID - 1 <= number <= MAX_ID else value


def coerce_optional_choice(value):
    """As :func:`coerce_choice`, with a blank value meaning "none"."""
    return None if value in BLANK else coerce_choice(value)
