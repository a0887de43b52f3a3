"""A client's fields, declared once: the name, the Spanish label and the kind of each.

The form (panel/forms/cliente_form.py), the Clientes list and details (admin/clientes/lista.py), the
exports' headers, the import's columns and its preview (importing/) read their labels here, so
a field is renamed, or added, in one place.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Campo:
    nombre: str  # Cliente's column, and the form's field
    etiqueta: str  # its label in the list, details, exports, the import and Historial
    tipo: str  # texto, fecha, opcion, referencia, booleano, telefono
    relacion: str | None = None  # a key's relation: what the list shows, the import's column
    en_formulario: str | None = None  # the form's longer label, where it has one


CLIENTE = (
    Campo("tipo_documento", "Tipo de documento", "opcion"),
    Campo("cedula_cliente", "Cédula", "texto"),
    Campo("nombre_cliente", "Nombres", "texto"),
    Campo("apellido_cliente", "Apellidos", "texto"),
    Campo("fecha_nacimiento", "Fecha de nacimiento", "fecha"),
    Campo("email", "Correo electrónico", "texto"),
    Campo("genero", "Género", "opcion"),
    Campo("telefono", "Teléfono", "telefono"),
    Campo("id_pais", "País", "referencia", "pais"),
    Campo("id_ciudad", "Ciudad", "referencia", "ciudad"),
    Campo("id_empresa", "Empresa", "referencia", "empresa"),
    Campo("id_campana", "Campaña", "referencia", "campana", "Campaña publicitaria"),
    Campo("id_usuario", "Cuenta de usuario", "referencia", "usuario", "Cuenta de usuario (cliente)"),
    Campo("acepta_sms", "Acepta SMS", "booleano"),
    Campo("estado", "Estado", "opcion"),
)
POR_NOMBRE = {c.nombre: c for c in CLIENTE} | {c.relacion: c for c in CLIENTE if c.relacion}
# The label of a field, or of a key's relation (``id_empresa`` and ``empresa`` alike).
ETIQUETAS = {name: c.etiqueta for name, c in POR_NOMBRE.items()}


def etiqueta(nombre: str) -> str:
    return ETIQUETAS[nombre]


def en_formulario(nombre: str) -> str:
    """The form's label of a field: its own longer one, or the label everywhere else."""
    campo = POR_NOMBRE[nombre]
    return campo.en_formulario or campo.etiqueta


def columnas(nombres) -> dict[str, str]:
    """{name: label} of some fields, in the order given (e.g. the list's columns)."""
    return {n: ETIQUETAS[n] for n in nombres}
