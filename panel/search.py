"""How the search box finds clients: the one definition for the panel list, "all matching"
selections, exports and the API's ``?search=``.

Every word must appear somewhere in the cédula, names, e-mail or phone (case-insensitive).
The five columns are searched as ONE text, ``SEARCH_TEXT``, so that on PostgreSQL one trigram
index (pg_trgm, migration 0006) serves any word: ``ILIKE '%word%'`` over a million rows is an
index lookup instead of a scan. The separators are literals, not bound parameters, or the
planner could not match the expression to the index's.
"""

import sqlalchemy as sa

from .models import Cliente

MAX_WORDS = 8
MAX_WORD = 100

_SPACE, _EMPTY = sa.literal_column("' '"), sa.literal_column("''")
SEARCH_TEXT = (
    Cliente.cedula_cliente
    + _SPACE
    + Cliente.nombre_cliente
    + _SPACE
    + sa.func.coalesce(Cliente.apellido_cliente, _EMPTY)
    + _SPACE
    + sa.func.coalesce(Cliente.email, _EMPTY)
    + _SPACE
    + sa.func.coalesce(Cliente.telefono, _EMPTY)
)


def _escaped(word: str) -> str:
    return word[:MAX_WORD].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_conditions(text: str | None) -> list:
    """One condition per word of ``text`` (at most MAX_WORDS): all of them must hold."""
    return [SEARCH_TEXT.ilike(f"%{_escaped(w)}%", escape="\\") for w in (text or "").split()[:MAX_WORDS]]
