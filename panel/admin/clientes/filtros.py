"""The search and filters of the Clientes list, shared by the list view, the bulk actions,
the export and the SMS page (``matching_clientes``), so "all matching" means the same
everywhere. Each works on a legacy ``Query`` and on a ``select()`` alike (``.filter``)."""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context
from flask_admin.contrib.sqla.filters import BaseSQLAFilter

from ... import formatting, users
from ...extensions import db
from ...forms import fechas
from ...ids import MAX_ID
from ...models import (
    ESTADOS_CLIENTE,
    CampanaPublicitaria,
    Ciudad,
    Cliente,
    Departamento,
    Empresa,
    Pais,
    Usuario,
)
from ...search import search_conditions
from ...tenancy import current_scope

SEARCH_PLACEHOLDER = "Cédula, nombres, apellidos, correo o teléfono"


def apply_search(query, search: str | None):
    """Every word must appear in the cédula, names, e-mail or phone (panel/search.py)."""
    for condition in search_conditions(search):
        query = query.filter(condition)
    return query


# Not Ciudad: its 1,123 municipios are searched as you type (panel/admin/clientes/ciudad_lookup.py).
CHOICE_MODELS = (Empresa, CampanaPublicitaria, Departamento, Pais)
AGENCIAS = "agencias"  # the superadmin's part of the union: the tenants' admins
MUNICIPIOS = "municipios"  # a Departamento filter's part: its municipios' ids, by departamento


def _municipios_select(departamentos):
    """(tabla, id, nombre) rows of the departamentos' municipios: the city's id, the departamento's."""
    return sa.select(
        sa.literal(MUNICIPIOS).label("tabla"),
        Ciudad.id.label("id"),
        sa.cast(Ciudad.id_departamento, sa.String).label("nombre"),
    ).where(Ciudad.id_departamento.in_(departamentos))


@lru_cache(maxsize=4)
def _choices_statement(agencias: bool, municipios: bool):
    """The filters' choices as one SELECT (tabla, id, nombre), made once per shape: one part per
    choice list; the agencies for a global scope (a tenant's staff have only their own agency to
    choose from); the municipios of the departamentos a filter asks for (``:departamentos``)."""
    parts = [
        sa.select(sa.literal(m.__tablename__).label("tabla"), m.id.label("id"), m.nombre.label("nombre"))
        for m in CHOICE_MODELS
    ]
    if agencias:
        nombre = sa.func.coalesce(sa.func.nullif(Usuario.nombre, ""), Usuario.email)  # `nombre or email`
        tabla = sa.literal(AGENCIAS).label("tabla")
        parts.append(users.admins_select(tabla, Usuario.id.label("id"), nombre.label("nombre")))
    if municipios:
        parts.append(_municipios_select(sa.bindparam("departamentos", expanding=True)))
    union = sa.union_all(*parts).subquery()
    return sa.select(union.c.tabla, union.c.id, union.c.nombre).order_by(union.c.tabla, union.c.nombre)


def _all_choices(departamentos=()) -> dict:
    """Every choice list of the filters, and the agencies, in ONE statement (a UNION ALL through
    the ORM, so the tenancy hook scopes each part), cached for the request: the list page then
    costs the same number of statements whatever the filters and the role. ``departamentos``
    adds their municipios to it (a departamento asked for later costs a statement of its own)."""
    cached = g.get("clientes_filter_choices")
    if cached is None:
        stmt = _choices_statement(current_scope().is_global, bool(departamentos))
        params = {"departamentos": list(departamentos)} if departamentos else {}
        cached = {m.__tablename__: [] for m in CHOICE_MODELS} | {AGENCIAS: []}
        cached[MUNICIPIOS] = {d: [] for d in departamentos}
        for tabla, i, nombre in db.session.execute(stmt, params):
            if tabla == MUNICIPIOS:
                cached[MUNICIPIOS][int(nombre)].append(i)
            else:
                cached[tabla].append((str(i), nombre))
        cached[AGENCIAS].sort(key=lambda o: o[1].lower())
        g.clientes_filter_choices = cached
    missing = [d for d in departamentos if d not in cached[MUNICIPIOS]]
    if missing:
        cached[MUNICIPIOS] |= {d: [] for d in missing}
        for _tabla, i, nombre in db.session.execute(_municipios_select(missing)):
            cached[MUNICIPIOS][int(nombre)].append(i)
    return cached


