"""The OpenAPI 3 document's schemas and parameters, derived from ClienteForm and the views' tables.

Request bodies come from ``schema.form_schema`` over the form the server validates with, so a
limit, a pattern or a choice list changed in the form changes the document too.
"""

import phonenumbers

from ..forms.base import MULTI_LINE_CONTROLS, SINGLE_LINE_CONTROLS
from ..forms.clientes import ClienteForm
from ..forms.sms import EnviarSMSForm
from ..ids import MAX_ID, MAX_IDS
from ..models.sms import ESTADOS_CAMPANA, ESTADOS_LOG
from ..sms.render import MAX_LENGTH, PLACEHOLDERS
from .cliente_data import API_REQUIRED, CIUDAD, FORM_FIELDS, MAX_CIUDAD, READ_ONLY
from .clientes import FILTERS, MAX_PAGE_SIZE, ORDERING, PAGE_SIZE
from .schema import BLANK, TEXT, field_schema, form_schema, text_pattern
from .sms import SEND_NAMES

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DESCRIPTIONS = {
    "id_usuario": "Cuenta de usuario con rol cliente del mismo propietario, no ligada a otro cliente.",
    "tipo_documento": "CC cédula de ciudadanía (por defecto), CE cédula de extranjería, TI tarjeta de "
    "identidad, PPT permiso por protección temporal, PEP permiso especial de permanencia, PA pasaporte, NIT.",
    "cedula_cliente": "Número del documento; se ignoran puntos, espacios y guiones. CC y CE: 3 a 10 dígitos; "
    "TI: 10 u 11 dígitos; NIT: 9 dígitos y su dígito de verificación (si falta, se calcula); PA, PEP y PPT: "
    "3 a 20 letras y dígitos. Único por propietario y tipo de documento.",
    "fecha_nacimiento": "AAAA-MM-DD, anterior a hoy.",
    "genero": "0 femenino, 1 masculino.",
    "telefono": "Número nacional (3001234567) o internacional (+573001234567), válido para el país. "
    "El patrón describe los números de Colombia; para otro país vale un número válido en él.",
    "id_ciudad": "Ciudad (por defecto 1, Bogotá); debe pertenecer al país.",
    "id_pais": "País (por defecto 1, Colombia).",
    "id_empresa": "Empresa del mismo propietario.",
    "id_campana": "Campaña publicitaria del mismo propietario.",
    "estado": "0 inactivo, 1 activo, 3 deshabilitado (por defecto 1).",
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def phone_pattern(region: str = "CO") -> str:
    """The valid numbers of a country, national or with +code, from the phonenumbers metadata
    that ``ClienteForm.validate_telefono`` checks with (a method, so schema.py cannot read it)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    kinds = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number")
    kinds += ("voip", "pager", "uan", "voicemail")
    patterns = [
        d.national_number_pattern for k in kinds if (d := getattr(meta, k)) and d.national_number_pattern
    ]
    national = "|".join(patterns).replace(r"\d", "[0-9]")
    return rf"^(?:\+{meta.country_code})?(?:{national})$"


def _cliente_extra() -> dict:
    """What the form's methods add to its fields, and the descriptions."""
    extra = {name: {"description": text} for name, text in DESCRIPTIONS.items()}
    extra["telefono"] |= {"pattern": phone_pattern()}
    return extra


# ``ciudad``: the city by name, beside id_ciudad (api/cliente_data.named_city, municipios.match).
CIUDAD_POR_NOMBRE = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_CIUDAD,
    "pattern": text_pattern(SINGLE_LINE_CONTROLS, required=True),
    "writeOnly": True,
    "description": "La ciudad escrita como la escribe una persona, en lugar de id_ciudad: el municipio "
    "(«Itagüí»), con su departamento si el nombre se repite («Rionegro (Antioquia)», «Rionegro, Antioquia») "
    "o su código DANE («05360»); no importan tildes, mayúsculas ni «D.C.». Un nombre ambiguo o desconocido "
    "es un 400 en «ciudad» que nombra los candidatos o el más parecido («¿Quiso decir …?»). Con "
    "id_ciudad, ambos deben nombrar la misma ciudad; sin id_pais, el país es el de la ciudad. La respuesta "
    "trae id_ciudad.",
}


def cliente_body(*, defaults: bool) -> dict:
    """A client's writable fields as a request body: POST and PUT require what create requires."""
    body = form_schema(
        ClienteForm, ClienteForm.WRITABLE, required=API_REQUIRED, extra=_cliente_extra(), defaults=defaults
    )
    body["properties"][CIUDAD] = dict(CIUDAD_POR_NOMBRE)
    return body


def _read_schema(field, name: str) -> dict:
    """A field as the server answers it: its type, enum and null, not the input's patterns."""
    prop = field_schema(field)
    out = {k: v for k, v in prop.items() if k in ("type", "format", "enum")}
    if prop.get("nullable"):  # id_usuario too: the panel's form leaves it optional
        out["nullable"] = True
    return out | ({"description": DESCRIPTIONS[name]} if name in DESCRIPTIONS else {})


