"""How a Historial entry reads: each change as "campo: antes → después" with the field's label
(the model view's own) and the values as the panel writes them (panel/formatting.py); a created
or deleted row's values; what a bulk action, campaign or export did."""

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import g
from markupsafe import Markup

from ... import export, formatting
from ...extensions import db
from ...models import Historial, Usuario
from ..clientes.filtros import describe_filters
from ..comun import registros

# Codes stored in a field, and the kind of label formatting.py gives them.
CODE_LABELS = {
    ("Cliente", "estado"): "estado_cliente",
    ("Cliente", "genero"): "genero",
    ("Cliente", "tipo_documento"): "tipo_documento",
    ("Usuario", "rol"): "rol",
}
# Fields no view labels (keys, stamps, secrets), and the keys of a bulk action's or export's detail.
FIELD_LABELS = {
    "id": "ID",
    "id_propietario": "Propietario",
    "id_usuario": "Usuario",
    "password_hash": "Contraseña",
    "creado": "Creado",
    "fecha": "Fecha",
    "activo": "Activo",
    "telefono": "Teléfono",
    "sesion_version": "Sesiones",
    "accion": "Acción",
    "seleccion": "Selección",
    "ids": "Registros",
    "filtros": "Filtros",
    "formato": "Formato",
    "omitidos": "Omitidos",
    "search": "Búsqueda",
    "busqueda": "Búsqueda",
    "orden": "Orden",
    "tipo": "Tipo",
    "estado": "Estado",
    "archivo": "Archivo",
    "importacion": "Importación",
    "total": "Filas del archivo",
    "nuevos": "Nuevos",
    "actualizados": "Actualizados",
    "con_errores": "Con errores",
    "carga": "Carga",
    "cargados": "Cargados",
    "numeros_en_archivo": "Números en el archivo",
    "invalidas": "Inválidas",
    "mensaje": "Mensaje",
    "clientes": "Clientes",
    "prefijo": "Prefijo",
    "nombre": "Nombre",
    # A tenant's own Twilio account (Configuración → Envío de SMS; the token only as ***).
    "twilio_account_sid": "Account SID de Twilio",
    "twilio_auth_token": "Auth Token de Twilio",
    "twilio_from_number": "Número remitente",
    "twilio_messaging_service_sid": "Messaging Service SID",
}
SELECCION = {"todos": "todos los resultados de la búsqueda y los filtros", "ids": "filas marcadas"}
EMPTY = "—"


def field_label(modelo: str, key: str) -> str:
    """The label the model's own view gives a field (a key column takes its relation's)."""
    model = registros.model_class(modelo)
    view = registros.view_of(model) if model else None
    labels = dict(getattr(view, "column_labels", None) or {})
    relation = _relation(model, key)
    for name in (key, relation.key if relation else None):
        if name in labels:
            return str(labels[name])
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    return key.removeprefix("id_").replace("_", " ").capitalize()


def _relation(model, key: str):
    """The many-to-one relationship whose foreign key is the column ``key``."""
    if model is None:
        return None
    for rel in sa.inspect(model).relationships:
        if rel.direction.name == "MANYTOONE" and [c.key for c in rel.local_columns] == [key]:
            return rel
    return None


def _python_type(model, key: str):
    attr = sa.inspect(model).column_attrs.get(key) if model is not None else None
    try:
        return attr.columns[0].type.python_type if attr is not None else None
    except NotImplementedError:
        return None


def field_value(modelo: str, key: str, value) -> str:
    """A stored (JSON) value as the panel shows it."""
    if value is None or value == "":
        return EMPTY
    if value == "***":
        return "(oculta)"
    if kind := CODE_LABELS.get((modelo, key)):
        return formatting.label(kind, value)
    if key == "telefono" or (modelo, key) == ("NumeroExcluidoPropio", "numero"):
        return formatting.phone(str(value))
    model = registros.model_class(modelo)
    if key == "id_propietario":  # the tenant: its admin's name, as the Agencia column shows it
        return _related_name(Usuario, value)
    if relation := _relation(model, key):
        return _related_name(relation.mapper.class_, value)
    kind = _python_type(model, key)
    try:
        if kind is bool:
            return formatting.yes_no(value)
        if kind is datetime:
            return formatting.date_time(datetime.fromisoformat(value))
        if kind is date:
            return formatting.day(date.fromisoformat(value))
        if kind is Decimal:
            return formatting.money(Decimal(str(value)))
    except (TypeError, ValueError, InvalidOperation):
        pass
    return str(value)


def _related_name(model, pk) -> str:
    """The related row's name (cached per request), or its id once it is gone or out of reach."""
    cache = g.setdefault("historial_nombres", {})
    if (model, pk) not in cache:
        row = db.session.get(model, pk)
        cache[(model, pk)] = str(row) if row is not None else f"#{pk} (ya no existe)"
    return cache[(model, pk)]


def _items(lines) -> Markup:
    return Markup("").join(Markup("<li>{}</li>").format(line) for line in lines)


