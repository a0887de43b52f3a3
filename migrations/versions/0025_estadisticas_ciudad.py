"""cliente.id_ciudad: a finer statistics sample on PostgreSQL (the Departamento filter, SPEC §16)

The Clientes list filtered by departamento writes its municipios' ids into the statement
(``id_ciudad IN (…)``); PostgreSQL picks the plan from id_ciudad's statistics. With the default
sample (100 → 30,000 rows) it saw ~200 of the 1,123 municipios at 1,000,000 clients and
believed each unseen one held ~65 clients: a departamento of a few hundred clients then looked
like thousands, and page 1 walked the table backwards by id (Cundinamarca, one tenant: 0.9 s;
every tenant: 68 ms). A sample of 3,000 (900,000 rows) tells the long tail apart (0.1 ms and
1.4 ms); 1,000 was not enough for every tenant at once. SQLite has no such setting.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06

"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

SAMPLE = 3000


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE cliente ALTER COLUMN id_ciudad SET STATISTICS {SAMPLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cliente ALTER COLUMN id_ciudad SET STATISTICS -1")
