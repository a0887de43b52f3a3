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


def fold(text: str | None) -> str:
    """'  José  MARTÍNEZ ' → 'jose martinez'; 'ñ' becomes 'n' too (it carries a tilde)."""
    if not text:
        return ""
    if text.isascii():  # NFKD leaves ASCII as it is, and no ASCII character combines
        bare = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare).strip().lower()


def digits(text: str | None) -> str:
    return _NOT_DIGIT.sub("", text or "")


def looks_like_phone(text: str) -> bool:
    """A query typed as a phone number (spaces, dashes, a +): searched as its digits."""
    return bool(_PHONE.fullmatch(text.strip())) and len(digits(text)) >= 7
