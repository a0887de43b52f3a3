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
    # The headers an import reads this field from (folded: lower case, no accents, punctuation as
    # spaces), Spanish and the tools agencies export from (SPEC §17); the earlier wins when two
    # columns of a file could feed the field (a mobile before any phone).
    encabezados: tuple[str, ...] = ()


# A field's headers a few to a line: one a line would bury the fields.
# fmt: off
CLIENTE = (
    Campo(
        "tipo_documento",
        "Tipo de documento",
        "opcion",
        encabezados=(
            "tipo de documento", "tipo documento", "tipo doc", "tipo de doc", "tipo de identificacion",
            "tipo identificacion", "tipo id", "td", "document type", "id type",
        ),
    ),
    Campo(
        "cedula_cliente",
        "Cédula",
        "texto",
        encabezados=(
            "cedula", "cedula cliente", "cedula de ciudadania", "cc", "c c", "numero de documento",
            "numero documento", "nro documento", "no documento", "num documento", "documento",
            "documento de identidad", "identificacion", "numero de identificacion", "nit cedula",
            "government id number", "document number", "id number", "national id",
        ),
    ),
    Campo(
        "nombre_cliente",
        "Nombres",
        "texto",
        encabezados=(
            "nombres", "nombre", "nombre cliente", "nombres cliente", "primer nombre", "given name",
            "first name", "firstname", "name",
        ),
    ),
    Campo(
        "apellido_cliente",
        "Apellidos",
        "texto",
        encabezados=(
            "apellidos", "apellido", "apellido cliente", "apellidos cliente", "family name",
            "last name", "lastname", "surname",
        ),
    ),
    Campo(
        "fecha_nacimiento",
        "Fecha de nacimiento",
        "fecha",
        encabezados=(
            "fecha de nacimiento", "fecha nacimiento", "nacimiento", "fecha nac", "f nacimiento",
            "fec nacimiento", "cumpleanos", "birthday", "birth date", "date of birth", "birthdate",
        ),
    ),
    Campo(
        "email",
        "Correo electrónico",
        "texto",
        encabezados=(
            "correo electronico", "correo", "email", "e mail", "mail", "correo e", "e mail 1 value",
            "e mail address", "email address",
        ),
    ),
    Campo("genero", "Género", "opcion", encabezados=("genero", "sexo", "gender", "sex")),
    Campo(
        "telefono",
        "Teléfono",
        "telefono",
        encabezados=(
            "celular", "movil", "telefono celular", "telefono movil", "numero celular",
            "numero de celular", "tel celular", "cel", "whatsapp", "mobile phone",
            "mobile phone number", "mobile", "telefono", "tel", "numero de telefono",
            "phone 1 value", "primary phone", "phone number", "phone", "home phone",
        ),
    ),
    Campo(
        "id_pais",
        "País",
        "referencia",
        "pais",
        encabezados=(
            "pais", "id pais", "pais id", "country", "country region", "home country region",
            "address 1 country",
        ),
    ),
    Campo(
        "id_ciudad",
        "Ciudad",
        "referencia",
        "ciudad",
        encabezados=(
            "ciudad", "municipio", "id ciudad", "ciudad id", "ciudad de residencia",
            "municipio de residencia", "codigo dane", "codigo municipio", "cod municipio", "city",
            "home city", "address 1 city",
        ),
    ),
    Campo(
        "id_empresa",
        "Empresa",
        "referencia",
        "empresa",
        encabezados=(
            "empresa", "razon social", "compania", "nombre empresa", "nombre de la empresa",
            "company", "company name", "organization 1 name", "organization name",
            "associated company",
        ),
    ),
    Campo(
        "id_campana",
        "Campaña",
        "referencia",
        "campana",
        "Campaña publicitaria",
        encabezados=("campana", "campana publicitaria", "nombre campana"),
    ),
    Campo("id_usuario", "Cuenta de usuario", "referencia", "usuario", "Cuenta de usuario (cliente)"),
    Campo(
        "acepta_sms",
        "Acepta SMS",
        "booleano",
        encabezados=(
            "acepta sms", "acepta", "sms", "acepta mensajes", "autoriza sms", "consentimiento sms",
            "acepta recibir sms",
        ),
    ),
    Campo("estado", "Estado", "opcion", encabezados=("estado", "activo", "estado cliente")),
)
# fmt: on
POR_NOMBRE = {c.nombre: c for c in CLIENTE} | {c.relacion: c for c in CLIENTE if c.relacion}
# The label of a field, or of a key's relation (``id_empresa`` and ``empresa`` alike).
ETIQUETAS = {name: c.etiqueta for name, c in POR_NOMBRE.items()}


def etiqueta(nombre: str) -> str:
    return ETIQUETAS[nombre]


def en_formulario(nombre: str) -> str:
    """The form's label of a field: its own longer one, or the label everywhere else."""
    campo = POR_NOMBRE[nombre]
    return campo.en_formulario or campo.etiqueta


def encabezados(nombre: str) -> tuple[str, ...]:
    """The headers an import reads a field (or a key's relation) from."""
    return POR_NOMBRE[nombre].encabezados


def columnas(nombres) -> dict[str, str]:
    """{name: label} of some fields, in the order given (e.g. the list's columns)."""
    return {n: ETIQUETAS[n] for n in nombres}
