"""What a bulk action acts on: the rows ticked on the page, or every row matching the list's
search and filters ("Seleccionar los N resultados"). Both are plain WHERE clauses that the
tenancy hook narrows to the user's tenant: forged or other tenants' ids simply match nothing."""

import re
from dataclasses import dataclass

import sqlalchemy as sa

from .extensions import db
from .models import Cliente

MAX_IDS = 10_000  # beyond a page or two, "all matching" is the way
HISTORY_IDS = 200  # how many ids a history entry keeps
MAX_ID = 2**31 - 1  # an INTEGER key on both engines; PostgreSQL refuses a bigger literal
_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() accepts '²', which int() refuses


def as_id(value) -> int | None:
    """A posted id as a positive INTEGER key, or None when it cannot be one."""
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_ids(values) -> list[int]:
    """Positive integer ids, deduplicated, in order; anything else is dropped."""
    ids: dict[int, None] = {}
    for raw in values:
        for part in str(raw).split(","):
            if (number := as_id(part)) is not None:
                ids[number] = None
    return list(ids)[:MAX_IDS]


@dataclass(frozen=True)
class Seleccion:
    """A selection of clients: explicit ids, or all the rows matching ``filtros``."""

    ids: tuple[int, ...] = ()
    todos: bool = False
    filtros: str = ""

    @classmethod
    def from_form(cls, form) -> "Seleccion":
        if form.get("todos") == "1":
            return cls(todos=True, filtros=form.get("filtros", ""))
        return cls(ids=tuple(parse_ids(form.getlist("rowid"))))

    def where(self):
        """The WHERE clause over Cliente (tenant criteria are added by the hook)."""
        if not self.todos:
            return Cliente.id_cliente.in_(self.ids) if self.ids else sa.false()
        from .admin.clientes_filtros import matching_clientes

        clause = matching_clientes(self.filtros).whereclause
        return sa.true() if clause is None else clause

    def count(self) -> int:
        return db.session.scalar(sa.select(sa.func.count(Cliente.id_cliente)).where(self.where()))

    def visible_ids(self) -> list[int]:
        stmt = sa.select(Cliente.id_cliente).where(self.where()).order_by(Cliente.id_cliente)
        return list(db.session.scalars(stmt))

    def describe(self) -> dict:
        """What the history keeps of the selection."""
        if self.todos:
            return {"seleccion": "todos", "filtros": self.filtros}
        return {"seleccion": "ids", "ids": list(self.ids[:HISTORY_IDS])}
