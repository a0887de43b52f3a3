"""How the search box finds clients: the one definition for the panel list, "all matching"
selections, exports and the API's ``?search=``.

Every word must appear somewhere in the cédula, names, e-mail or phone, ignoring case and
accents: the words are folded (panel/text.py) and compared with ``Cliente.busqueda``, the same
text folded the same way on every save. A query typed as a phone (``+57 300 123 4567``) is
searched as its digits; a document typed with dots or dashes (``1.020.304``, ``900.123.456-8``,
``ab-123``) as the stored compact form, which is in the text with and without a NIT's digit.
On PostgreSQL a trigram index on ``busqueda`` (pg_trgm, migration 0010) makes ``LIKE '%word%'``
over a million rows an index lookup; SQLite scans.
"""

import re

from . import text
from .models import Cliente

MAX_WORDS = 8
MAX_WORD = 100
# Letters and digits between dots or dashes, with a digit somewhere: a document as people write it.
_DOCUMENT = re.compile(r"(?=[^@]*\d)[0-9a-z]+(?:[.\-][0-9a-z]+)+")


def _escaped(word: str) -> str:
    return word[:MAX_WORD].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_words(query: str | None) -> list[str]:
    """The folded words of a query (a phone-like query is one word: its digits)."""
    query = (query or "").strip()
    if text.looks_like_phone(query):
        return [text.digits(query)]
    return [_compact(w) for w in text.fold(query).split()[:MAX_WORDS] if w]


def _compact(word: str) -> str:
    """'1.020.304' → '1020304', 'ab-123' → 'ab123': a document's number as stored (folded)."""
    return re.sub(r"[.\-]", "", word) if _DOCUMENT.fullmatch(word) else word


def search_conditions(query: str | None) -> list:
    """One condition per word of ``query`` (at most MAX_WORDS): all of them must hold."""
    return [Cliente.busqueda.like(f"%{_escaped(w)}%", escape="\\") for w in search_words(query)]
