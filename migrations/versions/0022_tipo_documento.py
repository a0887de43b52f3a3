"""cliente.tipo_documento and empresa.nit per tenant (SPEC §16)

- ``cliente.tipo_documento`` (CC, the default for every existing client; CE, TI, PPT, PEP, PA,
  NIT), checked; ``cedula_cliente`` widens to 20 (a passport's letters, a NIT with its digit);
  the tenant's unique key becomes (tipo, número): the same number under two types is allowed.
- ``empresa.nit`` stored compact with its verification digit (9 digits gain theirs) and unique
  per tenant; a NIT that repeated inside one tenant is kept on its first empresa only (the later
  ones are left without NIT, to be typed again), since the key could not be created otherwise.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"

# SQLite rebuilds a table to change a key: keep AUTOINCREMENT (0014), deleted ids are never reused.
KEEP_IDS = {"sqlite_autoincrement": True}
branch_labels = None
depends_on = None

TIPOS = ("CC", "CE", "TI", "PPT", "PEP", "PA", "NIT")


def _dv(nine: str) -> str:
    """The DIAN verification digit (as stdnum.co.nit computes it; a migration stays frozen)."""
    weights = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)
    total = sum(int(d) * w for d, w in zip(reversed(nine), weights, strict=False)) % 11
    return "01987654321"[total]


def _compact_nits() -> None:
    conn = op.get_bind()
    empresa = sa.table("empresa", sa.column("id"), sa.column("id_propietario"), sa.column("nit"))
    seen: set[tuple[int, str]] = set()
    rows = conn.execute(
        sa.select(empresa.c.id, empresa.c.id_propietario, empresa.c.nit).order_by(empresa.c.id)
    )
    for id_, owner, nit in rows.all():
        if nit is None:
            continue
        compact = re.sub(r"[.\s-]", "", nit).upper() or None
        if compact and len(compact) == 9 and compact.isdigit():
            compact += _dv(compact)
        if compact is not None and (owner, compact) in seen:
            compact = None
        seen.add((owner, compact))
        if compact != nit:
            conn.execute(empresa.update().where(empresa.c.id == id_).values(nit=compact))


def upgrade():
    with _foreign_keys_off():
        _upgrade()


def downgrade():
    with _foreign_keys_off():
        _downgrade()


def _upgrade():
    with op.batch_alter_table("cliente", table_kwargs=KEEP_IDS) as batch:
        batch.add_column(sa.Column("tipo_documento", sa.String(3), nullable=False, server_default="CC"))
        batch.alter_column("cedula_cliente", type_=sa.String(20), existing_nullable=False)
        batch.drop_constraint("uq_cliente_cedula_por_propietario", type_="unique")
        batch.create_unique_constraint(
            "uq_cliente_documento_por_propietario", ["id_propietario", "tipo_documento", "cedula_cliente"]
        )
        batch.create_check_constraint(
            "tipo_documento", "tipo_documento IN (" + ", ".join(f"'{t}'" for t in TIPOS) + ")"
        )
    _compact_nits()
    with op.batch_alter_table("empresa", table_kwargs=KEEP_IDS) as batch:
        batch.create_unique_constraint("uq_empresa_nit_por_propietario", ["id_propietario", "nit"])


def _downgrade():
    with op.batch_alter_table("empresa", table_kwargs=KEEP_IDS) as batch:
        batch.drop_constraint("uq_empresa_nit_por_propietario", type_="unique")
    with op.batch_alter_table("cliente", table_kwargs=KEEP_IDS) as batch:
        batch.drop_constraint(op.f("ck_cliente_tipo_documento"), type_="check")
        batch.drop_constraint("uq_cliente_documento_por_propietario", type_="unique")
        batch.create_unique_constraint(
            "uq_cliente_cedula_por_propietario", ["id_propietario", "cedula_cliente"]
        )
        batch.alter_column("cedula_cliente", type_=sa.String(10), existing_nullable=False)
        batch.drop_column("tipo_documento")


class _foreign_keys_off:
    """SQLite only: foreign keys off around the rebuild of ``cliente`` and ``empresa`` (dropping a
    parent table with them on would delete its rows first, which RESTRICT refuses), checked before
    commit; and their AUTOINCREMENT counters kept (a rebuilt table's counter restarts at its
    highest id, which would hand out again the ids of rows deleted before)."""

    def __enter__(self):
        self.sqlite = op.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            seq = sa.text("SELECT name, seq FROM sqlite_sequence WHERE name IN ('cliente', 'empresa')")
            self.counters = dict(op.get_bind().execute(seq).all())
            with op.get_context().autocommit_block():  # PRAGMA foreign_keys is a no-op in a transaction
                op.execute("PRAGMA foreign_keys=OFF")

    def __exit__(self, kind, exc, tb):
        if not self.sqlite:
            return False
        try:
            if kind is None:
                _restore(self.counters)
                broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise RuntimeError(f"La reconstrucción deja claves foráneas rotas: {broken[:5]}")
            else:
                op.get_bind().rollback()
        finally:
            with op.get_context().autocommit_block():
                op.execute("PRAGMA foreign_keys=ON")
        return False


def _restore(counters: dict) -> None:
    """Each rebuilt table's AUTOINCREMENT counter back to at least what it was."""
    for name, seq in counters.items():
        op.get_bind().execute(
            sa.text("UPDATE sqlite_sequence SET seq = MAX(seq, :seq) WHERE name = :name"),
            {"seq": seq, "name": name},
        )
