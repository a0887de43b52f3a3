"""What an import looks names up in, loaded once per import through the tenant-scoped ORM:
países, ciudades, and the tenant's empresas and campañas (another tenant's names do not
exist here), plus the choice lists ``ClienteForm`` validates against."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import municipios, text
from ..extensions import db
from ..models import CampanaPublicitaria, Ciudad, Cliente, Empresa, Pais


def _rows(*columns) -> list[tuple]:
    """Plain tuples of a scoped SELECT (``dict()`` of a Result would read it as a mapping)."""
    return [tuple(row) for row in db.session.execute(sa.select(*columns))]


MAX_ESCRITAS = 20_000  # ciudad()'s answers remembered (the matcher is pure for one catalogue)


@dataclass
class Catalogo:
    paises: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (nombre, iso)
    ciudades: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (nombre, id_pais)
    empresas: dict[int, str] = field(default_factory=dict)
    nits: dict[str, int] = field(default_factory=dict)  # an empresa's compact NIT → its id
    campanas: dict[int, str] = field(default_factory=dict)
    cedulas: dict[tuple[str, str], int] = field(default_factory=dict)  # (tipo, número) → id_cliente
    _by_name: dict[str, dict] = field(default_factory=dict)
    lugares: municipios.Indice | None = None  # every municipio, for the one matcher
    _etiquetas: dict[int, str] | None = None
    _ciudades_escritas: dict[tuple, int | str] = field(default_factory=dict)  # ciudad()'s answers
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
            nits={n: i for i, n in _rows(Empresa.id, Empresa.nit) if n},
            campanas=dict(_rows(CampanaPublicitaria.id, CampanaPublicitaria.nombre)),
            cedulas={
                (t, n): i
                for t, n, i in _rows(Cliente.tipo_documento, Cliente.cedula_cliente, Cliente.id_cliente)
            },
        )
        cat._held = [*db.session.scalars(sa.select(Pais)), *db.session.scalars(sa.select(Ciudad))]
        cat.lugares = municipios.load()
        cat._index()
        return cat

    def _index(self) -> None:
        """Folded names → ids (the lowest id wins a name used twice)."""

        def names(pairs):
            index: dict[str, int] = {}
            for i, nombre in sorted(pairs):
                index.setdefault(text.fold(nombre), i)
            return index

        self._by_name = {
            "pais": names((i, n) for i, (n, _) in self.paises.items())
            | {iso.lower(): i for i, (_, iso) in self.paises.items() if iso},
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

    def ciudad(self, value: str, id_pais: int | None, departamento: str | None = None) -> int:
        """A city as the file writes it (municipios.match: name, "Municipio, Departamento", DANE
        code; the row's departamento settles a repeated name), or the panel's id of a city;
        raises MunicipioError with the words for the row."""
        if value.isdigit() and len(value) < 4 and int(value) in self.ciudades:  # an id (DANE codes have 5)
            return int(value)
        key = (value, id_pais, departamento)  # a file names a few hundred municipios, row after row
        found = self._ciudades_escritas.get(key)
        if found is None:
            try:
                found = self.lugares.match(value, departamento, id_pais).id
            except municipios.MunicipioError as exc:
                found = str(exc)
            if len(self._ciudades_escritas) < MAX_ESCRITAS:
                self._ciudades_escritas[key] = found
        if isinstance(found, str):
            raise municipios.MunicipioError(found)
        return found

    def ciudad_label(self, id_ciudad) -> str:
        """'Rionegro (Antioquia)': how the preview names a row's city."""
        if self._etiquetas is None:
            self._etiquetas = {lugar.id: lugar.etiqueta for lugar in self.lugares.lugares}
        return self._etiquetas.get(id_ciudad, "")

    def empresa(self, value: str) -> int | None:
        return self._id_or_name("empresa", self.empresas, value)

    def empresa_nit(self, nit: str) -> int | None:
        return self.nits.get(nit)

    def campana(self, value: str) -> int | None:
        return self._id_or_name("campana", self.campanas, value)

    # --- ClienteForm's choice lists, built once -------------------------------------------

    def choices(self) -> dict[str, list]:
        none = [(None, "—")]
        by_name = lambda pairs: sorted(pairs, key=lambda p: p[1])  # noqa: E731
        return {
            "id_pais": by_name((i, n) for i, (n, _) in self.paises.items()),
            "id_ciudad": [],  # CiudadField looks the city up (the rows are held: no query)
            "id_empresa": none + by_name(self.empresas.items()),
            "id_campana": none + by_name(self.campanas.items()),
            "id_usuario": none,  # an import never links user accounts; an update keeps the stored one
        }

    def region(self, id_pais) -> str:
        return (self.paises.get(id_pais) or ("", "CO"))[1] or "CO"
