"""each tenant's own Twilio account (SPEC §20): its SID, encrypted token and sender on its sending
settings, and the account each campaign was sent through

configuracion_envio already has its Row Level Security policy (0012): the new columns are under it.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

CUENTA = (
    ("twilio_account_sid", sa.String(34)),
    ("twilio_token_cifrado", sa.Text()),
    ("twilio_from_number", sa.String(16)),
    ("twilio_messaging_service_sid", sa.String(34)),
)


# campana_sms never reuses an id (NEVER_REUSE_IDS): SQLite keeps AUTOINCREMENT through a rebuild
# only when the batch is told so (migration 0014).
KEEP_IDS = {"sqlite_autoincrement": True}

def upgrade() -> None:
    with op.batch_alter_table("configuracion_envio") as batch:
        for name, kind in CUENTA:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("campana_sms", table_kwargs=KEEP_IDS) as batch:
        batch.add_column(sa.Column("cuenta_twilio", sa.String(34), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campana_sms", table_kwargs=KEEP_IDS) as batch:
        batch.drop_column("cuenta_twilio")
    with op.batch_alter_table("configuracion_envio") as batch:
        for name, _kind in reversed(CUENTA):
            batch.drop_column(name)