def _cliente_read() -> dict:
    read_only = {
        "id_cliente": {"type": "integer", "readOnly": True},
        "creado": {"type": "string", "format": "date-time", "readOnly": True},
        "actualizado": {"type": "string", "format": "date-time", "readOnly": True},
    }
    assert set(read_only) == set(READ_ONLY)
    fields = {name: _read_schema(f, name) for name, f in FORM_FIELDS.items()}
    properties = {**read_only, **fields}
    return {
        "type": "object",
        "description": "Todas las claves están siempre presentes; null donde el valor guardado puede faltar.",
        "properties": properties,
        "required": list(properties),
    }


def _cliente_schemas() -> dict:
    nuevo, completo = cliente_body(defaults=True), cliente_body(defaults=False)
    parcial = {k: v for k, v in completo.items() if k != "required"}
    return {
        "Cliente": _cliente_read(),
        "ClienteNuevo": nuevo
        | {"description": "Campos desconocidos → 400. id_ciudad, id_pais y estado tienen valor por defecto."},
        "ClienteCompleto": completo
        | {"description": "PUT: los campos que exige la creación; los demás, si faltan, conservan su valor."},
        "ClienteParcial": parcial | {"description": "PATCH: solo los campos enviados cambian."},
        "PaginaClientes": {
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "next": {"type": "string", "nullable": True},
                "previous": {"type": "string", "nullable": True},
                "results": {"type": "array", "items": ref("Cliente")},
            },
            "required": ["count", "next", "previous", "results"],
        },
    }


def _ajax_nuevo() -> dict:
    """crear/ajax's body: ClienteForm's fields under the SMS document's names (api/sms.py)."""
    fields = {name: FORM_FIELDS[name] for name in ("nombre_cliente", "cedula_cliente", "telefono")}
    nombre = field_schema(fields["nombre_cliente"]) | {
        "description": "Nombre completo: se divide en nombres y apellidos (máximo 20 cada parte)."
    }
    # The SMS document's clients are cédulas (CC): its own rule, not every type's.
    documento = field_schema(fields["cedula_cliente"]) | {
        "pattern": "^[0-9]{3,10}$",
        "maxLength": 10,
        "description": "La cédula (CC): 3 a 10 dígitos.",
    }
    telefono = field_schema(fields["telefono"]) | _cliente_extra()["telefono"]
    return {
        "type": "object",
        "properties": {
            "nombre": nombre,
            "telefono": telefono,
            "documento": documento,
            "activo": {"type": "boolean", "default": True},
        },
        "required": ["nombre", "documento"],
        "additionalProperties": False,
    }


def message_pattern() -> str:
    """Text with braces only in the known placeholders ({nombre}…), not blank (sms.render), without
    the controls a multi-line field refuses (panel/forms/base.py)."""
    placeholder = r"\{(?:" + "|".join(PLACEHOLDERS) + r")\}"
    piece = rf"(?:[^{{}}{MULTI_LINE_CONTROLS}]|{placeholder})"
    solid = rf"(?:[^{{}}{MULTI_LINE_CONTROLS}{BLANK}]|{placeholder})"
    return rf"^{piece}*{solid}{piece}*$"


def _envio_sms() -> dict:
    """The body of POST /clientes/enviar-sms/: EnviarSMSForm's fields under the document's names."""
    extra = {
        "programar_para": {"maxLength": 40},
        "mensaje": {
            "minLength": 1,
            "pattern": message_pattern(),
            "description": "Admite {" + "}, {".join(PLACEHOLDERS) + "}.",
        },
    }
    form = form_schema(EnviarSMSForm, list(SEND_NAMES), extra=extra, defaults=False)
    properties = {SEND_NAMES[name]: prop for name, prop in form["properties"].items()}
    properties["mensaje"].pop("nullable", None)
    ids = {"cliente_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": MAX_IDS}}
    return form | {"properties": ids | properties, "required": ["cliente_ids", "mensaje"]}


def _envio_prueba() -> dict:
    """The body of POST /clientes/enviar-prueba/: a message or a template, exactly one of them."""
    mensaje = {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH, "pattern": message_pattern()}
    mensaje["description"] = "Admite {" + "}, {".join(PLACEHOLDERS) + "} (con el nombre del usuario)."
    return {
        "type": "object",
        "description": "«mensaje» o «id_plantilla» (una plantilla activa): uno de los dos.",
        "properties": {"mensaje": mensaje, "id_plantilla": ID},
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
    }


