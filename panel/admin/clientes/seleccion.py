"""What a bulk action acts on: the rows ticked on the page, or every row matching the list's
search and filters ("Seleccionar los N resultados"). Both are plain WHERE clauses that the
tenancy hook narrows to the user's tenant: forged or other tenants' ids simply match nothing."""

from dataclasses import dataclass

import sqlalchemy as sa

from ...extensions import db
from ...ids import parse_ids
from ...models import Cliente
from .filtros import matching_clientes

HISTORY_IDS = 200  # how many ids a history entry keeps


@dataclass(frozen=True)
class Seleccion:
    """A selection of clients: explicit ids, or all the rows matching ``filtros``."""

    ids: tuple[int, ...] = ()
    todos: bool = False
    filtros: str = ""

    @classmethod
    def from_values(cls, values) -> "Seleccion":
        """From a posted form or a query string: ``todos=1`` with the list's ``filtros``, else the
        ticked ``rowid``s and/or ``ids=1,2,3`` (forged or malformed ids are dropped)."""
        if values.get("todos") == "1":
            return cls(todos=True, filtros=values.get("filtros", ""))
        return cls(ids=tuple(parse_ids([*values.getlist("rowid"), values.get("ids", "")])))

    def where(self):
        """The WHERE clause over Cliente (tenant criteria are added by the hook)."""
        if not self.todos:
            return Cliente.id_cliente.in_(self.ids) if self.ids else sa.false()
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
