"""The OpenAPI 3 document's schemas and parameters, derived from ClienteForm and the views' tables.

Request bodies come from ``schema.form_schema`` over the form the server validates with, so a
limit, a pattern or a choice list changed in the form changes the document too.
"""

import phonenumbers

from ..forms.base import MULTI_LINE_CONTROLS, SINGLE_LINE_CONTROLS
from ..forms.cliente_form import ClienteForm
from ..forms.enviar_sms_form import MAX_DIAS_PROGRAMADA, TIPOS, EnviarSMSForm
from ..identificacion import REGLAS
from ..ids import MAX_ID, MAX_IDS
from ..models.sms import ESTADOS_CAMPANA, ESTADOS_LOG
from ..sms.render import MAX_LENGTH, PLACEHOLDERS
from .cliente_data import API_REQUIRED, CIUDAD, FORM_FIELDS, MAX_CIUDAD, READ_ONLY
from .clientes_endpoints import FILTERS, MAX_PAGE_SIZE, ORDERING, PAGE_SIZE
from .schema import BLANK, TEXT, blank_or, field_schema, form_schema, text_pattern
from .sms_endpoints import SEND_NAMES

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DESCRIPTIONS = {
    "id_usuario": "Cuenta de usuario con rol cliente del mismo propietario, no ligada a otro cliente. "
    "Obligatoria al crear; null solo en un cliente que no tiene cuenta (creado en el panel): la API no "
    "quita una cuenta ya ligada.",
    "tipo_documento": "CC cédula de ciudadanía (por defecto), CE cédula de extranjería, TI tarjeta de "
    "identidad, PPT permiso por protección temporal, PEP permiso especial de permanencia, PA pasaporte, NIT.",
    "cedula_cliente": "Número del documento; se ignoran puntos, espacios y guiones. CC y CE: 3 a 10 dígitos; "
    "TI: 10 u 11 dígitos; NIT: 9 dígitos y su dígito de verificación (si falta, se calcula); PA, PEP y PPT: "
    "3 a 20 letras y dígitos. Único por propietario y tipo de documento.",
    "fecha_nacimiento": "AAAA-MM-DD, anterior a hoy.",
    "genero": "0 femenino, 1 masculino.",
    "telefono": "Número nacional (3001234567) o internacional (+573001234567), válido para el país. "
    "El patrón describe los números de Colombia; para otro país vale un número válido en él. "
    "Vacío o null: sin teléfono.",
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
    extra["telefono"] |= {"pattern": blank_or(phone_pattern())}
    # The shortest number of any type (each type's own rule depends on tipo_documento).
    extra["cedula_cliente"] |= {"minLength": min(least for (least, _most), *_ in REGLAS.values())}
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
    """A client's writable fields as a request body: POST and PUT require what create requires;
    PUT and PATCH take back the null account a GET shows for a client made in the panel."""
    body = form_schema(
        ClienteForm, ClienteForm.WRITABLE, required=API_REQUIRED, extra=_cliente_extra(), defaults=defaults
    )
    if not defaults:
        body["properties"]["id_usuario"]["nullable"] = True
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
    parcial["properties"] = {name: dict(prop) for name, prop in completo["properties"].items()}
    return {
        "Cliente": _cliente_read(),
        "ClienteNuevo": nuevo
        | {
            "description": "Campos desconocidos → 400. tipo_documento, id_ciudad, id_pais, estado y "
            "acepta_sms tienen valor por defecto (dicho en cada campo)."
        },
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
    """crear/ajax's body: ClienteForm's fields under the SMS document's names (api/sms_endpoints.py)."""
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
            "activo": {"type": "boolean", "description": "Por defecto: true."},
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
        "programar_para": {
            "format": "date-time",
            "description": "Fecha y hora RFC 3339 (2026-12-24T09:30:00-05:00); también sin zona, en hora "
            f"de Bogotá (2026-12-24T09:30). Desde ahora hasta {MAX_DIAS_PROGRAMADA} días. Vacío o null: "
            "enviar ya.",
        },
        "mensaje": {
            "minLength": 1,
            "pattern": message_pattern(),
            "description": "Admite {" + "}, {".join(PLACEHOLDERS) + "}.",
        },
        "acortar_enlaces": {
            "description": "Cada enlace http(s) del mensaje se cambia, para cada destinatario, por "
            "PUBLIC_BASE_URL/l/<código de 8 caracteres>, que cuenta sus clics. Por defecto: false.",
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
        # No schema is named as one of its properties: a generated class would shadow it.
        "ListaPlantillas": {
            "type": "object",
            "properties": {
                "success": {"type": "boolean"},
                "plantillas": {"type": "array", "items": ref("PlantillaSMS")},
            },
            "required": ["success", "plantillas"],
        },
        "PlantillaSMS": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "nombre": text, "mensaje": text},
            "required": ["id", "nombre", "mensaje"],
        },
        "EnvioSMS": _envio_sms(),
        "EnvioPrueba": _envio_prueba(),
        "CampanaSMS": _campaign_schema(),
        "ResultadosCampana": _resultados_schema(),
        "DetalleEnvio": _detalle_schema(),
    }


