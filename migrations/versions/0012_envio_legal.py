"""lawful sending: each tenant's sending settings, its own exclusion list, consent history

Tenant-owned, so each gets the Row Level Security policy of migration 0004 on PostgreSQL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("configuracion_envio", "exclusion_propia", "consentimiento_sms")
SETTING = "current_setting('app.tenant', true)"
RULE = f"({SETTING} = '*' OR id_propietario = NULLIF(NULLIF({SETTING}, ''), '*')::integer)"


def _owner() -> sa.Column:
    return sa.Column("id_propietario", sa.Integer(), nullable=False)


def _owner_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["id_propietario"], ["usuario.id"], ondelete="RESTRICT")


def upgrade():
    op.create_table(
        "configuracion_envio",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("semana_inicio", sa.Time(), nullable=False),
        sa.Column("semana_fin", sa.Time(), nullable=False),
        sa.Column("sabado_activo", sa.Boolean(), nullable=False),
        sa.Column("sabado_inicio", sa.Time(), nullable=False),
        sa.Column("sabado_fin", sa.Time(), nullable=False),
        sa.Column("tope", sa.String(10), nullable=False),
        sa.Column("texto_baja", sa.String(160), nullable=False),
        sa.Column("actualizado", sa.DateTime(), nullable=False),
        _owner(),
        _owner_fk(),
        sa.CheckConstraint("tope IN ('dia', 'semana')", name="tope"),
        sa.UniqueConstraint("id_propietario", name="uq_configuracion_envio_propietario"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_configuracion_envio_id_propietario", "configuracion_envio", ["id_propietario"])
    op.create_table(
        "exclusion_propia",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(16), nullable=False),
        sa.Column("motivo", sa.String(120), nullable=False),
        sa.Column("creado", sa.DateTime(), nullable=False),
        _owner(),
        _owner_fk(),
        sa.UniqueConstraint("id_propietario", "numero", name="uq_exclusion_propia_numero"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exclusion_propia_id_propietario", "exclusion_propia", ["id_propietario"])
    op.create_table(
        "consentimiento_sms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_cliente", sa.Integer(), nullable=False),
        sa.Column("acepta", sa.Boolean(), nullable=False),
        sa.Column("fuente", sa.String(20), nullable=False),
        sa.Column("id_usuario", sa.Integer(), nullable=True),
        sa.Column("fecha", sa.DateTime(), nullable=False),
        _owner(),
        _owner_fk(),
        sa.ForeignKeyConstraint(["id_cliente"], ["cliente.id_cliente"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["id_usuario"], ["usuario.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consentimiento_sms_cliente", "consentimiento_sms", ["id_cliente", "fecha"])
    op.create_index("ix_consentimiento_sms_id_propietario", "consentimiento_sms", ["id_propietario"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} USING {RULE} WITH CHECK {RULE}")


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
