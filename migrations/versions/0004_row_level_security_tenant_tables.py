"""row level security on the tenant-owned tables (PostgreSQL only)

A second wall behind the ORM scoping: each transaction carries the tenant in the setting
``app.tenant`` (``'*'`` every tenant, a tenant id, or ``''`` nothing), set by
panel/tenancy.py with ``set_config(..., true)``; FORCE makes the policies apply to the
tables' owner too. SQLite has no RLS and keeps the ORM scoping only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TENANT_TABLES = ("empresa", "campana_publicitaria", "cliente", "vehiculo", "movimiento_capital", "venta",
                 "plantilla_sms", "campana_sms", "sms_log", "historial")
SETTING = "current_setting('app.tenant', true)"
RULE = f"({SETTING} = '*' OR id_propietario = NULLIF(NULLIF({SETTING}, ''), '*')::integer)"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING {RULE} WITH CHECK {RULE}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
