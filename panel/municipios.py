"""Municipios (DANE's DIVIPOLA) as people write them: the one matcher, the search as you type,
and the refresh from a newer DANE file.

A person writes "BOGOTÁ, D.C.", "Rionegro, Antioquia", "Itagui" or "05360"; the panel's
forms, the import and the API all resolve it here, so a spelling accepted in one place is
accepted everywhere, and an ambiguous or unknown one is refused with the same words.
Fuente: DANE, DIVIPOLA (panel/data/README.md).
"""

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from importlib import resources

import sqlalchemy as sa
from flask import g, has_app_context

from . import formatting, text
from .extensions import db
from .models import Ciudad, Cliente, Departamento

COLOMBIA = 1
FUENTE = "Fuente: DANE, DIVIPOLA"
COLUMNAS = ("codigo_departamento", "departamento", "codigo_municipio", "municipio")

# Other names people use for a municipio (folded as ``key`` folds): DANE's older or longer
# names, and the capital's historic one.
ALIASES = {
    "santafe de bogota": "11001",
    "santa fe de bogota": "11001",
    "bogota distrito capital": "11001",
    "distrito capital": "11001",
    "cartagena de indias": "13001",
    "san jose de cucuta": "54001",
    "ubate": "25843",
    "villa de san diego de ubate": "25843",
    "tumaco": "52835",
    "santa cruz de mompox": "13468",
    "mompox": "13468",
    "barranco mina": "94663",
}
# Short names of departamentos (folded), beside their full names and 2-digit codes.
DEPARTAMENTO_ALIASES = {
    "valle": "76",
    "guajira": "44",
    "san andres": "88",
    "san andres y providencia": "88",
    "san andres providencia y santa catalina": "88",
    "bogota": "11",
    "distrito capital": "11",
    "norte santander": "54",
}


class MunicipioError(ValueError):
    """A municipio that cannot be told: the message says why, in Spanish, for the person."""


def key(value: str | None) -> str:
    """'  BOGOTÁ, D.C. ' → 'bogota': accents, case, punctuation and a trailing "D.C." ignored."""
    words = re.sub(r"[^a-z0-9]+", " ", text.fold(value)).split()
    while words[-2:] == ["d", "c"] or words[-1:] == ["dc"]:
        words = words[:-2] if words[-1] == "c" else words[:-1]
    return " ".join(words)


@dataclass(frozen=True)
class Lugar:
    """A city as the matcher knows it (no ORM object: an index lives longer than a session)."""

    id: int
    nombre: str
    id_pais: int
    codigo_dane: str | None = None
    departamento: str | None = None
    codigo_departamento: str | None = None
    repetido: bool = False

    @property
    def etiqueta(self) -> str:
        """As every screen shows it: 'Rionegro (Antioquia)' only where the name repeats."""
        return formatting.city(self.nombre, self.departamento, self.repetido)

    @property
    def completo(self) -> str:
        """Always with its departamento: what a suggestion or an ambiguity names."""
        return formatting.city(self.nombre, self.departamento, True)


