"""deleted ids are never reused: AUTOINCREMENT keys on SQLite

SQLite gives a new row the highest id + 1, so deleting the newest client and creating another
hands the old id to a different person, and the Historial entries of the first would point at
the second. An ``AUTOINCREMENT`` key never goes back. SQLite cannot add it to an existing table,
so each table whose ids the Historial names is rebuilt (Alembic's batch mode: new table, rows
copied, old table dropped, new one renamed, its indexes recreated). PostgreSQL sequences never
go back: nothing to do there (and its RLS policies and trigram index stay untouched).

On both engines it also adds the index behind each record's "Historial" button
(``historial (modelo, objeto_id)``).

The rebuild follows SQLite's own procedure (https://sqlite.org/lang_altertable.html#otheralter):
foreign keys off outside the transaction (dropping a parent table with them on deletes its
rows first, which the RESTRICT keys refuse), the rebuild in one transaction, then
``PRAGMA foreign_key_check`` before committing.

Revision ID: 0014_sqlite_autoincrement
Revises: 0012 (placeholder: the lead re-chains it after 0013 at merge)
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0014_sqlite_autoincrement"
down_revision = "0013"
branch_labels = None
depends_on = None

# The tables of NEVER_REUSE_IDS in panel/models → the model name Historial.modelo gives them.
MODELS = {
    "pais": "Pais",
    "ciudad": "Ciudad",
    "usuario": "Usuario",
    "empresa": "Empresa",
    "campana_publicitaria": "CampanaPublicitaria",
    "cliente": "Cliente",
    "vehiculo": "Vehiculo",
    "movimiento_capital": "MovimientoCapital",
    "venta": "Venta",
    "plantilla_sms": "PlantillaSMS",
    "campana_sms": "CampanaSMS",
}
TABLES = tuple(MODELS)


def upgrade():
    _rebuild(autoincrement=True)
    if op.get_bind().dialect.name == "sqlite":
        _skip_ids_already_deleted()
    op.create_index("ix_historial_modelo_objeto", "historial", ["modelo", "objeto_id"])


def downgrade():
    op.drop_index("ix_historial_modelo_objeto", table_name="historial")
    _rebuild(autoincrement=False)


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    context = op.get_context()
    with context.autocommit_block():  # PRAGMA foreign_keys is a no-op inside a transaction
        op.execute("PRAGMA foreign_keys=OFF")
    try:
        for table in TABLES:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
            ):
                pass
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"La reconstrucción deja claves foráneas rotas: {broken[:5]}")
    except BaseException:
        op.get_bind().rollback()  # nothing half-done is committed by the block below
        raise
    finally:
        with context.autocommit_block():  # commits the rebuild, then foreign keys on again
            op.execute("PRAGMA foreign_keys=ON")


def _skip_ids_already_deleted() -> None:
    """The rebuild starts each counter at the highest id present; ids deleted before this
    migration are only known to the Historial, so the counter also skips those."""
    for table, modelo in MODELS.items():
        pk = "id_cliente" if table == "cliente" else "id"
        seq = f"""MAX(
            COALESCE((SELECT MAX({pk}) FROM {table}), 0),
            COALESCE((SELECT MAX(CAST(objeto_id AS INTEGER)) FROM historial
                      WHERE modelo = :modelo AND objeto_id GLOB '[0-9]*'
                      AND objeto_id NOT GLOB '*[^0-9]*'), 0))"""
        op.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t").bindparams(t=table))
        op.execute(
            sa.text(f"INSERT INTO sqlite_sequence (name, seq) SELECT :t, {seq}").bindparams(t=table, modelo=modelo)
        )
