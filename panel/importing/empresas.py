"""The empresas a file names that the tenant does not have yet (SPEC §17): each created once,
however many rows name it, with its NIT when the file gives one (checked by the one NIT rule,
panel/identificacion.py), when the confirmed import writes its first row that needs it."""

from dataclasses import dataclass

import sqlalchemy as sa

from .. import text
from ..clock import utcnow
from ..models import Empresa

MAX_NOMBRE = 120  # Empresa.nombre


@dataclass(eq=False)
class Nueva:
    nombre: str
    nit: str | None = None  # compact, with its verification digit
    id: int | None = None  # once written
    nit_escrito: str | None = None  # the NIT written with it (a later chunk may give it one)


class Nuevas:
    """The empresas to create, found by name or by NIT (a razón social spelled two ways with one
    NIT is one empresa; the first spelling names it)."""

    def __init__(self):
        self.por_nombre: dict[str, Nueva] = {}
        self.por_nit: dict[str, Nueva] = {}

    def named(self, nombre: str, nit: str | None) -> Nueva:
        nueva = (nit and self.por_nit.get(nit)) or self.por_nombre.get(text.fold(nombre))
        if nueva is None:
            nueva = Nueva(nombre, nit)
            self.por_nombre[text.fold(nombre)] = nueva
        if nueva.nit is None and nit:
            nueva.nit = nit  # a later row gives the NIT the first one left blank
        if nueva.nit:
            self.por_nit.setdefault(nueva.nit, nueva)
        return nueva

    def create(self, conn, filas, tenant: int) -> None:
        """Write the empresas the chunk's valid rows need (in the chunk's transaction) and give
        those rows their id."""
        needed = {f.empresa_nueva for f in filas if f.valores is not None and f.empresa_nueva}
        if not needed:
            return
        self._forget_rolled_back(conn, [n for n in needed if n.id is not None])
        table, now = Empresa.__table__, utcnow()
        # Each NIT read once into ``nit``: the next chunk's rows are read in another thread while
        # this one is written (service._chunks) and may give a blank NIT its value meanwhile; what
        # is recorded as written must be what was written, or that value would never be.
        for nueva in sorted((n for n in needed if n.id is None), key=lambda n: n.nombre):
            nit = nueva.nit
            nueva.id = conn.execute(
                table.insert()
                .values(nombre=nueva.nombre, nit=nit, id_propietario=tenant, creado=now)
                .returning(table.c.id)
            ).scalar_one()  # not added to the catalogue: later rows find it here, by name or NIT
            nueva.nit_escrito = nit
        for nueva in needed:
            nit = nueva.nit
            if nit != nueva.nit_escrito:  # created by an earlier chunk, whose rows had no NIT
                conn.execute(table.update().where(table.c.id == nueva.id).values(nit=nit))
                nueva.nit_escrito = nit
        for fila in filas:
            if fila.valores is not None and fila.empresa_nueva:
                fila.valores["id_empresa"] = fila.empresa_nueva.id

    @staticmethod
    def _forget_rolled_back(conn, written: list[Nueva]) -> None:
        """A chunk retried row by row after a rollback: the empresas it wrote are gone again."""
        if not written:
            return
        table = Empresa.__table__
        there = set(conn.scalars(sa.select(table.c.id).where(table.c.id.in_([n.id for n in written]))))
        for nueva in written:
            if nueva.id not in there:
                nueva.id = nueva.nit_escrito = None
