"""The advertising platform's REST contract: /Database/Database/clientes/."""

from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, jsonify, request, url_for
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..idempotency import Stored
from ..ids import MAX_ID
from ..models import Cliente, dependents
from ..models.users import can_write
from ..search import search_conditions
from .caller import protect_blueprint, requires
from .cliente_data import save, to_json
from .error_responses import ApiError
from .idempotent import idempotent
from .payload import json_object, query_int, query_text

bp = Blueprint("api_clientes", __name__, url_prefix="/Database/Database/clientes")
protect_blueprint(bp)

FILTERS = ("estado", "id_empresa", "id_campana", "id_ciudad", "id_pais")
ORDERING = (
    *("id_cliente", "cedula_cliente", "nombre_cliente", "apellido_cliente", "fecha_nacimiento"),
    *("email", "telefono", "estado", "id_ciudad", "id_pais", "id_empresa", "id_campana"),
    *("creado", "actualizado"),
)
PAGE_SIZE, MAX_PAGE_SIZE = 50, 500


def _conditions() -> list:
    """The WHERE of the list: filters and search (tenancy is added by the ORM hook)."""
    where = [getattr(Cliente, name) == value for name in FILTERS if (value := query_int(name)) is not None]
    return where + search_conditions(query_text("search"))


def _order_by() -> list:
    """``?ordering=campo,-otro``: only the listed fields; id_cliente last, for stable pages."""
    raw = query_text("ordering", max_length=300)
    keys = [k.strip() for k in raw.split(",") if k.strip()] if raw else []
    bad = [k for k in keys if k.removeprefix("-") not in ORDERING]
    if bad:
        raise ApiError(400, errors={"ordering": [f"Campo de orden no válido: {', '.join(bad)}."]})
    columns = [getattr(Cliente, k.removeprefix("-")) for k in keys]
    order = [col.desc() if k.startswith("-") else col.asc() for k, col in zip(keys, columns, strict=True)]
    return [*order, Cliente.id_cliente.asc()]


def _page_url(page: int | None) -> str | None:
    if page is None:
        return None
    args = request.args.to_dict() | {"page": str(page)}
    return f"{request.base_url}?{urlencode(args)}"


@bp.get("/")
def list_clientes():
    """``{count, next, previous, results}``, filtered, searched, ordered, paginated."""
    where, order = _conditions(), _order_by()
    page = query_int("page", minimum=1) or 1
    size = min(query_int("page_size", minimum=1) or PAGE_SIZE, MAX_PAGE_SIZE)  # capped, as DRF does
    count = db.session.scalar(sa.select(sa.func.count(Cliente.id_cliente)).where(*where))
    last = max(1, -(-count // size))
    if page > last:
        raise ApiError(404, "Página no válida.")
    rows = db.session.scalars(
        sa.select(Cliente).where(*where).order_by(*order).limit(size).offset((page - 1) * size)
    ).all()
    return jsonify(
        count=count,
        next=_page_url(page + 1 if page < last else None),
        previous=_page_url(page - 1 if page > 1 else None),
        results=[to_json(c) for c in rows],
    )


def get_cliente(id_cliente: int) -> Cliente:
    """The client, through the tenancy hook: another tenant's id is a 404 like a missing one."""
    if not 0 < id_cliente <= MAX_ID:
        raise ApiError(404)
    cliente = db.session.scalar(sa.select(Cliente).where(Cliente.id_cliente == id_cliente))
    if cliente is None:
        raise ApiError(404, "Cliente no encontrado.")
    return cliente


@bp.get("/<int:id_cliente>/")
def detail(id_cliente: int):
    return jsonify(to_json(get_cliente(id_cliente)))


def _created(cliente: Cliente):
    response = jsonify(to_json(cliente))
    response.status_code = 201
    response.headers["Location"] = url_for(".detail", id_cliente=cliente.id_cliente)
    return response


def _replay_create(stored: Stored):
    """A repeated create: the same client (re-read through the tenancy hook), or the same error."""
    if stored.recurso_id is None:
        return jsonify(stored.cuerpo), stored.codigo
    return _created(get_cliente(stored.recurso_id))


@bp.post("/")
@requires(can_write)
@idempotent("clientes", resource=lambda body: body.get("id_cliente"), replay=_replay_create)
def create():
    return _created(save(json_object()))


@bp.put("/<int:id_cliente>/")
@requires(can_write)
def replace(id_cliente: int):
    cliente = get_cliente(id_cliente)
    return jsonify(to_json(save(json_object(), cliente, full=True)))


@bp.patch("/<int:id_cliente>/")
@requires(can_write)
def update(id_cliente: int):
    cliente = get_cliente(id_cliente)
    return jsonify(to_json(save(json_object(), cliente, partial=True)))


@bp.delete("/<int:id_cliente>/")
@requires(can_write)
def delete(id_cliente: int):
    """204, or 409 naming what protects the client: nothing is deleted in cascade."""
    cliente = get_cliente(id_cliente)
    found = dependents.blockers(cliente)
    if found:
        raise ApiError(409, dependents.message(found), protegido_por=dependents.as_json(found))
    db.session.delete(cliente)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "No se puede eliminar el cliente: tiene registros asociados.") from None
    return "", 204
