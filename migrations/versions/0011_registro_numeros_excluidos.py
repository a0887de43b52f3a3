"""rne_lista and rne_numero: the Registro de Números Excluidos (Ley 2300 de 2023, art. 5)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rne_lista",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archivo", sa.String(255), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("invalidas", sa.Integer(), nullable=False),
        sa.Column("activa", sa.Boolean(), nullable=False),
        sa.Column("cargada", sa.DateTime(), nullable=False),
        sa.Column("id_usuario", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["id_usuario"], ["usuario.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rne_lista_activa", "rne_lista", ["activa"])
    op.create_table(
        "rne_numero",
        sa.Column("id_lista", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["id_lista"], ["rne_lista.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id_lista", "numero"),
    )


def downgrade():
    op.drop_table("rne_numero")
    op.drop_index("ix_rne_lista_activa", table_name="rne_lista")
    op.drop_table("rne_lista")
