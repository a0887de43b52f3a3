"""imports of clients: the uploaded file, its mapping and the job's progress

Tenant-owned, so it gets the Row Level Security policy of migration 0004 on PostgreSQL.

Revision ID: 0015
Revises: 0012 (placeholder: re-chained at merge)
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014_sqlite_autoincrement"
branch_labels = None
depends_on = None

TABLE = "importacion_clientes"
SETTING = "current_setting('app.tenant', true)"
RULE = f"({SETTING} = '*' OR id_propietario = NULLIF(NULLIF({SETTING}, ''), '*')::integer)"
ESTADOS = ("subido", "pendiente", "procesando", "completado", "rechazado", "error")


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_usuario", sa.Integer(), nullable=True),
        sa.Column("archivo_nombre", sa.String(255), nullable=False),
        sa.Column("archivo", sa.LargeBinary(), nullable=False),
        sa.Column("mapeo", sa.JSON(), nullable=True),
        sa.Column("actualizar", sa.Boolean(), nullable=False),
        sa.Column("todo_o_nada", sa.Boolean(), nullable=False),
        sa.Column("estado", sa.String(12), nullable=False),
        sa.Column("vista_previa", sa.JSON(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("procesadas", sa.Integer(), nullable=False),
        sa.Column("nuevos", sa.Integer(), nullable=False),
        sa.Column("actualizados", sa.Integer(), nullable=False),
        sa.Column("con_errores", sa.Integer(), nullable=False),
        sa.Column("rechazos", sa.LargeBinary(), nullable=True),
        sa.Column("mensaje", sa.String(255), nullable=False),
        sa.Column("creado", sa.DateTime(), nullable=False),
        sa.Column("terminado", sa.DateTime(), nullable=True),
        sa.Column("id_propietario", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["id_propietario"], ["usuario.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["id_usuario"], ["usuario.id"], ondelete="RESTRICT"),
        sa.CheckConstraint("estado IN (" + ", ".join(repr(e) for e in ESTADOS) + ")", name="estado"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_importacion_clientes_id_propietario", TABLE, ["id_propietario"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {TABLE} USING {RULE} WITH CHECK {RULE}")


def downgrade():
    op.drop_table(TABLE)
