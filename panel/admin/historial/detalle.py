"""How a Historial entry reads: each change as "campo: antes → después" with the field's label
(the model view's own) and the values as the panel writes them (panel/formatting.py); a created
or deleted row's values; what a bulk action, campaign or export did."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import g
from markupsafe import Markup

from ... import formatting
from ...extensions import db
from ...models import Historial, Usuario
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


def _change(modelo: str, key: str, before, after) -> Markup:
    return Markup("<strong>{}</strong>: {} → {}").format(
        field_label(modelo, key), field_value(modelo, key, before), field_value(modelo, key, after)
    )


def _value(modelo: str, key: str, value) -> Markup:
    return Markup("<strong>{}</strong>: {}").format(field_label(modelo, key), field_value(modelo, key, value))


def _filtros(value) -> str:
    """A list's search and filters (a query string or a dict of them) in words."""
    pairs = parse_qsl(value) if isinstance(value, str) else list((value or {}).items())
    words = []
    for key, val in pairs:
        name = key.split("_", 1)[1] if key.startswith("flt") and "_" in key else key
        words.append(f"{FIELD_LABELS.get(name, name.replace('_', ' ').capitalize())}: {val}")
    return "; ".join(words) or "ninguno"


def _other(key: str, value) -> Markup:
    """A line of a bulk action's, SMS campaign's or export's detail."""
    if key == "filtros":
        text = _filtros(value)
    elif key == "seleccion":
        text = SELECCION.get(value, str(value))
    elif key == "formato":
        text = str(value).upper()
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value) or EMPTY
    else:
        text = EMPTY if value in (None, "") else str(value)
    return Markup("<strong>{}</strong>: {}").format(FIELD_LABELS.get(key, key.capitalize()), text)


def detail_html(entry: Historial, *, open_values: bool = False) -> Markup:
    """The entry's detail: its changes, the values of a created or deleted row, or what an action did."""
    detalle = entry.detalle or {}
    if not isinstance(detalle, dict) or not detalle:
        return Markup("")
    if "cambios" in detalle:
        lines = [_change(entry.modelo, k, *v) for k, v in detalle["cambios"].items()]
        return Markup('<ul class="historial-cambios list-unstyled mb-0">{}</ul>').format(_items(lines))
    if "valores" in detalle:
        valores = detalle["valores"] or {}
        lines = [_value(entry.modelo, k, v) for k, v in valores.items()]
        body = Markup('<ul class="historial-valores list-unstyled mb-0">{}</ul>').format(_items(lines))
        summary = formatting.plural(len(lines), "campo", "campos")
        return Markup("<details{}><summary>{}</summary>{}</details>").format(
            Markup(" open") if open_values else "", summary, body
        )
    lines = [_other(k, v) for k, v in detalle.items()]
    return Markup('<ul class="historial-detalle list-unstyled mb-0">{}</ul>').format(_items(lines))
