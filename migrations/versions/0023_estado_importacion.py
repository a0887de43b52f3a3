"""an import job's states for the preview in the background, its heartbeat and its attempt

``estado`` gains ``recibido`` (stored, preview queued) and ``previsualizando``; ``subido`` is now
``previsualizada``, ``procesando`` is ``importando`` and ``error`` is ``fallida`` (a failed job
offers "Reintentar"). ``fase`` says what a failed job retries (the preview or the import),
``latido`` is the worker's heartbeat (a job whose heartbeat stops is shown as failed),
``intento`` the token of the attempt that owns the job (a worker taken for dead and retried
cannot write after the retry), ``advertencias`` the rows imported with warnings, ``escritas``
the rows the run has committed (where a retried import resumes).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLE = "importacion_clientes"
OLD = ("subido", "pendiente", "procesando", "completado", "rechazado", "error")
NEW = (
    "recibido",
    "previsualizando",
    "previsualizada",
    "pendiente",
    "importando",
    "completado",
    "rechazado",
    "fallida",
)
RENAMED = {"subido": "previsualizada", "procesando": "importando", "error": "fallida"}


def _in(values: tuple[str, ...]) -> str:
    return f"estado IN ({', '.join(repr(v) for v in values)})"


def _replace_check(batch, values: tuple[str, ...]) -> None:
    batch.drop_constraint(op.f(f"ck_{TABLE}_estado"), type_="check")
    batch.create_check_constraint("estado", _in(values))


def _rename(pairs: dict[str, str]) -> None:
    for old, new in pairs.items():
        op.execute(f"UPDATE {TABLE} SET estado = '{new}' WHERE estado = '{old}'")


def upgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f(f"ck_{TABLE}_estado"), type_="check")
        batch.alter_column("estado", type_=sa.String(16), existing_type=sa.String(12), existing_nullable=False)
        batch.add_column(sa.Column("fase", sa.String(12), nullable=False, server_default="vista"))
        batch.add_column(sa.Column("latido", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("intento", sa.String(40), nullable=True))
        batch.add_column(sa.Column("advertencias", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("escritas", sa.Integer(), nullable=False, server_default="0"))
    _rename(RENAMED)
    op.execute(f"UPDATE {TABLE} SET fase = 'importacion' WHERE estado <> 'previsualizada'")
    with op.batch_alter_table(TABLE) as batch:
        batch.create_check_constraint("estado", _in(NEW))
        batch.alter_column("fase", server_default=None)
        batch.alter_column("advertencias", server_default=None)
        batch.alter_column("escritas", server_default=None)


def downgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f(f"ck_{TABLE}_estado"), type_="check")
    op.execute(f"UPDATE {TABLE} SET estado = 'previsualizada' WHERE estado IN ('recibido', 'previsualizando')")
    _rename({new: old for old, new in RENAMED.items()})
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("escritas")
        batch.drop_column("advertencias")
        batch.drop_column("intento")
        batch.drop_column("latido")
        batch.drop_column("fase")
        batch.alter_column("estado", type_=sa.String(12), existing_type=sa.String(16), existing_nullable=False)
        batch.create_check_constraint("estado", _in(OLD))
