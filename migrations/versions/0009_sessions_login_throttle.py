"""session generations (revocation) and the login-throttle table

``usuario.sesion_version``: a session carries the generation it was opened with; logout, a new
password and deactivation bump it, so every session cookie of that user stops working.
``intento_login``: failed-login counters per key and fixed window, for installations without
Redis (the ``limits`` library has no SQL storage).

Revision ID: 0009
Revises: 0006 (the lead re-chains it after 0007 and 0008 at merge)
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("usuario") as batch:
        batch.add_column(sa.Column("sesion_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "intento_login",
        sa.Column("clave", sa.String(100), nullable=False),
        sa.Column("inicio", sa.DateTime(), nullable=False),
        sa.Column("expira", sa.DateTime(), nullable=False),
        sa.Column("cuenta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("clave", name="pk_intento_login"),
    )
    op.create_index("ix_intento_login_expira", "intento_login", ["expira"])


def downgrade():
    op.drop_index("ix_intento_login_expira", table_name="intento_login")
    op.drop_table("intento_login")
    with op.batch_alter_table("usuario") as batch:
        batch.drop_column("sesion_version")
