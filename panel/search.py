"""How the search box finds clients: the one definition for the panel list, "all matching"
selections, exports and the API's ``?search=``.

Every word must appear somewhere in the cédula, names, e-mail or phone, ignoring case and
accents: the words are folded (panel/text.py) and compared with ``Cliente.busqueda``, the same
text folded the same way on every save. A query typed as a phone (``+57 300 123 4567``) is
searched as its digits. On PostgreSQL a trigram index on ``busqueda`` (pg_trgm, migration
0010) makes ``LIKE '%word%'`` over a million rows an index lookup; SQLite scans.
"""

from . import text
from .models import Cliente

MAX_WORDS = 8
MAX_WORD = 100


def _escaped(word: str) -> str:
    return word[:MAX_WORD].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_words(query: str | None) -> list[str]:
    """The folded words of a query (a phone-like query is one word: its digits)."""
    query = (query or "").strip()
    if text.looks_like_phone(query):
        return [text.digits(query)]
    return [w for w in text.fold(query).split()[:MAX_WORDS] if w]


def search_conditions(query: str | None) -> list:
    """One condition per word of ``query`` (at most MAX_WORDS): all of them must hold."""
    return [Cliente.busqueda.like(f"%{_escaped(w)}%", escape="\\") for w in search_words(query)]
