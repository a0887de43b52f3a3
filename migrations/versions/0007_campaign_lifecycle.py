"""campaign lifecycle: scheduled, paused and cancelled campaigns; skipped and cancelled messages

``campana_sms.programada_para`` (when to start), the estados ``programada``, ``pausada`` and
``cancelada``; ``sms_log.motivo`` and the estados ``omitido`` and ``cancelado``. The pollers'
index serves "which scheduled campaigns are due". Row level security (0004) is untouched: the
policies are per table, not per column.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CAMPANA_OLD = ("pendiente", "procesando", "completado", "error")
CAMPANA_NEW = ("programada", "pendiente", "procesando", "pausada", "completado", "cancelada", "error")
LOG_OLD = ("pendiente", "enviando", "enviado", "fallido")
LOG_NEW = ("pendiente", "enviando", "enviado", "fallido", "omitido", "cancelado")


def _in(values: tuple[str, ...]) -> str:
    return f"estado IN ({', '.join(repr(v) for v in values)})"


def _replace_check(batch, table: str, values: tuple[str, ...]) -> None:
    batch.drop_constraint(op.f(f"ck_{table}_estado"), type_="check")
    batch.create_check_constraint("estado", _in(values))


def upgrade():
    with op.batch_alter_table("campana_sms") as batch:
        batch.add_column(sa.Column("programada_para", sa.DateTime(), nullable=True))
        _replace_check(batch, "campana_sms", CAMPANA_NEW)
        batch.create_index("ix_campana_sms_estado_programada_para", ["estado", "programada_para"])
    with op.batch_alter_table("sms_log") as batch:
        batch.add_column(sa.Column("motivo", sa.String(length=200), nullable=True))
        _replace_check(batch, "sms_log", LOG_NEW)
    # Rows skipped before this revision were recorded as fallido without a Twilio attempt.
    op.execute(
        "UPDATE sms_log SET estado = 'omitido', motivo = error_mensaje "
        "WHERE estado = 'fallido' AND intentos = 0 AND twilio_sid IS NULL AND reintentable = false "
        "AND requiere_revision = false AND mensaje = ''"
    )


def downgrade():
    op.execute("UPDATE sms_log SET estado = 'fallido' WHERE estado IN ('omitido', 'cancelado')")
    op.execute("UPDATE campana_sms SET estado = 'pendiente' WHERE estado IN ('programada', 'pausada')")
    op.execute("UPDATE campana_sms SET estado = 'completado' WHERE estado = 'cancelada'")
    with op.batch_alter_table("sms_log") as batch:
        _replace_check(batch, "sms_log", LOG_OLD)
        batch.drop_column("motivo")
    with op.batch_alter_table("campana_sms") as batch:
        batch.drop_index("ix_campana_sms_estado_programada_para")
        _replace_check(batch, "campana_sms", CAMPANA_OLD)
        batch.drop_column("programada_para")
