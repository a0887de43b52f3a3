"""Text as the search compares it: lower case, without accents, phones as their digits.

Pure functions on the ground floor: the model derives ``Cliente.busqueda`` with them on every
save, and the search box folds what the user types the same way, so "garcia" finds García and
"MARTÍNEZ" finds Martínez on SQLite and PostgreSQL alike (no collation or extension needed).
"""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")
_PHONE = re.compile(r"\+?[\d\s().-]{7,}")  # what a person types as a phone: +57 300 123 4567


class _Bare(dict):
    """A character → its NFKD decomposition without combining marks, worked out on first use.
    Per character is the same as per text: NFKD decomposes each character on its own, and its
    one step across characters (reordering combining marks) only moves marks that are dropped."""

    def __missing__(self, code: int) -> str:
        bare = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if len(self) < MAX_BARE:  # a hostile text of many scripts cannot grow it without end
            self[code] = bare
        return bare


MAX_BARE = 8192
_BARE = _Bare()


def fold(text: str | None) -> str:
    """'  José  MARTÍNEZ ' → 'jose martinez'; 'ñ' becomes 'n' too (it carries a tilde)."""
    if not text:
        return ""
    # ASCII is its own decomposition; other text character by character through a table (the
    # search text of every imported row: a generator per character was a tenth of the preview).
    bare = text if text.isascii() else text.translate(_BARE)
    return _SPACES.sub(" ", bare).strip().lower()


def digits(text: str | None) -> str:
    return _NOT_DIGIT.sub("", text or "")


def looks_like_phone(text: str) -> bool:
    """A query typed as a phone number (spaces, dashes, a +): searched as its digits."""
    return bool(_PHONE.fullmatch(text.strip())) and len(digits(text)) >= 7
