"""idempotency keys, test sends (campana_sms.prueba, sms_log.prueba, nullable client), Usuario.telefono

``clave_idempotencia`` holds what the first request with an ``Idempotency-Key`` answered. It is
scoped to the user and has no ``id_propietario``: it stays out of row level security on purpose
(every lookup is by user and key; a replay re-reads the campaign or client through the tenancy
hook, so RLS still guards the data itself).

Test sends go to the user's own phone: their one log row has no client. ``sms_log.prueba`` is
copied from the campaign so that a check constraint can refuse a real row without a client.

Revision ID: 0008
Revises: 0006 (re-chained after 0007 at merge)
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "clave_idempotencia",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_usuario", sa.Integer(), nullable=False),
        sa.Column("clave", sa.String(length=255), nullable=False),
        sa.Column("huella", sa.String(length=64), nullable=False),
        sa.Column("estado", sa.String(length=10), nullable=False),
        sa.Column("codigo", sa.Integer(), nullable=True),
        sa.Column("cuerpo", sa.JSON(), nullable=True),
        sa.Column("recurso_id", sa.Integer(), nullable=True),
        sa.Column("creado", sa.DateTime(), nullable=False),
        sa.CheckConstraint("estado IN ('en_curso', 'hecha')", name=op.f("ck_clave_idempotencia_estado")),
        sa.ForeignKeyConstraint(
            ["id_usuario"], ["usuario.id"], name=op.f("fk_clave_idempotencia_id_usuario_usuario"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clave_idempotencia")),
        sa.UniqueConstraint("id_usuario", "clave", name="uq_clave_idempotencia_usuario_clave"),
    )
    op.create_index("ix_clave_idempotencia_creado", "clave_idempotencia", ["creado"])
    with op.batch_alter_table("campana_sms") as batch:
        batch.add_column(sa.Column("prueba", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("sms_log") as batch:
        batch.add_column(sa.Column("prueba", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.alter_column("id_cliente", existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(op.f("ck_sms_log_cliente_o_prueba"), "prueba OR id_cliente IS NOT NULL")
    with op.batch_alter_table("usuario") as batch:
        batch.add_column(sa.Column("telefono", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("usuario") as batch:
        batch.drop_column("telefono")
    op.execute("DELETE FROM sms_log WHERE id_cliente IS NULL")  # test rows: no client to keep them
    with op.batch_alter_table("sms_log") as batch:
        batch.drop_constraint(op.f("ck_sms_log_cliente_o_prueba"), type_="check")
        batch.alter_column("id_cliente", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("prueba")
    op.execute("DELETE FROM campana_sms WHERE prueba")
    with op.batch_alter_table("campana_sms") as batch:
        batch.drop_column("prueba")
    op.drop_index("ix_clave_idempotencia_creado", table_name="clave_idempotencia")
    op.drop_table("clave_idempotencia")
