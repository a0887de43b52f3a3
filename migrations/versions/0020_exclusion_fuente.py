"""exclusion_propia.fuente: how each number came onto the tenant's exclusion list

Until now the source was written into ``motivo`` as "Baja (<fuente>)"; Configuración →
Exclusiones shows the source beside the admin's own note, and an opt-in by SMS may only undo
an exclusion an SMS reply made, so the source gets a column of its own. Existing rows take it
from their "Baja (…)" text; anything else was written by the system.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

KNOWN = ("formulario", "importación", "API", "respuesta SMS")


def upgrade():
    with op.batch_alter_table("exclusion_propia") as batch:
        batch.add_column(sa.Column("fuente", sa.String(length=20), server_default="sistema", nullable=False))
    table = sa.table("exclusion_propia", sa.column("fuente"), sa.column("motivo"))
    for fuente in KNOWN:
        op.execute(
            table.update().where(table.c.motivo == f"Baja ({fuente})").values(fuente=fuente, motivo="")
        )


def downgrade():
    table = sa.table("exclusion_propia", sa.column("fuente"), sa.column("motivo"))
    op.execute(
        table.update()
        .where(table.c.motivo == "")
        .values(motivo=sa.literal("Baja (") + table.c.fuente + sa.literal(")"))
    )
    with op.batch_alter_table("exclusion_propia") as batch:
        batch.drop_column("fuente")
