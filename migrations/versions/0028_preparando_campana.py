"""campaigns prepared in the background: the estado ``preparando`` and its three columns

A confirmation to many recipients answers at once with the campaign ``preparando``; its outbox
is written in the background (panel/sms/preparacion.py), and nothing sends from it until whole.

- ``campana_sms.preparacion``: the recipients' ids frozen at confirmation (compressed); NULL
  once the outbox is whole.
- ``campana_sms.preparacion_latido``: the preparer's last checkpoint (a stale one is resumed;
  a writer whose checkpoint was taken over stops).
- ``campana_sms.preparacion_total``: how many recipients were frozen (the progress's total).

Row level security (0004) is untouched: the policies are per table, not per column.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

CAMPANA_OLD = ("programada", "pendiente", "procesando", "pausada", "completado", "cancelada", "error")
CAMPANA_NEW = ("preparando", *CAMPANA_OLD)


def _replace_check(batch, values: tuple[str, ...]) -> None:
    batch.drop_constraint(op.f("ck_campana_sms_estado"), type_="check")
    batch.create_check_constraint("estado", f"estado IN ({', '.join(repr(v) for v in values)})")


# campana_sms never reuses an id (NEVER_REUSE_IDS): SQLite keeps AUTOINCREMENT through a rebuild
# only when the batch is told so (migration 0014).
KEEP_IDS = {"sqlite_autoincrement": True}

def upgrade():
    with op.batch_alter_table("campana_sms", table_kwargs=KEEP_IDS) as batch:
        batch.add_column(sa.Column("preparacion", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("preparacion_latido", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("preparacion_total", sa.Integer(), nullable=True))
        _replace_check(batch, CAMPANA_NEW)


def downgrade():
    # A campaign still being prepared has a partial outbox: it never sent, so it is cancelled.
    op.execute(
        "UPDATE sms_log SET estado = 'cancelado', error_mensaje = 'Campaña cancelada' "
        "WHERE estado = 'pendiente' AND id_campana IN (SELECT id FROM campana_sms WHERE estado = 'preparando')"
    )
    op.execute("UPDATE campana_sms SET estado = 'cancelada' WHERE estado = 'preparando'")
    with op.batch_alter_table("campana_sms", table_kwargs=KEEP_IDS) as batch:
        _replace_check(batch, CAMPANA_OLD)
        batch.drop_column("preparacion_total")
        batch.drop_column("preparacion_latido")
        batch.drop_column("preparacion")
