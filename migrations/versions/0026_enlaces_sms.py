"""enlace_sms: tracked links, one short code per recipient and URL of a campaign (SPEC §20)

Tenant-owned, so it gets the Row Level Security policy of migration 0004 on PostgreSQL. The code
is unique across every tenant: the public redirect (panel/visitas.py) finds a row by it alone.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

TABLE = "enlace_sms"
SETTING = "current_setting('app.tenant', true)"
RULE = f"({SETTING} = '*' OR id_propietario = NULLIF(NULLIF({SETTING}, ''), '*')::integer)"


# campana_sms never reuses an id (NEVER_REUSE_IDS): SQLite keeps AUTOINCREMENT through a rebuild
# only when the batch is told so (migration 0014).
KEEP_IDS = {"sqlite_autoincrement": True}

def upgrade():
    # The campaign keeps whether its links are tracked: an outbox written in the background
    # (preparando, a later migration) shortens them as the confirmation asked.
    with op.batch_alter_table("campana_sms", table_kwargs=KEEP_IDS) as batch:
        batch.add_column(sa.Column("acortar_enlaces", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_propietario", sa.Integer(), nullable=False),
        sa.Column("id_campana", sa.Integer(), nullable=False),
        sa.Column("id_cliente", sa.Integer(), nullable=False),
        sa.Column("codigo", sa.String(8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("clics", sa.Integer(), server_default="0", nullable=False),
        sa.Column("primer_clic", sa.DateTime(), nullable=True),
        sa.Column("ultimo_clic", sa.DateTime(), nullable=True),
        sa.Column("creado", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_campana", "id_propietario"],
            ["campana_sms.id", "campana_sms.id_propietario"],
            name=op.f("fk_enlace_sms_id_campana_campana_sms"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["id_cliente", "id_propietario"],
            ["cliente.id_cliente", "cliente.id_propietario"],
            name=op.f("fk_enlace_sms_id_cliente_cliente"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enlace_sms")),
        sa.UniqueConstraint("codigo", name="uq_enlace_sms_codigo"),
    )
    op.create_index("ix_enlace_sms_campana_cliente", TABLE, ["id_campana", "id_cliente"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {TABLE} USING {RULE} WITH CHECK {RULE}")


def downgrade():
    op.drop_table(TABLE)
    with op.batch_alter_table("campana_sms", table_kwargs=KEEP_IDS) as batch:
        batch.drop_column("acortar_enlaces")