def _detalle_schema() -> dict:
    """One recipient of a campaign: its row's estado (SPEC §7)."""
    integer, text = {"type": "integer"}, {"type": "string"}
    return {
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


def _campaign_schema() -> dict:
    integer, text = {"type": "integer"}, {"type": "string"}
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
            "detalles": {"type": "array", "items": ref("DetalleEnvio")},
            "resultados": ref("ResultadosCampana"),
            "url": {**text, "description": "Solo en 202: dónde consultar el progreso."},
            "preparacion": {
                "type": "object",
                "nullable": True,
                "description": "Solo en estado preparando: destinatarios escritos de los confirmados; "
                "nada se envía hasta tenerlos todos.",
                "properties": {"escritos": integer, "total": integer, "porcentaje": integer, "texto": text},
            },
        },
        "required": ["success", "estado", *counts, "programada_para", "siguiente_envio", "resultados"],
    }


def _resultados_schema() -> dict:
    """What the campaign achieved (SPEC §20; panel/sms/resultados.py)."""
    count = {"type": "integer", "minimum": 0}
    money = {"type": "string", "format": "decimal", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
    currency = {"type": "string", "pattern": "^[A-Z]{3}$"}
    counts = ("enviados", "entregados", "no_entregados", "fallidos", "omitidos", "bajas_72h")
    return {
        "type": "object",
        "description": "Resultados de la campaña: entregas según Twilio, clics, bajas y costo.",
        "properties": {
            **{name: count for name in counts},
            "clics_unicos": {**count, "nullable": True, "description": "null: la campaña no tenía enlaces."},
            "tasa_clics": {
                "type": "number",
                "minimum": 0,
                "nullable": True,
                "description": "Clics únicos sobre entregados, de 0 a 1; null sin enlaces o sin entregas.",
            },
            "costo_real": {
                **money,
                "nullable": True,
                "description": "Suma de los precios que informó Twilio; null mientras no informe ninguno.",
            },
            "moneda_costo_real": {**currency, "nullable": True},
            "costo_estimado": {**money, "description": "Segmentos enviados × precio por segmento."},
            "moneda_costo_estimado": currency,
        },
        "required": [*counts, "clics_unicos", "tasa_clics", "costo_real", "costo_estimado"],
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


# Each enum once, as a named component (a generator makes one type of it, not one per property).
ENUMS = {
    "tipo_documento": "TipoDocumento",
    "genero": "Genero",
    "estado": "EstadoCliente",
    "tipo": "TipoCampana",
}
ENUMS_OF = {"CampanaSMS": {"estado": "EstadoCampana"}, "DetalleEnvio": {"estado": "EstadoEnvio"}}


def enum_labels() -> dict:
    """What each choice means, for OPTIONS' ``display_name`` (the forms' own choice lists)."""
    labels = {n: dict(f.choices) for n, f in FORM_FIELDS.items() if getattr(f, "choices", None)}
    return labels | {"tipo": dict(TIPOS)}


def named_enum(prop: dict, component: str, found: dict) -> dict:
    """The property as a reference to its enum component; null stays the property's (OpenAPI 3.0:
    ``allOf`` the component and ``nullable``), the description too."""
    enum = {"type": prop["type"], "enum": [v for v in prop["enum"] if v is not None]}
    assert found.setdefault(component, enum) == enum, f"{component}: dos listas distintas"
    out = {"allOf": [ref(component)]}
    out |= {k: prop[k] for k in ("nullable", "description") if k in prop}
    return out


def with_named_enums(components: dict) -> dict:
    """Every enum property of every component, replaced by its named component."""
    found: dict = {}
    for name, schema in components.items():
        names = ENUMS | ENUMS_OF.get(name, {})
        for prop_name, prop in (schema.get("properties") or {}).items():
            if "enum" in prop and prop.get("type") != "boolean":
                schema["properties"][prop_name] = named_enum(prop, names[prop_name], found)
    return components | found


def schemas() -> dict:
    return with_named_enums({**_cliente_schemas(), **_sms_schemas(), **_error_schemas()})


# What Python's str.strip() takes off (query_text and _order_by strip each part).
STRIPPED = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def ordering_pattern() -> str:
    """Comma-separated ORDERING fields, each optionally with «-»; empty parts are skipped, and an
    empty ``ordering=`` is the default order (what ``_order_by`` accepts)."""
    key = rf"[{STRIPPED}]*(?:-?(?:" + "|".join(ORDERING) + rf"))?[{STRIPPED}]*"
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
