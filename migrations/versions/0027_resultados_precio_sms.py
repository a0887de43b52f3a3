"""sms_log.precio, sms_log.precio_unidad: what Twilio charged for a message (SPEC §20)

Twilio's status callbacks carry ``Price`` and ``PriceUnit`` once the message is billed; the
campaign's results add them up as its real cost, beside the estimate. Stored as a positive
amount (Twilio writes a charge as a negative number) in the unit Twilio names (ISO 4217).
No policy changes: sms_log already has its row-level security.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both engines: SQLite needs no copy of the table for it.
    op.add_column("sms_log", sa.Column("precio", sa.Numeric(14, 5), nullable=True))
    op.add_column("sms_log", sa.Column("precio_unidad", sa.String(3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sms_log") as batch:
        batch.drop_column("precio_unidad")
        batch.drop_column("precio")
