"""lawful sending applied: campaign tipo, when a waiting campaign (re)starts, when a row was sent

- ``campana_sms.tipo``: comercial (the default: window, cap, RNE and opt-out text apply) or
  transaccional (exempt from the window and the cap, never from opt-outs).
- ``campana_sms.siguiente_envio``: when a ``programada`` campaign starts or resumes — the time
  the user asked for (``programada_para`` keeps it), or the next opening of the contact window.
- ``sms_log.enviado_en``: when the row was handed to Twilio; the daily/weekly cap counts these
  per phone within the tenant (index beside it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campana_sms") as batch:
        batch.add_column(sa.Column("tipo", sa.String(15), nullable=False, server_default="comercial"))
        batch.add_column(sa.Column("siguiente_envio", sa.DateTime(), nullable=True))
        batch.create_check_constraint("tipo", "tipo IN ('comercial', 'transaccional')")
        batch.create_index("ix_campana_sms_estado_siguiente_envio", ["estado", "siguiente_envio"])
    with op.batch_alter_table("sms_log") as batch:
        batch.add_column(sa.Column("enviado_en", sa.DateTime(), nullable=True))
        batch.create_index("ix_sms_log_tope", ["id_propietario", "telefono", "enviado_en"])
    op.execute("UPDATE campana_sms SET siguiente_envio = programada_para WHERE estado = 'programada'")
    op.execute(
        "UPDATE sms_log SET enviado_en = actualizado "
        "WHERE estado IN ('enviado', 'enviando') OR requiere_revision"
    )


def downgrade():
    with op.batch_alter_table("sms_log") as batch:
        batch.drop_index("ix_sms_log_tope")
        batch.drop_column("enviado_en")
    with op.batch_alter_table("campana_sms") as batch:
        batch.drop_index("ix_campana_sms_estado_siguiente_envio")
        batch.drop_constraint(op.f("ck_campana_sms_tipo"), type_="check")
        batch.drop_column("siguiente_envio")
        batch.drop_column("tipo")