def _sms_schemas() -> dict:
    text = {"type": "string"}
    return {
        "ClienteAjaxNuevo": _ajax_nuevo(),
        "ClienteAjax": {
            "type": "object",
            "properties": {
                "success": {"type": "boolean", "enum": [True]},
                "cliente": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "nombre": text,
                        "telefono": {**text, "nullable": True},
                        "documento": text,
                        "activo": {"type": "boolean"},
                        "creado": {**text, "format": "date-time"},
                    },
                    "required": ["id", "nombre", "telefono", "documento", "activo", "creado"],
                },
            },
            "required": ["success", "cliente"],
        },
        "Plantillas": {
            "type": "object",
            "properties": {
                "success": {"type": "boolean"},
                "plantillas": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "nombre": text, "mensaje": text},
                        "required": ["id", "nombre", "mensaje"],
                    },
                },
            },
            "required": ["success", "plantillas"],
        },
        "EnvioSMS": _envio_sms(),
        "EnvioPrueba": _envio_prueba(),
        "CampanaSMS": _campaign_schema(),
    }


def _campaign_schema() -> dict:
    integer, text = {"type": "integer"}, {"type": "string"}
    detalle = {
        "type": "object",
        "properties": {
            "cliente_id": integer,
            "nombre": text,
            "estado": {"type": "string", "enum": list(ESTADOS_LOG)},
            "twilio_sid": text,
            "error": text,
        },
        "required": ["cliente_id", "nombre", "estado"],
    }
    counts = ("campana_id", "total_clientes", "enviados_exitosos", "enviados_fallidos", "pendientes")
    counts += ("omitidos", "cancelados")
    moment = {**text, "format": "date-time", "nullable": True}
    return {
        "type": "object",
        "description": "200: terminada (con detalles). 202: sigue en curso; consulte `url`.",
        "properties": {
            "success": {"type": "boolean"},
            "nombre": text,
            "estado": {"type": "string", "enum": list(ESTADOS_CAMPANA)},
            "tipo": {"type": "string", "enum": ["comercial", "transaccional"]},
            "programada_para": {**moment, "description": "La hora pedida (programar_para)."},
            "siguiente_envio": {**moment, "description": "Cuándo empezará (o seguirá) el envío solo."},
            **{name: integer for name in counts},
            "creado": {**text, "format": "date-time"},
            "completado": {**text, "format": "date-time", "nullable": True},
            "detalles": {"type": "array", "items": detalle},
            "url": {**text, "description": "Solo en 202: dónde consultar el progreso."},
        },
        "required": ["success", "estado", *counts, "programada_para", "siguiente_envio"],
    }


def _error_schemas() -> dict:
    """The two kinds of error body, apart: a message (``Error``) and field errors (``ValidationError``)."""
    messages = {"type": "array", "items": {"type": "string"}, "minItems": 1}
    field_errors = {
        "type": "object",
        "description": "{campo: [mensaje, …]}; non_field_errors para los del cuerpo entero.",
        "additionalProperties": messages,
        "minProperties": 1,
    }
    false = {"type": "boolean", "enum": [False]}
    return {
        "Error": {
            "type": "object",
            "description": "Un mensaje: credenciales, permisos, no encontrado, conflicto, JSON mal formado.",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
            "additionalProperties": False,
        },
        "ValidationError": field_errors,
        "ErrorSMS": {
            "type": "object",
            "description": "Error de las URL de la aplicación SMS: un mensaje.",
            "properties": {"success": false, "detail": {"type": "string"}},
            "required": ["success", "detail"],
            "additionalProperties": False,
        },
        "ValidationErrorSMS": {
            "type": "object",
            "description": "Errores de campo de las URL de la aplicación SMS.",
            "properties": {"success": false, "errors": field_errors},
            "required": ["success", "errors"],
            "additionalProperties": False,
        },
        "Protegido": {
            "type": "object",
            "properties": {
                "detail": {"type": "string"},
                "protegido_por": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
            "required": ["detail"],
        },
    }


def schemas() -> dict:
    return {**_cliente_schemas(), **_sms_schemas(), **_error_schemas()}


def ordering_pattern() -> str:
    """Comma-separated ORDERING fields, each optionally with «-» (what ``_order_by`` accepts)."""
    key = r" *-?(?:" + "|".join(ORDERING) + r") *"
    return rf"^{key}(?:,{key})*$"


def _query(name: str, schema: dict, description: str | None = None) -> dict:
    param = {"name": name, "in": "query", "schema": schema}
    return param | ({"description": description} if description else {})


LIST_PARAMS = [
    *(_query(f, {"type": "integer", "minimum": 0, "maximum": MAX_ID}) for f in FILTERS),
    _query(
        "search",
        {"type": "string", "maxLength": 100, "pattern": TEXT},
        "Busca en cédula, nombres, apellidos, email y teléfono (todas las palabras).",
    ),
    _query(
        "ordering",
        {"type": "string", "maxLength": 300, "pattern": ordering_pattern()},
        "Campos separados por comas, «-» para descendente: " + ", ".join(ORDERING),
    ),
    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
    _query(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        f"Por defecto {PAGE_SIZE}; un valor mayor que {MAX_PAGE_SIZE} se reduce a {MAX_PAGE_SIZE}.",
    ),
]
