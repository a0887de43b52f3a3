"""sms_log: drop the key id_propietario → usuario (the composite keys already imply it)

Every outbox row's ``(id_campana, id_propietario)`` must match a ``campana_sms`` row (and its
``(id_cliente, id_propietario)`` a ``cliente`` row), whose own ``id_propietario`` references
``usuario``: so the row's tenant is an existing user without a key of its own, and that user
cannot be deleted while the campaign exists (RESTRICT), nor the campaign while its rows exist.
The third key cost one trigger call per inserted row, ~0.4 s of a 100,000-recipient outbox on
PostgreSQL (docs/decisions/outbox.md).

SQLite cannot drop a constraint: the table is rebuilt (Alembic's batch mode), with foreign
keys off outside the transaction and ``PRAGMA foreign_key_check`` before committing, as in
migration 0014.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLE = "sms_log"
KEY = "fk_sms_log_id_propietario_usuario"


def upgrade():
    _alter(lambda batch: batch.drop_constraint(KEY, type_="foreignkey"))


def downgrade():
    _alter(
        lambda batch: batch.create_foreign_key(KEY, "usuario", ["id_propietario"], ["id"], ondelete="RESTRICT")
    )


def _alter(change) -> None:
    if op.get_bind().dialect.name != "sqlite":
        with op.batch_alter_table(TABLE) as batch:  # plain ALTER TABLE on PostgreSQL
            change(batch)
        return
    context = op.get_context()
    with context.autocommit_block():  # PRAGMA foreign_keys is a no-op inside a transaction
        op.execute("PRAGMA foreign_keys=OFF")
    try:
        with op.batch_alter_table(TABLE, recreate="always") as batch:
            change(batch)
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"La reconstrucción deja claves foráneas rotas: {broken[:5]}")
    except BaseException:
        op.get_bind().rollback()  # nothing half-done is committed by the block below
        raise
    finally:
        with context.autocommit_block():  # commits the rebuild, then foreign keys on again
            op.execute("PRAGMA foreign_keys=ON")
