"""PostgreSQL Row Level Security: the second wall behind the ORM scoping.

Always runs against the local PostgreSQL (in the SQLite pass too), as a role without
BYPASSRLS that owns the tables, so FORCE ROW LEVEL SECURITY applies."""

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db


def _raw(sql: str):
    """A query that forgets every ORM filter: plain SQL on the engine."""
    with db.engine.begin() as conn:
        return conn.execute(sa.text(sql)).all()


def test_the_app_role_cannot_bypass_rls(rls_app):
    row = _raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")[0]
    assert tuple(row) == (False, False)
    forced = _raw("SELECT count(*) FROM pg_class WHERE relforcerowsecurity AND relname = 'cliente'")[0][0]
    assert forced == 1


def test_a_query_without_the_orm_filter_returns_only_the_tenants_rows(two_tenants):
    admin_a, admin_b = two_tenants
    with tenancy.using(admin_a):
        assert {r[0] for r in _raw("SELECT id_propietario FROM cliente")} == {admin_a.id}
    with tenancy.using(admin_b):
        assert len(_raw("SELECT id_cliente FROM cliente")) == 3
    assert len(_raw("SELECT id_cliente FROM cliente")) == 6  # system scope: every tenant


def test_an_anonymous_scope_sees_no_rows_at_all(two_tenants):
    with tenancy.using(tenancy.NO_TENANT):
        assert _raw("SELECT id_cliente FROM cliente") == []


def test_raw_updates_and_inserts_cannot_cross_tenants(two_tenants):
    admin_a, admin_b = two_tenants
    with tenancy.using(admin_a):
        with db.engine.begin() as conn:
            changed = conn.execute(sa.text("UPDATE cliente SET estado = 0")).rowcount
        assert changed == 3
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text("INSERT INTO empresa (nombre, id_propietario, creado) VALUES ('x', :b, now())"),
                    {"b": admin_b.id},
                )
    states = dict(_raw("SELECT id_propietario, max(estado) FROM cliente GROUP BY id_propietario"))
    assert states == {admin_a.id: 0, admin_b.id: 1}


def test_the_setting_is_per_transaction_and_never_leaks_through_the_pool(two_tenants):
    admin_a, _ = two_tenants
    with tenancy.using(admin_a):
        _raw("SELECT 1 FROM cliente")
    # The same pooled connection, read without going through the app's hook:
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            cur.execute("SELECT current_setting('app.tenant', true)")
            assert cur.fetchone()[0] in (None, "")
        raw.rollback()


def test_every_tenant_owned_table_has_its_policy_forced(rls_app):
    """A tenant table added later without the policy would be one wall short."""
    tables = {m.__tablename__ for m in tenancy.tenant_models()}
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                " EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname) "
                "FROM pg_class c WHERE c.relname = ANY(:names)"
            ),
            {"names": list(tables)},
        ).all()
    assert {r[0] for r in rows} == tables
    assert [r[0] for r in rows if not (r[1] and r[2] and r[3])] == []