@dataclass
class Indice:
    """Every city by DANE code and by folded name, and the departamentos by name and code."""

    lugares: list[Lugar]
    por_codigo: dict[str, Lugar] = field(init=False)
    por_nombre: dict[str, list[Lugar]] = field(init=False)
    departamentos: dict[str, str] = field(init=False)  # folded name or code → 2-digit code
    nombres_departamento: dict[str, str] = field(init=False)  # code → nombre

    def __post_init__(self) -> None:
        self.por_codigo = {lugar.codigo_dane: lugar for lugar in self.lugares if lugar.codigo_dane}
        self.por_nombre = {}
        for lugar in sorted(self.lugares, key=lambda lugar: (lugar.codigo_dane or "~", lugar.id)):
            self.por_nombre.setdefault(key(lugar.nombre), []).append(lugar)
        self.nombres_departamento = {
            lugar.codigo_departamento: lugar.departamento
            for lugar in self.lugares
            if lugar.codigo_departamento
        }
        self.departamentos = {codigo: codigo for codigo in self.nombres_departamento}
        self.departamentos |= {key(nombre): codigo for codigo, nombre in self.nombres_departamento.items()}
        self.departamentos |= {
            k: c for k, c in DEPARTAMENTO_ALIASES.items() if c in self.nombres_departamento
        }

    # --- the one matcher --------------------------------------------------------------------

    def match(
        self, escrito: str | None, departamento: str | None = None, id_pais: int | None = None
    ) -> Lugar:
        """The city ``escrito`` names: a DANE code, a name, "Municipio, Departamento" or
        "Municipio (Departamento)"; ``departamento`` (a name or code) settles a repeated name.
        Raises MunicipioError naming the candidates or the closest name."""
        escrito = (escrito or "").strip()
        if not escrito:
            raise MunicipioError("Escriba un municipio.")
        codigo = self._code(escrito)
        if codigo is not None:
            return codigo
        en = self.departamento(departamento) if departamento and departamento.strip() else None
        nombre, candidatos = self._named(escrito)
        if nombre is not None and en is None and nombre[1]:
            en = nombre[1]
        if id_pais is not None and any(c.id_pais == id_pais for c in candidatos):
            candidatos = [c for c in candidatos if c.id_pais == id_pais]
        if en is not None:
            dentro = [c for c in candidatos if c.codigo_departamento == en]
            if not dentro and candidatos:
                donde = self.nombres_departamento[en]
                raise MunicipioError(f"No existe «{escrito}» en {donde}: {self._listing(candidatos)}.")
            candidatos = dentro
        if len(candidatos) == 1:
            return candidatos[0]
        if candidatos:
            raise MunicipioError(f"«{escrito}» es ambiguo: {self._listing(candidatos)}.")
        raise MunicipioError(self._unknown(escrito, en))

    def departamento(self, escrito: str) -> str:
        """A departamento's 2-digit code from its name, a short name or its code."""
        plain = escrito.strip()
        found = self.departamentos.get(plain.zfill(2) if plain.isdigit() else key(plain))
        if found is None:
            raise MunicipioError(f"No existe el departamento «{escrito.strip()}».")
        return found

    def _code(self, escrito: str) -> Lugar | None:
        """A 5-digit DANE code (or 4: a spreadsheet drops Antioquia's leading zero)."""
        if not re.fullmatch(r"\d{4,5}", escrito):
            return None
        found = self.por_codigo.get(escrito.zfill(5))
        if found is None:
            raise MunicipioError(f"No existe un municipio con el código DANE {escrito.zfill(5)}.")
        return found

    def _named(self, escrito: str) -> tuple[tuple[str, str | None] | None, list[Lugar]]:
        """Candidates by name; failing that, "Municipio, Departamento" / "Municipio (Departamento)"
        split into the name and the departamento's code."""
        whole = key(escrito)
        found = self._by_key(whole)
        if found:
            return None, found
        parts = re.fullmatch(r"(.+?)\s*\((.+)\)\s*", escrito) or re.fullmatch(
            r"(.+?)\s*[,/–-]\s*(.+)", escrito
        )
        if parts is None:
            return None, []
        nombre, donde = parts.group(1), parts.group(2)
        codigo = self.departamentos.get(key(donde))
        if codigo is None and key(donde):  # not a departamento: no split to make
            return None, []
        return (nombre, codigo), self._by_key(key(nombre))

    def _by_key(self, k: str) -> list[Lugar]:
        alias = ALIASES.get(k)
        if alias and alias in self.por_codigo:
            return [self.por_codigo[alias]]
        return list(self.por_nombre.get(k, []))

    def _unknown(self, escrito: str, en: str | None) -> str:
        """'No existe el municipio «Itagüi x». ¿Quiso decir Itagüí (Antioquia)?'"""
        pool = {
            k: lugares
            for k, lugares in self.por_nombre.items()
            if en is None or any(lugar.codigo_departamento == en for lugar in lugares)
        }
        close = difflib.get_close_matches(key(escrito), list(pool), n=1, cutoff=0.75)
        message = f"No existe el municipio «{escrito}»."
        if close:
            lugares = [lugar for lugar in pool[close[0]] if en is None or lugar.codigo_departamento == en]
            nombres = [lugar.completo for lugar in lugares]
            opciones = nombres[0] if len(nombres) == 1 else ", ".join(nombres[:-1]) + " o " + nombres[-1]
            message += f" ¿Quiso decir {opciones}?"
        return message

    @staticmethod
    def _listing(lugares: list[Lugar]) -> str:
        return ", ".join(lugar.completo for lugar in lugares)

    # --- the search as you type ---------------------------------------------------------------

    def search(self, escrito: str, limit: int = 10, offset: int = 0) -> list[Lugar]:
        """Cities whose name starts with what was typed first, then those containing it; a
        number searches DANE codes."""
        k = key(escrito)
        if not k:
            return []
        if k.isdigit():
            found = sorted(
                (lug for c, lug in self.por_codigo.items() if c.startswith(k)), key=lambda x: x.codigo_dane
            )
        else:
            starts, contains = [], []
            for nombre, lugares in sorted(self.por_nombre.items()):
                if nombre.startswith(k):
                    starts += lugares
                elif k in nombre or k in key(lugares[0].departamento or ""):
                    contains += lugares
            found = starts + contains
        return found[offset : offset + limit]


