"""Which column of the file feeds which field: headers matched by name, accents, case,
punctuation and synonyms ignored; the user corrects the guess on the preview page."""

import re

from .. import campos, text
from ..campos import columnas

# The file's fields in the preview's order (a key's by its relation: "ciudad" feeds id_ciudad),
# each with its Spanish label from panel/campos.py. Two are no client field: "departamento" only
# settles a municipio whose name repeats (DIVIPOLA), "nit_empresa" is the NIT of an empresa the
# import creates (SPEC §17).
CLIENTE = (
    "tipo_documento",
    "cedula_cliente",
    "nombre_cliente",
    "apellido_cliente",
    "email",
    "telefono",
    "fecha_nacimiento",
    "genero",
    "ciudad",
)
CAMPOS = (
    columnas(CLIENTE)
    | {"departamento": "Departamento"}
    | columnas(("pais", "empresa"))
    | {"nit_empresa": "NIT de la empresa"}
    | columnas(("campana", "estado", "acepta_sms"))
)
REQUIRED = ("cedula_cliente", "nombre_cliente")
_SOLO_IMPORTACION = {
    "departamento": (
        "departamento",
        "depto",
        "dpto",
        "departamento de residencia",
        "state",
        "state region",
        "home state",
        "address 1 region",
        "region",
    ),
    "nit_empresa": ("nit", "nit empresa", "nit de la empresa", "nit razon social", "company nit"),
}

# The headers that mean a field (folded), best first: the client fields' own (panel/campos.py).
SYNONYMS = {campo: _SOLO_IMPORTACION.get(campo) or campos.encabezados(campo) for campo in CAMPOS}
# header → (field, rank): a header names one field; the lower rank wins a field two columns share.
_BY_HEADER = {name: (campo, rank) for campo, names in SYNONYMS.items() for rank, name in enumerate(names)}
_SUFFIX = re.compile(r"\(hora de bogota\)|\(opcional\)|\(obligatorio\)|\*")
_PUNCT = re.compile(r"[^a-z0-9]+")


def normalized(header: str) -> str:
    """'  Teléfono (hora de Bogotá) ' → 'telefono'; 'E-mail' → 'e mail'; 'Nro. Doc.' → 'nro doc'."""
    folded = _SUFFIX.sub(" ", text.fold(header))
    return _PUNCT.sub(" ", folded).strip()


def guess(encabezados: list[str]) -> dict[int, str]:
    """{column index: field} for the headers recognised: of two columns that could feed a field,
    the better synonym wins (Outlook's "Mobile Phone" over its "Home Phone"), then the first."""
    best: dict[str, tuple[int, int]] = {}  # field → (rank, index)
    for index, header in enumerate(encabezados):
        found = _BY_HEADER.get(normalized(header))
        if found and (found[0] not in best or (found[1], index) < best[found[0]]):
            best[found[0]] = (found[1], index)
    return {index: campo for campo, (_, index) in sorted(best.items(), key=lambda kv: kv[1][1])}


class ColumnaDesconocida(ValueError):
    """A "Encabezado=campo" the shell was given that names no column or no field."""


def override(mapping: dict[int, str], encabezados: list[str], pares: list[str]) -> dict[int, str]:
    """The mapping with the shell's ``--columna "Encabezado=campo"`` applied (a field by its name
    or its label; ``campo`` empty: the column is not imported). Raises ColumnaDesconocida."""
    mapping = dict(mapping)
    por_encabezado = {}
    for index, header in enumerate(encabezados):
        por_encabezado.setdefault(normalized(header), index)
    por_campo = {normalized(k): k for k in CAMPOS} | {normalized(v): k for k, v in CAMPOS.items()}
    for par in pares:
        header, sep, campo = par.rpartition("=")
        if not sep or normalized(header) not in por_encabezado:
            raise ColumnaDesconocida(f"El archivo no tiene la columna «{header or par}».")
        if campo.strip() and normalized(campo) not in por_campo:
            raise ColumnaDesconocida(f"Campo desconocido: «{campo}». Campos: {', '.join(CAMPOS)}.")
        index, nuevo = por_encabezado[normalized(header)], por_campo.get(normalized(campo))
        mapping = {i: c for i, c in mapping.items() if c != nuevo and i != index}
        if nuevo:
            mapping[index] = nuevo
    return dict(sorted(mapping.items()))


def problems(mapping: dict[int, str], encabezados: list[str]) -> list[str]:
    """What makes a mapping unusable, in Spanish (empty when it can be used)."""
    found, seen = [], {}
    for index, campo in sorted(mapping.items()):
        if campo not in CAMPOS:
            found.append(f"Campo desconocido: {campo}.")
        elif campo in seen:
            found.append(
                f"El campo «{CAMPOS[campo]}» está asignado a dos columnas "
                f"(«{encabezados[seen[campo]]}» y «{encabezados[index]}»)."
            )
        seen.setdefault(campo, index)
    for campo in REQUIRED:
        if campo not in seen:
            found.append(f"Falta la columna «{CAMPOS[campo]}» (obligatoria).")
    return found


def from_json(raw: dict | None) -> dict[int, str]:
    """A stored mapping ({"0": "cedula_cliente"}) with int keys, blank fields dropped."""
    return {int(k): v for k, v in (raw or {}).items() if v}


def to_json(mapping: dict[int, str]) -> dict[str, str]:
    return {str(k): v for k, v in sorted(mapping.items())}
