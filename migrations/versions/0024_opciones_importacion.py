"""importacion_clientes: the user's choices for one file (SPEC §17)

- ``crear_empresas``: "Crear las empresas que no existan" (ticked by default).
- ``id_ciudad_defecto``: the municipio of the rows without one; NULL is the form's, Bogotá, D.C.
  No foreign key: a municipio is never deleted (DIVIPOLA retires none that clients use), and a
  stale id would only make the preview say the city is not valid.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "importacion_clientes",
        sa.Column("crear_empresas", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column("importacion_clientes", sa.Column("id_ciudad_defecto", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("importacion_clientes") as batch:
        batch.drop_column("id_ciudad_defecto")
        batch.drop_column("crear_empresas")
