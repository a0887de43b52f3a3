"""usuario: phone verification for test sends (SPEC §18)

``telefono_verificado`` is the E.164 number the user proved is theirs with a code sent by SMS;
"Enviar prueba" goes only there. The pending code is kept only as an HMAC (``codigo_hash``) with
its expiry and wrong tries; ``codigos_enviados`` / ``codigos_desde`` count the codes sent in the
current hour, so "Verificar" cannot be used to pump SMS. ``usuario`` has no tenant column and
no row level security: nothing to add there.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("usuario") as batch:
        batch.add_column(sa.Column("telefono_verificado", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("codigo_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("codigo_expira", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("codigo_intentos", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("codigos_enviados", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("codigos_desde", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("usuario") as batch:
        for column in (
            "codigos_desde",
            "codigos_enviados",
            "codigo_intentos",
            "codigo_expira",
            "codigo_hash",
            "telefono_verificado",
        ):
            batch.drop_column(column)
