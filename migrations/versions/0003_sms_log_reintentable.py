"""sms_log.reintentable: which failed messages "Reintentar fallidos" may send again

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sms_log") as batch:
        batch.add_column(sa.Column("reintentable", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("sms_log") as batch:
        batch.drop_column("reintentable")