def municipios_de(departamento: int) -> list[int]:
    """The ids of a departamento's municipios, read with the filters' choices (no statement of
    their own on a list page); outside an app context, read on their own."""
    if not has_app_context():
        return list(db.session.scalars(sa.select(Ciudad.id).where(Ciudad.id_departamento == departamento)))
    return _all_choices((departamento,))[MUNICIPIOS][departamento]


def _names(model):
    """Choice list (id, nombre) of a model for a filter: tenant-scoped, built per request."""

    def options():
        return _all_choices()[model.__tablename__]

    return options


class ChoiceFilter(BaseSQLAFilter):
    """``column = <id>`` with a drop-down; a non-numeric value is invalid (ignored)."""

    def __init__(self, column, name, options, url_name, data_type=None):
        super().__init__(column, name, options=options, data_type=data_type)
        self.url_name = url_name

    def clean(self, value):
        number = int(value)
        if not -MAX_ID <= number <= MAX_ID:
            raise ValueError("fuera de rango")
        return number

    def get_options(self, view):
        """Built per request (the view rebuilds its filter groups): never at start-up."""
        if not has_request_context():
            return None
        return self.options() if callable(self.options) else self.options

    def condition(self, value):
        return self.column == value

    def apply(self, query, value, alias=None):
        return query.filter(self.condition(value))

    def operation(self):
        return "es"


class DepartamentoFilter(ChoiceFilter):
    """The clients living in a departamento: ``id_ciudad IN (its municipios' ids)``, the ids
    written into the statement. With a subquery instead, PostgreSQL cannot tell a departamento
    of half the clients from one of a handful, and walked the whole table backwards for the
    latter (Vichada: 1.4 s at 1,000,000 clients); with the ids, id_ciudad's statistics tell it,
    and a small departamento is read through the ciudad index (docs/performance.md)."""

    def condition(self, value):
        return _in_municipios(tuple(sorted(municipios_de(value))))


@lru_cache(maxsize=64)
def _in_municipios(ids: tuple[int, ...]):
    """``id_ciudad IN (ids)``, the ids written as literals, made once per set of ids: the SQL the
    driver reads stays short enough for it to keep its parsed form (psycopg keeps statements up
    to 4 kB), there are no ~125 values to adapt one by one, and, written into the statement
    (not rendered at each execution), its compiled form is SQLAlchemy's to keep too. They are
    integers read from the database."""
    return Cliente.id_ciudad.in_([sa.literal_column(str(int(i)), sa.Integer) for i in ids])


class DateFilter(BaseSQLAFilter):
    """``creado`` from a day (inclusive) or until a day (inclusive): days in Bogotá, typed
    dd/mm/aaaa (the picker) or aaaa-mm-dd (links)."""

    def __init__(self, column, name, until: bool, url_name):
        super().__init__(column, name, data_type="datepicker")
        self.until, self.url_name = until, url_name

    def clean(self, value):
        day = fechas.read_date(value, iso_only=False)
        if not date(1900, 1, 1) <= day < date(9999, 1, 1):
            raise ValueError("fecha fuera de rango")
        return day

    def condition(self, value: date):
        day = value + timedelta(days=1) if self.until else value
        start = fechas.as_utc(datetime.combine(day, time.min))  # the day's first moment in Bogotá
        return self.column < start if self.until else self.column >= start

    def apply(self, query, value, alias=None):
        return query.filter(self.condition(value))

    def operation(self):
        return "hasta" if self.until else "desde"


def _estados():
    return [(str(k), v) for k, v in ESTADOS_CLIENTE.items()]


