"""Colombian identity documents (SPEC §16): each type's number rule, the NIT's verification digit,
and how a number is stored, shown and read back from what people type.

One place for the rules: ``ClienteForm`` (panel, API and import) and Empresa's NIT call these;
the stored number is the compact form (digits, or upper-case letters and digits), a NIT with
its verification digit as its last digit (``9001234568``), shown ``900.123.456-8``.
"""

import re

from stdnum.co import nit as dian

from . import text
from .formatting import LABELS

TIPOS = LABELS["tipo_documento"]  # code → name: CC, CE, TI, PPT, PEP, PA, NIT
POR_DEFECTO = "CC"
MAX_NUMERO = 20
_TYPED = re.compile(r"[.\s\-–]")  # dots, spaces and dashes people type between the digits
_SOLO_DIGITOS, _ALFANUMERICO = re.compile(r"\d+"), re.compile("[0-9A-Z]+")

# Per type: (fewest, most) characters, digits only or letters too, and its name in an error.
REGLAS = {
    "CC": ((3, 10), True, "la cédula"),
    "CE": ((3, 10), True, "la cédula de extranjería"),
    "TI": ((10, 11), True, "la tarjeta de identidad"),
    "PA": ((3, 20), False, "el pasaporte"),
    "PEP": ((3, 20), False, "el PEP"),
    "PPT": ((3, 20), False, "el PPT"),
}
NIT_DIGITS = 9


def sin_separadores(numero: str | None) -> str | None:
    """'1.020.304' → '1020304', ' ab-123 ' → 'ab123': without what people type between the digits."""
    return _TYPED.sub("", numero) if isinstance(numero, str) else numero


def compacto(numero: str | None) -> str | None:
    """'1.020.304' → '1020304', ' ab-123 ' → 'AB123': the number as stored (a passport upper case)."""
    numero = sin_separadores(numero)
    return numero.upper() if isinstance(numero, str) else numero


def tipo_de(valor: str | None) -> str | None:
    """A type written by a person ('C.E.', 'Cédula de extranjería', 'pasaporte', 'cc') → its code."""
    folded = re.sub(r"[^a-z0-9 ]", "", text.fold(valor or "").replace(".", ""))
    if not folded:
        return None
    return _POR_NOMBRE.get(folded) or _POR_NOMBRE.get(folded.replace(" ", ""))


def _names() -> dict[str, str]:
    names = {code.lower(): code for code in TIPOS}
    names |= {re.sub(r"[^a-z0-9 ]", "", text.fold(n)): code for code, n in TIPOS.items()}
    names |= {
        "cedula": "CC",
        "cedula ciudadania": "CC",
        "cedula extranjeria": "CE",
        "tarjeta identidad": "TI",
        "pasaporte": "PA",
        "pas": "PA",
        "pp": "PA",
        "permiso especial de permanencia": "PEP",
        "permiso por proteccion temporal": "PPT",
        "numero de identificacion tributaria": "NIT",
    }
    return names


_POR_NOMBRE = _names()


def nit_completo(numero: str) -> str:
    """A NIT's 9 digits with the verification digit added; 10 digits are left for ``problema``."""
    return (
        numero + dian.calc_check_digit(numero) if len(numero) == NIT_DIGITS and numero.isdigit() else numero
    )


def problema_nit(numero: str) -> str | None:
    """Why a compact NIT (9 digits and its verification digit) is not one, or None."""
    if not numero.isdigit():
        return "El NIT solo puede tener dígitos (y su dígito de verificación)."
    if len(numero) != NIT_DIGITS + 1:
        return "El NIT tiene 9 dígitos y su dígito de verificación, p. ej. 900.123.456-8."
    debido = dian.calc_check_digit(numero[:-1])
    if numero[-1] != debido:
        return f"Dígito de verificación incorrecto: debería ser {debido}."
    return None


def nit_escrito(valor):
    """A company's NIT as typed ('900.123.456', '900123456-8') → stored ('9001234568'); blank → None."""
    if not isinstance(valor, str):
        return valor
    return normalizado("NIT", valor.strip()) or None


def normalizado(tipo: str | None, numero: str | None) -> str | None:
    """What is stored for a number typed by a person: compact, a NIT completed with its digit."""
    numero = compacto(numero)
    return nit_completo(numero) if tipo == "NIT" and numero else numero


def problema(tipo: str | None, numero: str) -> str | None:
    """Why a normalised number is not one of its type, in Spanish, or None when it is."""
    if tipo == "NIT":
        return problema_nit(numero)
    if tipo not in REGLAS:
        return None  # the type's own field says it is not a valid choice
    (least, most), digits_only, name = REGLAS[tipo]
    name, unit = name[0].upper() + name[1:], "dígitos" if digits_only else "caracteres"
    if not (_SOLO_DIGITOS if digits_only else _ALFANUMERICO).fullmatch(numero):
        return f"{name} solo puede tener {'dígitos' if digits_only else 'letras y dígitos'}."
    if len(numero) > most:
        return f"{name} tiene como máximo {most} {unit}."
    if len(numero) < least:
        return f"{name} tiene como mínimo {least} {unit}."
    return None


def mostrado(tipo: str | None, numero: str | None) -> str:
    """A number as people read it: a NIT ``900.123.456-8``, the others as stored."""
    if not numero:
        return ""
    if tipo == "NIT" and problema_nit(numero) is None:
        return dian.format(numero)
    return numero


def formas_de_busqueda(tipo: str | None, numero: str | None) -> list[str]:
    """The written forms a search should find a number by, beyond the stored one."""
    shown = mostrado(tipo, numero)
    return [shown] if shown and shown != numero else []
