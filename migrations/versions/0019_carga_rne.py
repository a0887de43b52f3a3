"""rne_carga: each load of the Registro de Números Excluidos, its progress and the one-at-a-time lock

``en_curso`` is TRUE while a load runs, NULL afterwards; its unique constraint admits one running
load (NULLs never clash on SQLite or PostgreSQL). Shared reference data like rne_lista: no tenant,
no RLS policy. AUTOINCREMENT on SQLite: the Historial names these ids.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ESTADOS = ("pendiente", "cargando", "completada", "rechazada", "error")


def upgrade():
    op.create_table(
        "rne_carga",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archivo_nombre", sa.String(255), nullable=False),
        sa.Column("archivo", sa.LargeBinary(), nullable=True),
        sa.Column("confirmado", sa.Boolean(), nullable=False),
        sa.Column("estado", sa.String(12), nullable=False),
        sa.Column("en_curso", sa.Boolean(), nullable=True),
        sa.Column("latido", sa.DateTime(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("procesadas", sa.Integer(), nullable=False),
        sa.Column("invalidas", sa.Integer(), nullable=False),
        sa.Column("mensaje", sa.String(255), nullable=False),
        sa.Column("id_usuario", sa.Integer(), nullable=True),
        sa.Column("creado", sa.DateTime(), nullable=False),
        sa.Column("terminado", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["id_usuario"], ["usuario.id"], ondelete="RESTRICT"),
        sa.CheckConstraint("estado IN (" + ", ".join(repr(e) for e in ESTADOS) + ")", name="estado"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("en_curso", name="uq_rne_carga_en_curso"),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table("rne_carga")
