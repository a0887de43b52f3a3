"""Which column of the file feeds which field: headers matched by name, accents, case,
punctuation and synonyms ignored; the user corrects the guess on the preview page."""

import re

from .. import text
from ..campos import columnas

# The file's fields in the preview's order (a key's by its relation: "ciudad" feeds id_ciudad),
# each with its Spanish label from panel/campos.py; "departamento" is no client field: it only
# settles a municipio whose name repeats (DIVIPOLA).
CAMPOS = (
    columnas(
        (
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
    )
    | {"departamento": "Departamento"}
    | columnas(("pais", "empresa", "campana", "estado", "acepta_sms"))
)
REQUIRED = ("cedula_cliente", "nombre_cliente")

# The headers that mean a field (folded).
SYNONYMS = {
    "tipo_documento": (
        "tipo de documento",
        "tipo documento",
        "tipo doc",
        "tipo de doc",
        "tipo de identificacion",
        "tipo identificacion",
        "tipo id",
        "td",
    ),
    "cedula_cliente": (
        "cedula",
        "cedula cliente",
        "cedula de ciudadania",
        "cc",
        "c c",
        "documento",
        "documento de identidad",
        "numero de documento",
        "nro documento",
        "no documento",
        "num documento",
        "numero documento",
        "identificacion",
        "numero de identificacion",
        "nit cedula",
    ),
    "nombre_cliente": ("nombres", "nombre", "nombre cliente", "nombres cliente", "primer nombre"),
    "apellido_cliente": ("apellidos", "apellido", "apellido cliente", "apellidos cliente"),
    "email": ("correo", "correo electronico", "email", "e mail", "mail", "correo e"),
    "telefono": (
        "telefono",
        "celular",
        "movil",
        "tel",
        "telefono celular",
        "telefono movil",
        "numero celular",
        "numero de celular",
        "numero de telefono",
        "tel celular",
        "cel",
        "whatsapp",
    ),
    "fecha_nacimiento": (
        "fecha de nacimiento",
        "fecha nacimiento",
        "nacimiento",
        "fecha nac",
        "f nacimiento",
        "fec nacimiento",
        "cumpleanos",
    ),
    "genero": ("genero", "sexo"),
    "ciudad": (
        "ciudad",
        "municipio",
        "id ciudad",
        "ciudad id",
        "ciudad de residencia",
        "municipio de residencia",
        "codigo dane",
        "codigo municipio",
        "cod municipio",
    ),
    "departamento": ("departamento", "depto", "dpto", "departamento de residencia"),
    "pais": ("pais", "id pais", "pais id"),
    "empresa": ("empresa", "compania", "nombre empresa"),
    "campana": ("campana", "campana publicitaria", "nombre campana"),
    "estado": ("estado", "activo", "estado cliente"),
    "acepta_sms": (
        "acepta sms",
        "acepta",
        "sms",
        "acepta mensajes",
        "autoriza sms",
        "consentimiento sms",
        "acepta recibir sms",
    ),
}
_BY_HEADER = {name: campo for campo, names in SYNONYMS.items() for name in names}
_SUFFIX = re.compile(r"\(hora de bogota\)|\(opcional\)|\(obligatorio\)|\*")
_PUNCT = re.compile(r"[^a-z0-9]+")


def normalized(header: str) -> str:
    """'  Teléfono (hora de Bogotá) ' → 'telefono'; 'E-mail' → 'e mail'; 'Nro. Doc.' → 'nro doc'."""
    folded = _SUFFIX.sub(" ", text.fold(header))
    return _PUNCT.sub(" ", folded).strip()


def guess(encabezados: list[str]) -> dict[int, str]:
    """{column index: field} for the headers recognised (the first column wins a field)."""
    mapping: dict[int, str] = {}
    for index, header in enumerate(encabezados):
        campo = _BY_HEADER.get(normalized(header))
        if campo and campo not in mapping.values():
            mapping[index] = campo
    return mapping


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
