"""sms_log: the twilio_sid and cap indexes hold only the rows that were sent (partial indexes)

An outbox row is written with ``twilio_sid`` and ``enviado_en`` NULL and gets them when it
leaves. ``ix_sms_log_twilio_sid`` and ``ix_sms_log_tope`` indexed every outbox row's NULLs:
two index insertions per row of a campaign's outbox that no question asks about (the webhooks
look a row up by its SID, the cap by the phones sent to since a moment — both only ever match
rows that left). Partial, they are written when a row is sent, not when it is planned.
See docs/decisions.md, "The outbox written fast on PostgreSQL" (issue #31).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

SENT_SID = "twilio_sid IS NOT NULL"
SENT_AT = "enviado_en IS NOT NULL"


def _partial(where: str) -> dict:
    return {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}


def upgrade():
    op.drop_index("ix_sms_log_twilio_sid", table_name="sms_log")
    op.create_index("ix_sms_log_twilio_sid", "sms_log", ["twilio_sid"], **_partial(SENT_SID))
    op.drop_index("ix_sms_log_tope", table_name="sms_log")
    op.create_index(
        "ix_sms_log_tope", "sms_log", ["id_propietario", "telefono", "enviado_en"], **_partial(SENT_AT)
    )


def downgrade():
    op.drop_index("ix_sms_log_tope", table_name="sms_log")
    op.create_index("ix_sms_log_tope", "sms_log", ["id_propietario", "telefono", "enviado_en"])
    op.drop_index("ix_sms_log_twilio_sid", table_name="sms_log")
    op.create_index("ix_sms_log_twilio_sid", "sms_log", ["twilio_sid"])
