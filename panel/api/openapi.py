"""The OpenAPI 3 document of the API, built from the same field tables the views use."""

from ..ids import MAX_ID
from .cliente_data import FIELDS
from .clientes import FILTERS, MAX_PAGE_SIZE, ORDERING, PAGE_SIZE

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
NULLABLE_ID = {**ID, "nullable": True}
TEXT_LIMITS = {
    "cedula_cliente": 10,
    "nombre_cliente": 20,
    "apellido_cliente": 20,
    "email": 40,
    "telefono": 20,
}
DESCRIPTIONS = {
    "id_usuario": "Cuenta de usuario con rol cliente del mismo propietario, no ligada a otro cliente.",
    "cedula_cliente": "Cédula: solo dígitos, máximo 10; única por propietario.",
    "genero": "0 femenino, 1 masculino.",
    "telefono": "Número nacional (3001234567) o internacional (+573001234567), válido para el país.",
    "id_ciudad": "Ciudad (por defecto 1, Bogotá); debe pertenecer al país.",
    "id_pais": "País (por defecto 1, Colombia).",
    "estado": "0 inactivo, 1 activo, 3 deshabilitado (por defecto 1).",
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _field(name: str, kind: str, nullable: bool) -> dict:
    schema = {
        "int": {"type": "integer"},
        "str": {"type": "string"},
        "date": {"type": "string", "format": "date"},
    }
    prop = dict(schema[kind], nullable=nullable)
    if name in TEXT_LIMITS:
        prop["maxLength"] = TEXT_LIMITS[name]
    if name in ("genero", "estado"):
        prop["enum"] = [0, 1] if name == "genero" else [0, 1, 3]
    if name in DESCRIPTIONS:
        prop["description"] = DESCRIPTIONS[name]
    return prop


def _cliente_schemas() -> dict:
    writable = {name: _field(name, *spec) for name, spec in FIELDS.items()}
    read_only = {
        "id_cliente": {"type": "integer", "readOnly": True},
        "acepta_sms": {"type": "boolean", "readOnly": True},
        "creado": {"type": "string", "format": "date-time", "readOnly": True},
        "actualizado": {"type": "string", "format": "date-time", "readOnly": True},
    }
    return {
        "Cliente": {
            "type": "object",
            "properties": {**read_only, **writable},
            "required": [*read_only, *writable],
        },
        "ClienteNuevo": {
            "type": "object",
            "description": "Campos desconocidos → 400. id_ciudad, id_pais y estado tienen valor por defecto.",
            "properties": writable,
            "required": ["id_usuario", "cedula_cliente", "nombre_cliente"],
            "additionalProperties": False,
        },
        "ClienteCompleto": {
            "type": "object",
            "description": "PUT: todos los campos escribibles son obligatorios (null donde se admite).",
            "properties": writable,
            "required": list(writable),
            "additionalProperties": False,
        },
        "ClienteParcial": {"type": "object", "properties": writable, "additionalProperties": False},
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


def _sms_schemas() -> dict:
    text = {"type": "string"}
    return {
        "ClienteAjaxNuevo": {
            "type": "object",
            "properties": {
                "nombre": {**text, "description": "Nombre completo: se divide en nombres y apellidos."},
                "telefono": {**text, "nullable": True},
                "documento": {**text, "nullable": True, "description": "La cédula (obligatoria)."},
                "activo": {"type": "boolean", "default": True},
            },
            "required": ["nombre"],
            "additionalProperties": False,
        },
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
        "EnvioSMS": {
            "type": "object",
            "properties": {
                "cliente_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": 10000},
                "mensaje": {
                    **text,
                    "minLength": 1,
                    "description": "Admite {nombre}, {apellido}, {nombre_completo}.",
                },
                "nombre_campana": {**text, "nullable": True, "maxLength": 200},
            },
            "required": ["cliente_ids", "mensaje"],
            "additionalProperties": False,
        },
        "CampanaSMS": _campaign_schema(),
    }


def _campaign_schema() -> dict:
    integer, text = {"type": "integer"}, {"type": "string"}
    detalle = {
        "type": "object",
        "properties": {
            "cliente_id": integer,
            "nombre": text,
            "estado": {"type": "string", "enum": ["pendiente", "enviando", "enviado", "fallido"]},
            "twilio_sid": text,
            "error": text,
        },
        "required": ["cliente_id", "nombre", "estado"],
    }
    counts = ("campana_id", "total_clientes", "enviados_exitosos", "enviados_fallidos", "pendientes")
    return {
        "type": "object",
        "description": "200: terminada (con detalles). 202: sigue en curso; consulte `url`.",
        "properties": {
            "success": {"type": "boolean"},
            "nombre": text,
            "estado": {"type": "string", "enum": ["pendiente", "procesando", "completado", "error"]},
            **{name: integer for name in counts},
            "creado": {**text, "format": "date-time"},
            "completado": {**text, "format": "date-time", "nullable": True},
            "detalles": {"type": "array", "items": detalle},
            "url": {**text, "description": "Solo en 202: dónde consultar el progreso."},
        },
        "required": ["success", "estado", *counts],
    }


def _error_schemas() -> dict:
    messages = {"type": "array", "items": {"type": "string"}}
    return {
        "Error": {
            "type": "object",
            "properties": {"detail": {"type": "string"}, "success": {"type": "boolean", "enum": [False]}},
            "required": ["detail"],
        },
        "ErroresDeCampo": {
            "type": "object",
            "description": "{campo: [mensaje, …]}; non_field_errors para los del cuerpo entero.",
            "additionalProperties": messages,
        },
        "ErrorSMS": {
            "type": "object",
            "properties": {
                "success": {"type": "boolean", "enum": [False]},
                "errors": {"type": "object", "additionalProperties": messages},
                "detail": {"type": "string"},
            },
            "required": ["success"],
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


LIST_PARAMS = [
    *(
        {"name": f, "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}
        for f in FILTERS
    ),
    {
        "name": "search",
        "in": "query",
        "schema": {"type": "string", "maxLength": 100},
        "description": "Busca en cédula, nombres, apellidos, email y teléfono (todas las palabras).",
    },
    {
        "name": "ordering",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Campos separados por comas, «-» para descendente: " + ", ".join(ORDERING),
    },
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    {
        "name": "page_size",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "description": f"Por defecto {PAGE_SIZE}, máximo {MAX_PAGE_SIZE}.",
    },
]
