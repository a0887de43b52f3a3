"""What an import looks names up in, loaded once per import through the tenant-scoped ORM:
países, ciudades, and the tenant's empresas and campañas (another tenant's names do not
exist here), plus the choice lists ``ClienteForm`` validates against."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import text
from ..extensions import db
from ..models import CampanaPublicitaria, Ciudad, Cliente, Empresa, Pais


def _rows(*columns) -> list[tuple]:
    """Plain tuples of a scoped SELECT (``dict()`` of a Result would read it as a mapping)."""
    return [tuple(row) for row in db.session.execute(sa.select(*columns))]


@dataclass
class Catalogo:
    paises: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (nombre, iso)
    ciudades: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (nombre, id_pais)
    empresas: dict[int, str] = field(default_factory=dict)
    campanas: dict[int, str] = field(default_factory=dict)
    cedulas: dict[tuple[str, str], int] = field(default_factory=dict)  # (tipo, número) → id_cliente
    _by_name: dict[str, dict] = field(default_factory=dict)
    # The Pais and Ciudad rows themselves, held so that the session's (weak) identity map keeps
    # them: ClienteForm's cross-field rules look them up with session.get, which then needs no SQL.
    _held: list = field(default_factory=list)

    @classmethod
    def load(cls) -> "Catalogo":
        """Everything, in a handful of queries (the scope in force is the tenant imported into)."""
        cat = cls(
            paises={i: (n, iso) for i, n, iso in _rows(Pais.id, Pais.nombre, Pais.codigo_iso)},
            ciudades={i: (n, p) for i, n, p in _rows(Ciudad.id, Ciudad.nombre, Ciudad.id_pais)},
            empresas=dict(_rows(Empresa.id, Empresa.nombre)),
            campanas=dict(_rows(CampanaPublicitaria.id, CampanaPublicitaria.nombre)),
            cedulas={
                (t, n): i
                for t, n, i in _rows(Cliente.tipo_documento, Cliente.cedula_cliente, Cliente.id_cliente)
            },
        )
        cat._held = [*db.session.scalars(sa.select(Pais)), *db.session.scalars(sa.select(Ciudad))]
        cat._index()
        return cat

    def _index(self) -> None:
        """Folded names → ids (the lowest id wins a name used twice)."""

        def names(pairs):
            index: dict[str, int] = {}
            for i, nombre in sorted(pairs):
                index.setdefault(text.fold(nombre), i)
            return index

        ciudades: dict[tuple[str, int], int] = {}
        for i, (nombre, pais) in sorted(self.ciudades.items()):
            ciudades.setdefault((text.fold(nombre), pais), i)
        self._by_name = {
            "pais": names((i, n) for i, (n, _) in self.paises.items())
            | {iso.lower(): i for i, (_, iso) in self.paises.items() if iso},
            "ciudad_any": names((i, n) for i, (n, _) in self.ciudades.items()),
            "ciudad": ciudades,
            "empresa": names(self.empresas.items()),
            "campana": names(self.campanas.items()),
        }

    # --- lookups by what a file says ------------------------------------------------------

    def _id_or_name(self, kind: str, ids, value: str) -> int | None:
        found = self._by_name[kind].get(text.fold(value))
        if found is None and value.isdigit() and int(value) in ids:
            found = int(value)
        return found

    def pais(self, value: str) -> int | None:
        return self._id_or_name("pais", self.paises, value)

    def ciudad(self, value: str, id_pais: int | None) -> int | None:
        """A city by id, or by name within the row's country (else any city of that name)."""
        if value.isdigit() and int(value) in self.ciudades:
            return int(value)
        folded = text.fold(value)
        return self._by_name["ciudad"].get((folded, id_pais)) or self._by_name["ciudad_any"].get(folded)

    def empresa(self, value: str) -> int | None:
        return self._id_or_name("empresa", self.empresas, value)

    def campana(self, value: str) -> int | None:
        return self._id_or_name("campana", self.campanas, value)

    # --- ClienteForm's choice lists, built once -------------------------------------------

    def choices(self) -> dict[str, list]:
        none = [(None, "—")]
        by_name = lambda pairs: sorted(pairs, key=lambda p: p[1])  # noqa: E731
        return {
            "id_pais": by_name((i, n) for i, (n, _) in self.paises.items()),
            "id_ciudad": by_name((i, n) for i, (n, _) in self.ciudades.items()),
            "id_empresa": none + by_name(self.empresas.items()),
            "id_campana": none + by_name(self.campanas.items()),
            "id_usuario": none,  # an import never links user accounts; an update keeps the stored one
        }

    def region(self, id_pais) -> str:
        return (self.paises.get(id_pais) or ("", "CO"))[1] or "CO"
