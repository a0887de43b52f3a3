"""The one place that scopes data to the current user's tenant.

Every ORM statement (SELECT, UPDATE, DELETE) of a tenant-owned model goes through the
``do_orm_execute`` hook below, which adds ``id_propietario = <tenant>`` for the scope in
force. Views, exports, actions, choice lists and the API never filter by tenant themselves.

The scope in force is, in order: one set explicitly with :func:`using`; in a web request,
the logged-in user's (set before each request); an anonymous web request sees no tenant
data; outside a request (CLI, background sender) every tenant.
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache

import sqlalchemy as sa
from flask import Flask, g, has_request_context
from flask_login import current_user
from flask_sqlalchemy.session import Session
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.pool import Pool

from .extensions import db
from .models import TenantOwned, TenantScoped, Usuario
from .models.users import sees_every_tenant


class TenancyError(PermissionError):
    """A write that would put a row in, or move it to, another tenant."""


@dataclass(frozen=True)
class Scope:
    """Whose data a unit of work may see: one tenant, every tenant, or none."""

    tenant_id: int | None = None  # None: every tenant (superadmin, system)
    user_id: int | None = None
    deny: bool = False  # True: no tenant data at all (anonymous web request)

    @property
    def is_global(self) -> bool:
        return self.tenant_id is None and not self.deny


EVERY_TENANT = Scope()
NO_TENANT = Scope(deny=True)

_override: ContextVar[Scope | None] = ContextVar("tenant_scope_override", default=None)


def scope_for(user) -> Scope:
    """The scope of a user: superadmin sees all, others their admin's tenant."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_TENANT
    if user.rol == "superadmin":
        return Scope(user_id=user.id)
    if user.rol == "cliente" or user.tenant_id is None:
        return NO_TENANT
    return Scope(tenant_id=user.tenant_id, user_id=user.id)


def current_scope() -> Scope:
    """The scope in force now (see the module docstring for the order)."""
    override = _override.get()
    if override is not None:
        return override
    if has_request_context():
        return g.get("tenant_scope", NO_TENANT)
    return EVERY_TENANT


def tenant_scope(tenant_id: int) -> Scope:
    """One tenant's scope, keeping the acting user (a superadmin writing for that tenant)."""
    return Scope(tenant_id=tenant_id, user_id=current_scope().user_id)


def _as_scope(target) -> Scope:
    if isinstance(target, Scope):
        return target
    if isinstance(target, int) and not isinstance(target, bool):
        return tenant_scope(target)
    return scope_for(target)


@contextmanager
def using(target) -> Iterator[Scope]:
    """Run a block under a scope: a Scope, a user's, or a tenant's (its admin's id).

    Every write a superadmin makes for a tenant runs under ``using(tenant)``: choice lists,
    uniqueness checks and lookups then see that tenant's rows only, and new rows are stamped
    with it, so no caller checks "same owner" by hand."""
    scope = _as_scope(target)
    token = _override.set(scope)
    try:
        yield scope
    finally:
        _override.reset(token)


def writing_for(user, tenant: int | None):
    """Where ``user`` writes for ``tenant``: a superadmin under ``using(tenant)``; everyone else
    in the scope it already has (and a superadmin's write with no tenant yet, as it is)."""
    if tenant is None or not sees_every_tenant(user):
        return nullcontext()
    return using(tenant)


def scoped(stmt):
    """An ORM statement with the current scope's criteria attached now, for code that compiles
    it itself instead of executing it through the session (e.g. an EXPLAIN)."""
    options = loader_criteria(current_scope())
    return stmt.options(*options) if options else stmt


@cache
def tenant_models() -> tuple[type, ...]:
    """Every mapped model that carries the tenant column."""
    return tuple(
        sorted(
            (m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped)),
            key=lambda cls: cls.__name__,
        )
    )


