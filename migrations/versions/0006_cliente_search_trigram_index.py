"""a trigram index for the clients' search box (PostgreSQL only)

``panel/search.py`` searches cédula, names, e-mail and phone as one text with
``ILIKE '%word%'``; pg_trgm's GIN index on that same expression makes it an index lookup.
pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. SQLite
scans (it serves the small installations).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Keep equal to panel/search.py: SEARCH_SQL (and panel/extensions.py: MIGRATION_ONLY_INDEXES).
SEARCH_SQL = (
    "(cedula_cliente || ' ' || nombre_cliente || ' ' || coalesce(apellido_cliente, '') || ' ' "
    "|| coalesce(email, '') || ' ' || coalesce(telefono, ''))"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(f"CREATE INDEX ix_cliente_busqueda_trgm ON cliente USING gin ({SEARCH_SQL} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_cliente_busqueda_trgm")
