"""cliente.telefono_e164: the E.164 form of the phone, derived on save (panel/phones.py)

The outbox, duplicate detection and the STOP webhook read it instead of parsing every number
again. Existing rows are filled here, in batches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"""

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 5000
cliente = sa.table(
    "cliente",
    sa.column("id_cliente", sa.Integer),
    sa.column("telefono", sa.String),
    sa.column("telefono_e164", sa.String),
    sa.column("id_pais", sa.Integer),
)
pais = sa.table("pais", sa.column("id", sa.Integer), sa.column("codigo_iso", sa.String))


def e164(telefono, region):
    try:
        number = phonenumbers.parse(telefono, region or "CO")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upgrade():
    with op.batch_alter_table("cliente") as batch:
        batch.add_column(sa.Column("telefono_e164", sa.String(length=16), nullable=True))
    op.create_index("ix_cliente_propietario_telefono_e164", "cliente", ["id_propietario", "telefono_e164"])
    backfill(op.get_bind())


def backfill(conn):
    """Fill telefono_e164 for the clients that have a phone, BATCH rows at a time."""
    if conn.dialect.name == "postgresql":  # row level security: this migration acts for every tenant
        conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(cliente.c.id_cliente, cliente.c.telefono, pais.c.codigo_iso)
            .join(pais, pais.c.id == cliente.c.id_pais)
            .where(cliente.c.id_cliente > last, cliente.c.telefono.is_not(None))
            .order_by(cliente.c.id_cliente)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = [{"k": r.id_cliente, "v": e164(r.telefono, r.codigo_iso)} for r in rows]
        stmt = cliente.update().where(cliente.c.id_cliente == sa.bindparam("k"))
        conn.execute(stmt.values(telefono_e164=sa.bindparam("v")), values)
        last = rows[-1].id_cliente


def downgrade():
    op.drop_index("ix_cliente_propietario_telefono_e164", table_name="cliente")
    with op.batch_alter_table("cliente") as batch:
        batch.drop_column("telefono_e164")