# --- loading ---------------------------------------------------------------------------------


def load() -> Indice:
    """Every city with its departamento, in one statement (shared data: no tenant applies)."""
    rows = db.session.execute(
        sa.select(
            Ciudad.id,
            Ciudad.nombre,
            Ciudad.id_pais,
            Ciudad.codigo_dane,
            Departamento.nombre,
            Departamento.codigo_dane,
            Ciudad.nombre_repetido,
        ).outerjoin(Departamento, Departamento.id == Ciudad.id_departamento)
    )
    return Indice([Lugar(*row) for row in rows])


def indice() -> Indice:
    """The index, loaded once per request (or app context)."""
    if not has_app_context():
        return load()
    if "municipios_indice" not in g:
        g.municipios_indice = load()
    return g.municipios_indice


def match(escrito: str | None, departamento: str | None = None, id_pais: int | None = None) -> int:
    """The id of the city ``escrito`` names (see Indice.match); raises MunicipioError."""
    return indice().match(escrito, departamento, id_pais).id


def label(ciudad: Ciudad | None) -> str:
    """How a city reads on every screen and in every export."""
    return "" if ciudad is None else ciudad.etiqueta


def labels() -> dict[int, str]:
    """{id: etiqueta} of every city: the export's and the dashboard's lookup, loaded once."""
    return {lugar.id: lugar.etiqueta for lugar in indice().lugares}


def mark_repeated() -> None:
    """Flag the municipios whose name another municipio has (shown with their departamento).
    The same statement as migration 0021 runs; after any change of names."""
    ciudad, otra = Ciudad.__table__, Ciudad.__table__.alias("otra")
    repeats = sa.exists().where(
        otra.c.nombre == ciudad.c.nombre, otra.c.id != ciudad.c.id, otra.c.id_departamento.is_not(None)
    )
    db.session.execute(
        ciudad.update().values(nombre_repetido=sa.and_(ciudad.c.id_departamento.is_not(None), repeats))
    )
    if has_app_context():  # the request's index knew the old names
        g.pop("municipios_indice", None)


# --- refreshing from a newer DANE file -------------------------------------------------------


class ArchivoInvalido(ValueError):
    pass


def packaged_rows() -> list[dict]:
    """The rows of the DIVIPOLA file shipped with the panel."""
    return read(resources.files("panel").joinpath("data/divipola.csv").read_bytes())


