"""Ids as they come in (a form, a query string, a JSON body, a webhook): the ground floor.

One rule everywhere: only what can be a positive INTEGER key reaches the database; anything
else is "no such row" (``as_id``) or, in a form's choice field, "not a valid choice".
"""

import re

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # an INTEGER key on both engines; PostgreSQL refuses a bigger literal
MAX_IDS = 10_000  # beyond a page or two of ticked rows, "all matching" is the way
_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() accepts '²', which int() refuses
_INTEGER = re.compile(r"-?[0-9]{1,10}")  # compiled once: every choice of every imported row
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
    panel/error_pages.py, JSON on API paths) instead of reaching the database (PostgreSQL's
    "integer out of range", SQLite's OverflowError). Registered in ``create_app`` before any
    route, so every ``<int:…>`` rule, present and future, uses it."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)
        # The range in the pattern itself, not only in to_python: Werkzeug answers 405 (not 404)
        # when a value its pattern takes is refused by a rule that has the method (DELETE /0/).
        self.regex = up_to(max)


def up_to(number: int) -> str:
    """A pattern of the decimal integers 1..``number`` without leading zeros (2147483647:
    [1-9][0-9]{0,8}, the ten-digit ones below it by prefix, …|214748364[0-6], 2147483647)."""
    text, parts = str(number), []
    if len(text) > 1:
        parts.append(f"[1-9][0-9]{{0,{len(text) - 2}}}")
    for i, digit in enumerate(text):
        low, high, rest = (1 if i == 0 else 0), int(digit) - 1, len(text) - i - 1
        if high >= low:
            parts.append(text[:i] + f"[{low}-{high}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


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
        if not _INTEGER.fullmatch(text):
            return value
        number = int(text)
    return number if -MAX_ID - 1 <= number <= MAX_ID else value


def coerce_optional_choice(value):
    """As :func:`coerce_choice`, with a blank value meaning "none"."""
    return None if value in BLANK else coerce_choice(value)
