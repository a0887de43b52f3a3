"""Personalise SMS text: literal placeholder substitution, never str.format or Jinja on user text.

Rules (documented in docs/decisions.md):
- the only placeholders are ``{nombre}``, ``{apellido}`` and ``{nombre_completo}`` (case-sensitive);
- any other ``{...}`` is an unknown placeholder;
- a lone ``{`` or ``}`` (including ``{{`` / ``}}``) is malformed: there is no escaping, literal braces
  are not allowed in a message;
- empty or whitespace-only text is refused, and so is text longer than Twilio's 1600 characters.
"""

import re
from collections.abc import Callable, Mapping

PLACEHOLDERS = ("nombre", "apellido", "nombre_completo")
MAX_LENGTH = 1600  # Twilio refuses longer bodies (error 21617)

_TOKEN = re.compile(r"\{([^{}]*)\}")
_HINT = "Use {nombre}, {apellido} o {nombre_completo}."
# The wording of the two placeholder errors, shared with the live preview of the Enviar SMS page
# (panel/static/sms_enviar.js reads them from preview_rules(), so it says what the server says).
UNKNOWN = "Marcador desconocido: %s. " + _HINT
STRAY_BRACE = (
    "Llave sin cerrar o sobrante en el mensaje: las llaves { } solo se usan en los marcadores. " + _HINT
)


class TemplateError(ValueError):
    """A message or template that cannot be sent; the text is shown to the user."""


def validate_template(text: str) -> None:
    """Raise TemplateError when the text is empty, too long, or has a bad placeholder."""
    if text is None or not text.strip():
        raise TemplateError("El mensaje no puede estar vacío.")
    if len(text) > MAX_LENGTH:
        raise TemplateError(f"El mensaje supera el máximo de {MAX_LENGTH} caracteres ({len(text)}).")
    for match in _TOKEN.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            raise TemplateError(UNKNOWN % match.group(0))
    stray = _TOKEN.sub("", text)
    if "{" in stray or "}" in stray:
        raise TemplateError(STRAY_BRACE)


def preview_rules() -> dict:
    """What the browser's live preview needs to flag a bad placeholder as validate_template does:
    the placeholders and the two messages (``%s`` stands for the unknown placeholder)."""
    return {"marcadores": list(PLACEHOLDERS), "desconocido": UNKNOWN, "llave": STRAY_BRACE}


def _field(cliente, name: str) -> str:
    """One name field of a Cliente, an object or a mapping, as a trimmed string."""
    value = cliente.get(name) if isinstance(cliente, Mapping) else getattr(cliente, name, None)
    return str(value).strip() if value is not None else ""


def values_for(cliente) -> dict[str, str]:
    """The replacement text of every placeholder for one client."""
    nombre = _field(cliente, "nombre_cliente")
    apellido = _field(cliente, "apellido_cliente")
    completo = " ".join(part for part in (nombre, apellido) if part)
    return {"nombre": nombre, "apellido": apellido, "nombre_completo": completo}


def render(text: str, cliente) -> str:
    """The text personalised for one client; a single pass, so names are never re-expanded."""
    validate_template(text)
    values = values_for(cliente)
    return _TOKEN.sub(lambda match: values[match.group(1)], text)


def personalizer(text: str) -> Callable[[str | None, str | None], str]:
    """Validate ``text`` once and return ``f(nombre, apellido)`` giving each recipient's text:
    a campaign splits the template once instead of scanning it for every recipient."""
    validate_template(text)
    parts = _TOKEN.split(text)  # literal, placeholder, literal, placeholder, …, literal

    def personalise(nombre: str | None, apellido: str | None) -> str:
        nombre, apellido = (nombre or "").strip(), (apellido or "").strip()
        completo = f"{nombre} {apellido}" if nombre and apellido else nombre or apellido
        values = {"nombre": nombre, "apellido": apellido, "nombre_completo": completo}
        out = parts.copy()
        out[1::2] = [values[name] for name in parts[1::2]]
        return "".join(out)

    return personalise
