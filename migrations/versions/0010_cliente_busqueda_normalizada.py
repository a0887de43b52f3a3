"""cliente.busqueda: the folded text the search box looks in (case and accents ignored)

``panel/search.py`` now compares folded words (lower case, no accents, phones as digits) with
``cliente.busqueda``, derived on every save by ``panel/models/clients.py``; this fills it for the
rows that exist and moves the trigram index (PostgreSQL) from the old expression to the column.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 5000


def _fill() -> None:
    """Derive busqueda for the existing rows with the app's own definition, in batches."""
    from types import SimpleNamespace

    from panel.models.clients import search_document

    conn = op.get_bind()
    cliente = sa.table(
        "cliente",
        *(sa.column(c) for c in ("id_cliente", "cedula_cliente", "nombre_cliente", "apellido_cliente")),
        *(sa.column(c) for c in ("email", "telefono", "telefono_e164", "busqueda")),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(cliente).where(cliente.c.id_cliente > last).order_by(cliente.c.id_cliente).limit(BATCH)
        ).all()
        if not rows:
            return
        values = [{"k": r.id_cliente, "b": search_document(SimpleNamespace(**r._mapping))} for r in rows]
        stmt = cliente.update().where(cliente.c.id_cliente == sa.bindparam("k"))
        conn.execute(stmt.values(busqueda=sa.bindparam("b")), values)
        last = rows[-1].id_cliente


def upgrade():
    with op.batch_alter_table("cliente") as batch:
        batch.add_column(sa.Column("busqueda", sa.String(200), nullable=True))
    _fill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cliente_busqueda_trgm")
        op.execute("CREATE INDEX ix_cliente_busqueda_trgm ON cliente USING gin (busqueda gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cliente_busqueda_trgm")
        op.execute(
            "CREATE INDEX ix_cliente_busqueda_trgm ON cliente USING gin ((cedula_cliente || ' ' || "
            "nombre_cliente || ' ' || coalesce(apellido_cliente, '') || ' ' || coalesce(email, '') "
            "|| ' ' || coalesce(telefono, '')) gin_trgm_ops)"
        )
    with op.batch_alter_table("cliente") as batch:
        batch.drop_column("busqueda")
