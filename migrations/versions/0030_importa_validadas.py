"""importacion_clientes.validadas: the rows the preview validated, kept for the run

A compressed line per row (panel/importing/validadas.py) behind the fingerprint of what they were
validated under; the run takes a kept row after the last moment's checks instead of validating
the whole file again. NULL: nothing kept (an update, a file the preview could not read, a job
from before this column, one the CLI created) — the run validates every row. No row-level
security of its own: a column of a table that already has it.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("importacion_clientes", sa.Column("validadas", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("importacion_clientes") as batch:
        batch.drop_column("validadas")