def agencias() -> list[tuple[str, str]]:
    """The tenants (their admins) by name, for the superadmin's Agencia filter and column; a
    tenant's own staff have only their own agency to choose from (no query)."""
    if not current_scope().is_global:
        return []
    return _all_choices()[AGENCIAS]


def nombres(model) -> dict[int, str]:
    """The names by id of a choice list (Empresa, CampanaPublicitaria, Departamento), read with
    the filters' choices (no statement of its own on a list page): the list prints a client's
    empresa and campaña, and labels a repeated municipio, with them instead of joining tables."""
    return {int(i): nombre for i, nombre in _all_choices()[model.__tablename__]}


# Only the superadmin sees the Agencia filter (ClienteView); for anyone else it could only
# narrow their own tenant further, so it is harmless if typed into a URL.
AGENCIA = "agencia"

FILTROS = (
    ChoiceFilter(Cliente.estado, "Estado", _estados, "estado"),
    ChoiceFilter(Cliente.id_empresa, "Empresa", _names(Empresa), "empresa"),
    ChoiceFilter(Cliente.id_campana, "Campaña", _names(CampanaPublicitaria), "campana"),
    # No options in the page: the list's script turns its box into a search (ciudades.js).
    ChoiceFilter(Cliente.id_ciudad, "Ciudad", None, "ciudad", data_type="ciudad"),
    DepartamentoFilter(Cliente.id_ciudad, "Departamento", _names(Departamento), "departamento"),
    ChoiceFilter(Cliente.id_pais, "País", _names(Pais), "pais"),
    DateFilter(Cliente.creado, "Creado", False, "creado_desde"),
    DateFilter(Cliente.creado, "Creado", True, "creado_hasta"),
    ChoiceFilter(Cliente.id_propietario, "Agencia", agencias, AGENCIA),
)
BY_URL_NAME = {f.url_name: f for f in FILTROS}


def list_args(args) -> str:
    """The search and filter part of a list URL's arguments, as a query string."""
    keep = [(k, v) for k, v in args.items(multi=True) if k == "search" or k.startswith("flt")]
    return urlencode(keep)


def matching_clientes(filtros: str | None) -> sa.Select:
    """``select(Cliente)`` with the list's search and filters (from a query string) applied.

    Unknown filters and invalid values are ignored; the tenant comes from the hook."""
    stmt = sa.select(Cliente)
    for key, value in parse_qsl(filtros or "", keep_blank_values=True):
        if key == "search":
            stmt = apply_search(stmt, value)
            continue
        flt = BY_URL_NAME.get(key.split("_", 1)[1]) if key.startswith("flt") and "_" in key else None
        if flt is None:
            continue
        try:
            stmt = stmt.where(flt.condition(flt.clean(value)))
        except (ValueError, TypeError):
            continue
    return stmt


def describe_filters(filtros: str | None) -> list[str]:
    """The search and filters of a query string in words, for Historial: 'Búsqueda: garcia',
    'Estado: Activo', 'Empresa: Acme S.A.S.', 'Creado desde: 01/12/2026'."""
    words = []
    for key, value in parse_qsl(filtros or "", keep_blank_values=True):
        if key == "search":
            words.append(f"Búsqueda: {value}")
            continue
        flt = BY_URL_NAME.get(key.split("_", 1)[1]) if key.startswith("flt") and "_" in key else None
        if flt is not None:
            name = f"{flt.name} {flt.operation()}" if isinstance(flt, DateFilter) else flt.name
            words.append(f"{name}: {_filter_value(flt, value)}")
    return words


def _filter_value(flt, value: str) -> str:
    """A filter's value by its name (a deleted row's id stays a number)."""
    if isinstance(flt, DateFilter):
        try:
            return formatting.day(flt.clean(value))
        except ValueError:
            return value
    if flt.data_type == "ciudad":
        ciudad = db.session.get(Ciudad, int(value)) if value.isdigit() and len(value) < 10 else None
        return ciudad.nombre if ciudad is not None else value
    options = flt.options() if callable(flt.options) else flt.options
    return dict(options or ()).get(value, value)