def read(data: bytes) -> list[dict]:
    """A DANE file with the packaged file's columns: UTF-8 or Windows-1252, ',' or ';'."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = data.decode("cp1252")
    first = content.split("\n", 1)[0]
    reader = csv.DictReader(
        io.StringIO(content), delimiter=";" if first.count(";") > first.count(",") else ","
    )
    if not reader.fieldnames or not set(COLUMNAS) <= {key(f).replace(" ", "_") for f in reader.fieldnames}:
        raise ArchivoInvalido(f"El archivo debe tener las columnas {', '.join(COLUMNAS)}.")
    rows, vistos = [], {}
    for n, raw in enumerate(reader, 2):
        row = {key(k).replace(" ", "_"): (v or "").strip() for k, v in raw.items() if k}
        dep, mun = row["codigo_departamento"].zfill(2), row["codigo_municipio"].zfill(5)
        if not (re.fullmatch(r"\d{2}", dep) and re.fullmatch(r"\d{5}", mun) and mun.startswith(dep)):
            raise ArchivoInvalido(f"Línea {n}: códigos DANE no válidos ({dep}, {mun}).")
        if not row["departamento"] or not row["municipio"]:
            raise ArchivoInvalido(f"Línea {n}: falta el nombre del departamento o del municipio.")
        if mun in vistos:
            raise ArchivoInvalido(f"Línea {n}: el código {mun} ya estaba en la línea {vistos[mun]}.")
        vistos[mun] = n
        rows.append({**row, "codigo_departamento": dep, "codigo_municipio": mun})
    return rows


# A newer DANE file adds a municipio now and then; one that lacks many of them is a cut file.
MAX_MISSING = 0.1


def refresh(rows: list[dict]) -> list[str]:
    """Apply a DANE file: add and rename departamentos and municipios; remove those the file
    no longer has only when no client lives there. Returns what changed, in Spanish (the
    caller commits)."""
    cambios: list[str] = []
    departamentos = {d.codigo_dane: d for d in db.session.scalars(sa.select(Departamento))}
    for codigo, nombre in sorted({(r["codigo_departamento"], r["departamento"]) for r in rows}):
        dep = departamentos.get(codigo)
        if dep is None:
            departamentos[codigo] = dep = Departamento(codigo_dane=codigo, nombre=nombre)
            db.session.add(dep)
            cambios.append(f"Departamento nuevo: {codigo} {nombre}")
        elif dep.nombre != nombre:
            cambios.append(f"Departamento renombrado: {codigo} {dep.nombre} → {nombre}")
            dep.nombre = nombre
    db.session.flush()

    ciudades = {
        c.codigo_dane: c for c in db.session.scalars(sa.select(Ciudad).where(Ciudad.codigo_dane.is_not(None)))
    }
    en_archivo = {r["codigo_municipio"] for r in rows}
    faltan = set(ciudades) - en_archivo
    if ciudades and len(faltan) > MAX_MISSING * len(ciudades):
        raise ArchivoInvalido(
            f"Al archivo le faltan {len(faltan)} de los {len(ciudades)} municipios cargados: "
            "parece incompleto, no se aplicó."
        )
    nuevos = []
    for r in rows:
        ciudad = ciudades.get(r["codigo_municipio"])
        dep = departamentos[r["codigo_departamento"]]
        if ciudad is None:
            nuevos.append(
                Ciudad(
                    nombre=r["municipio"],
                    id_pais=COLOMBIA,
                    codigo_dane=r["codigo_municipio"],
                    id_departamento=dep.id,
                )
            )
            cambios.append(f"Municipio nuevo: {r['codigo_municipio']} {r['municipio']} ({dep.nombre})")
        elif ciudad.nombre != r["municipio"]:
            cambios.append(
                f"Municipio renombrado: {r['codigo_municipio']} {ciudad.nombre} → {r['municipio']}"
            )
            ciudad.nombre = r["municipio"]
    db.session.add_all(nuevos)
    cambios += _retire([ciudades[c] for c in sorted(faltan)])
    db.session.flush()
    mark_repeated()
    return cambios


def _retire(ciudades: list[Ciudad]) -> list[str]:
    """Municipios the file no longer has: removed if unused, kept (and said) if a client lives there."""
    if not ciudades:
        return []
    en_uso = dict(
        db.session.execute(
            sa.select(Cliente.__table__.c.id_ciudad, sa.func.count())
            .where(Cliente.__table__.c.id_ciudad.in_([c.id for c in ciudades]))
            .group_by(Cliente.__table__.c.id_ciudad)
        ).all()
    )
    cambios = []
    for ciudad in ciudades:
        usados = en_uso.get(ciudad.id, 0)
        if usados:
            cambios.append(
                f"Se conserva {ciudad.codigo_dane} {ciudad.etiqueta}: no está en el archivo, "
                f"pero {formatting.plural(usados, 'cliente vive', 'clientes viven')} allí."
            )
        else:
            db.session.delete(ciudad)
            cambios.append(f"Municipio retirado: {ciudad.codigo_dane} {ciudad.etiqueta}")
    return cambios