def _filtros(value) -> str:
    """A list's search and filters in words, whatever shape the entry kept: a Clientes query
    string ('Estado: Activo; Empresa: Acme S.A.S.'), an export's {busqueda, filtros, orden}, or a
    campaign's selection {seleccion, filtros | ids}."""
    if isinstance(value, str):
        return "; ".join(describe_filters(value)) or "ninguno"
    value = value if isinstance(value, dict) else {}
    words = []
    if "seleccion" in value:
        words.append(SELECCION.get(value["seleccion"], str(value["seleccion"])))
        if value.get("ids"):
            words.append(f"{FIELD_LABELS['ids']}: {', '.join(str(i) for i in value['ids'])}")
        words.extend(describe_filters(value.get("filtros") or ""))
        return "; ".join(words)
    if value.get("busqueda"):
        words.append(f"Búsqueda: {value['busqueda']}")
    for flt in value.get("filtros") or () if isinstance(value.get("filtros"), list) else ():
        words.append(f"{flt.get('filtro', '')}: {flt.get('valor', '')}")
    if value.get("orden"):
        words.append(f"Orden: columna {value['orden']}")
    return "; ".join(words) or "ninguno"


def _text(key: str, value) -> str:
    """The words of one line of a bulk action's, campaign's, import's or export's detail."""
    if key == "filtros":
        return _filtros(value)
    if key == "seleccion":
        return SELECCION.get(value, str(value))
    if key == "formato":
        formato = export.FORMATOS.get(str(value))
        return formato.nombre if formato else str(value)
    if key == "accion":
        return action_title(str(value))
    if key == "tipo":
        return formatting.label("tipo_campana", value)
    if key == "estado" and isinstance(value, str):
        return value.capitalize()
    if isinstance(value, bool):
        return formatting.yes_no(value)
    if isinstance(value, int):
        return formatting.number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or EMPTY
    return EMPTY if value in (None, "") else str(value)


def action_title(name: str) -> str:
    """A bulk action of Clientes by its button's words ('desactivar' → 'Desactivar')."""
    from ...models import Cliente

    view = registros.view_of(Cliente)
    actions = getattr(view, "_actions_data", None) or {}
    return str(actions[name][1]) if name in actions else name.replace("_", " ").capitalize()


def _key_label(key: str) -> str:
    return FIELD_LABELS.get(key, key.replace("_", " ").capitalize())


def _other(key: str, value) -> Markup:
    """A line of a bulk action's, SMS campaign's or export's detail."""
    return Markup("<strong>{}</strong>: {}").format(_key_label(key), _text(key, value))


def detail_lines(modelo: str, detalle) -> list[tuple[str, str]]:
    """The entry's detail as (label, words) pairs: the one reading of it, for the page and the export."""
    if not isinstance(detalle, dict) or not detalle:
        return []
    if "cambios" in detalle:
        return [
            (field_label(modelo, k), f"{field_value(modelo, k, a)} → {field_value(modelo, k, b)}")
            for k, (a, b) in detalle["cambios"].items()
        ]
    if "valores" in detalle:
        valores = detalle["valores"] or {}
        return [(field_label(modelo, k), field_value(modelo, k, v)) for k, v in valores.items()]
    return [(_key_label(k), _text(k, v)) for k, v in detalle.items()]


def detail_text(modelo: str, detalle) -> str:
    """The detail in one line of text, as the export writes it: 'Estado: Activo → Inactivo; …'."""
    return "; ".join(f"{label}: {words}" for label, words in detail_lines(modelo, detalle))


def detail_html(entry: Historial, *, open_values: bool = False) -> Markup:
    """The entry's detail: its changes, the values of a created or deleted row, or what an action did."""
    detalle = entry.detalle or {}
    if not isinstance(detalle, dict) or not detalle:
        return Markup("")
    lines = [Markup("<strong>{}</strong>: {}").format(*pair) for pair in detail_lines(entry.modelo, detalle)]
    if "cambios" in detalle:
        return Markup('<ul class="historial-cambios list-unstyled mb-0">{}</ul>').format(_items(lines))
    if "valores" in detalle:
        body = Markup('<ul class="historial-valores list-unstyled mb-0">{}</ul>').format(_items(lines))
        summary = formatting.plural(len(lines), "campo", "campos")
        return Markup("<details{}><summary>{}</summary>{}</details>").format(
            Markup(" open") if open_values else "", summary, body
        )
    return Markup('<ul class="historial-detalle list-unstyled mb-0">{}</ul>').format(_items(lines))


SEPARADOR = "\x1f"  # between an entry's modelo and its detail's JSON in the export's one column


def exported_detail(value) -> str:
    """The export's Detalle cell: the words the page shows, from 'modelo<US>{json}'."""
    modelo, _, texto = (value or "").partition(SEPARADOR)
    try:
        detalle = json.loads(texto) if texto else None
    except ValueError:
        return texto
    return detail_text(modelo, detalle)