@lru_cache(maxsize=1024)
def loader_criteria(scope: Scope) -> tuple:
    """The ``with_loader_criteria`` options that the ORM hook adds for ``scope``. Made once per
    scope and kept (a Scope is immutable, and so are the options): built anew, a tenant's 16
    options were ~7 % of a list page's instructions, as each of its statements made them again."""
    if scope.is_global:
        return ()
    if scope.deny:
        # Usuario stays visible so that Flask-Login can load the user of the request.
        return tuple(
            with_loader_criteria(m, lambda cls: sa.false(), include_aliases=True) for m in tenant_models()
        )
    tenant, user = scope.tenant_id, scope.user_id
    return (
        *(
            with_loader_criteria(m, lambda cls: cls.id_propietario == tenant, include_aliases=True)
            for m in tenant_models()
        ),
        # A tenant sees its admin, the users that admin created, and the acting user.
        with_loader_criteria(
            Usuario,
            lambda cls: sa.or_(cls.id == tenant, cls.creado_por == tenant, cls.id == user),
            include_aliases=True,
        ),
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_statement(state: ORMExecuteState) -> None:
    """Add the tenant criteria to every ORM SELECT, UPDATE and DELETE."""
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria travel with the statement that loaded the parent
    if not (state.is_select or state.is_update or state.is_delete):
        return
    options = loader_criteria(current_scope())
    if options:
        state.statement = state.statement.options(*options)


def _owner_from_parent(obj) -> int | None:
    """A child row (vehículo, log…) belongs to the tenant of the row it hangs from."""
    for attr in ("cliente", "campana"):
        parent = getattr(obj, attr, None)
        if isinstance(parent, TenantOwned) and parent.id_propietario is not None:
            return parent.id_propietario
    return None


@event.listens_for(Session, "before_flush")
def _stamp_and_guard(session, flush_context, instances) -> None:
    """Stamp the tenant on new rows; refuse rows written into another tenant."""
    scope = current_scope()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantOwned):
            continue
        if obj.id_propietario is None:
            obj.id_propietario = _owner_from_parent(obj) or scope.tenant_id
        if obj.id_propietario is None:
            raise TenancyError(f"{type(obj).__name__}: falta el propietario (id_propietario)")
        if scope.deny or (scope.tenant_id is not None and obj.id_propietario != scope.tenant_id):
            raise TenancyError(f"{type(obj).__name__}: fila de otro propietario")


# --- The database half (PostgreSQL Row Level Security) ----------------------------------------

PG_SETTING = "app.tenant"


def pg_setting(scope: Scope) -> str:
    """The value of ``app.tenant`` the RLS policies read: '*', a tenant id, or '' (nothing)."""
    if scope.deny:
        return ""
    return "*" if scope.tenant_id is None else str(scope.tenant_id)


def pg_setting_of_user():
    """``pg_setting(scope_for(user))`` as SQL on the ``usuario`` row (the same rule as
    :func:`scope_for`, for the user load; tests/test_tenancy.py checks both agree per role)."""
    u = Usuario.__table__.c
    return sa.case(
        (u.rol == "superadmin", "*"),
        (u.rol == "cliente", ""),
        (u.rol == "admin", sa.cast(u.id, sa.String)),
        else_=sa.func.coalesce(sa.cast(u.creado_por, sa.String), ""),
    )


@cache
def _user_with_setting():
    """The user load's statement, made once (it is the same on every request but for the id)."""
    setting = sa.func.set_config(PG_SETTING, pg_setting_of_user(), True)
    return sa.select(Usuario, setting).where(Usuario.id == sa.bindparam("user_id"))


def load_user(user_id: int) -> Usuario | None:
    """The request's user by id. On PostgreSQL the same statement sets the transaction's
    ``app.tenant`` to that user's scope, so the page's first tenant query needs no set_config
    round trip of its own; if the session then turns out not to be valid, the scope is "no
    tenant" and the hook below sets '' before the next statement as always."""
    if db.engine.dialect.name != "postgresql":
        return db.session.get(Usuario, user_id)
    row = db.session.execute(_user_with_setting(), {"user_id": user_id}).one_or_none()
    if row is None:
        return None
    db.session.connection().info[PG_SETTING] = row[1]
    return row[0]


@event.listens_for(Engine, "before_cursor_execute")
def _sync_pg_tenant(conn, cursor, statement, parameters, context, executemany) -> None:
    """Keep the transaction's ``app.tenant`` equal to the scope in force (transaction-local,
    never a session-wide SET that would leak to the next user of a pooled connection)."""
    if conn.dialect.name != "postgresql":
        return
    wanted = pg_setting(current_scope())
    # A transaction that has not set it reads NULL (nothing sets it session-wide on the app's
    # pool), which the policies treat as '' (nothing): "no tenant" needs no round trip.
    if conn.info.get(PG_SETTING, "") != wanted:
        helper = conn.connection.cursor()  # a plain cursor: `cursor` may be a server-side one
        helper.execute("SELECT set_config(%s, %s, true)", (PG_SETTING, wanted))
        helper.close()
        conn.info[PG_SETTING] = wanted


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_pg_tenant(conn) -> None:
    """set_config(..., true) ends with the transaction; so does what we remember of it."""
    conn.info.pop(PG_SETTING, None)


@event.listens_for(Pool, "checkin")
def _forget_on_checkin(dbapi_connection, connection_record) -> None:
    """The pool rolls back on return without an Engine event: forget there too."""
    connection_record.info.pop(PG_SETTING, None)


def init_app(app: Flask) -> None:
    """Fix the request's scope from the logged-in user before any view runs."""

    @app.before_request
    def _set_request_scope() -> None:
        g.tenant_scope = scope_for(current_user)
