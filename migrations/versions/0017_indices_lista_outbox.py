"""indexes: a tenant's clients by id (the list's deep pages); sms_log without a redundant index

- ``cliente (id_propietario, id_cliente)``: a tenant's list is sorted by id; with only
  ``(id_cliente, id_propietario)`` a deep page (page 2001 of a 100,000-client tenant) walked the
  primary key backwards filtering on the tenant (12–30 ms); with this one it reads its 20 ids
  (2.3 ms). See docs/decisions.md, "Performance, round two".
- ``sms_log (id_propietario)`` goes: it is the prefix of ``ix_sms_log_tope (id_propietario,
  telefono, enviado_en)``, which serves every question it answered, and it cost index upkeep on
  each of a campaign's outbox rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_cliente_propietario_id", "cliente", ["id_propietario", "id_cliente"])
    op.drop_index("ix_sms_log_id_propietario", table_name="sms_log")


def downgrade():
    op.create_index("ix_sms_log_id_propietario", "sms_log", ["id_propietario"])
    op.drop_index("ix_cliente_propietario_id", table_name="cliente")
