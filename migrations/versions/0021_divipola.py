"""DIVIPOLA: departamentos, and the DANE code and departamento of every Colombian municipio

Adds ``departamento`` (shared reference data, no tenant) and, on ``ciudad``, ``codigo_dane``,
``id_departamento`` and ``nombre_repetido``; then loads the 33 departamentos and 1,123
municipios of ``panel/data/divipola.csv`` (Fuente: DANE, DIVIPOLA). The cities already there
keep their ids (1 stays Bogotá = 11001): each gains its code, departamento and DANE's spelling.
The load only adds what is missing, so running it again changes nothing.

DIVIPOLA repeats names across departamentos (Rionegro in Antioquia and in Santander), so the
key ``(id_pais, nombre)`` becomes ``(id_departamento, nombre)``. SQLite cannot drop a
constraint in place: ``ciudad`` is rebuilt as 0014 rebuilds tables (foreign keys off outside
the transaction, checked before committing, AUTOINCREMENT kept).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

"""

import csv
import re
import unicodedata
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

COLOMBIA = 1
# The cities of 0002 keep their ids; the rows this migration adds come after them.
CIUDADES_0002 = 27


def upgrade():
    op.create_table(
        "departamento",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codigo_dane", sa.String(length=2), nullable=False),
        sa.Column("nombre", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departamento")),
        sa.UniqueConstraint("codigo_dane", name=op.f("uq_departamento_codigo_dane")),
        sqlite_autoincrement=True,
    )
    with _foreign_keys_off():
        with op.batch_alter_table("ciudad", table_kwargs={"sqlite_autoincrement": True}) as batch:
            batch.add_column(sa.Column("codigo_dane", sa.String(length=5), nullable=True))
            batch.add_column(sa.Column("id_departamento", sa.Integer(), nullable=True))
            batch.add_column(
                sa.Column("nombre_repetido", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
            batch.create_unique_constraint(op.f("uq_ciudad_codigo_dane"), ["codigo_dane"])
            batch.create_foreign_key(
                op.f("fk_ciudad_id_departamento_departamento"),
                "departamento",
                ["id_departamento"],
                ["id"],
                ondelete="RESTRICT",
            )
            batch.drop_constraint("uq_ciudad_pais_nombre", type_="unique")
            batch.create_unique_constraint("uq_ciudad_departamento_nombre", ["id_departamento", "nombre"])
            batch.create_index(op.f("ix_ciudad_id_departamento"), ["id_departamento"])
    load(op.get_bind(), read_rows())


def downgrade():
    # What this migration added and no client names goes; the cities of 0002 stay.
    op.execute(
        sa.text(
            "DELETE FROM ciudad WHERE id > :n AND codigo_dane IS NOT NULL "
            "AND id NOT IN (SELECT id_ciudad FROM cliente)"
        ).bindparams(n=CIUDADES_0002)
    )
    with _foreign_keys_off():
        with op.batch_alter_table("ciudad", table_kwargs={"sqlite_autoincrement": True}) as batch:
            batch.drop_constraint("uq_ciudad_departamento_nombre", type_="unique")
            batch.create_unique_constraint("uq_ciudad_pais_nombre", ["id_pais", "nombre"])
            batch.drop_index(op.f("ix_ciudad_id_departamento"))
            batch.drop_constraint(op.f("fk_ciudad_id_departamento_departamento"), type_="foreignkey")
            batch.drop_constraint(op.f("uq_ciudad_codigo_dane"), type_="unique")
            batch.drop_column("nombre_repetido")
            batch.drop_column("id_departamento")
            batch.drop_column("codigo_dane")
    op.drop_table("departamento")


class _foreign_keys_off:
    """SQLite only: foreign keys off around the rebuild of ``ciudad`` (dropping a parent table
    with them on would delete its rows first, which RESTRICT refuses), checked before commit."""

    def __enter__(self):
        self.sqlite = op.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            with op.get_context().autocommit_block():  # PRAGMA foreign_keys is a no-op in a transaction
                op.execute("PRAGMA foreign_keys=OFF")

    def __exit__(self, kind, exc, tb):
        if not self.sqlite:
            return False
        try:
            if kind is None:
                broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise RuntimeError(f"La reconstrucción deja claves foráneas rotas: {broken[:5]}")
            else:
                op.get_bind().rollback()
        finally:
            with op.get_context().autocommit_block():
                op.execute("PRAGMA foreign_keys=ON")
        return False


# --- the data: self-contained, so that later changes to the app cannot change this load --------

departamento = sa.table(
    "departamento",
    sa.column("id", sa.Integer),
    sa.column("codigo_dane", sa.String),
    sa.column("nombre", sa.String),
)
ciudad = sa.table(
    "ciudad",
    sa.column("id", sa.Integer),
    sa.column("nombre", sa.String),
    sa.column("id_pais", sa.Integer),
    sa.column("codigo_dane", sa.String),
    sa.column("id_departamento", sa.Integer),
    sa.column("nombre_repetido", sa.Boolean),
)


def read_rows() -> list[dict]:
    """The rows of the packaged file: codigo_departamento, departamento, codigo_municipio, municipio."""
    with resources.files("panel").joinpath("data/divipola.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _key(nombre: str) -> str:
    """'Bogotá, D.C.' → 'bogota': how an existing city's name is compared with DANE's."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", nombre) if not unicodedata.combining(c))
    words = re.sub(r"[^a-z0-9]+", " ", bare.lower()).split()
    while words[-2:] == ["d", "c"]:
        words = words[:-2]
    return " ".join(words)


def load(conn, rows: list[dict]) -> None:
    """Add the missing departamentos and municipios; give the Colombian cities that exist
    without a code theirs (by name, the departamento's capital when the name repeats)."""
    have = set(conn.scalars(sa.select(departamento.c.codigo_dane)))
    nuevos = {
        r["codigo_departamento"]: r["departamento"] for r in rows if r["codigo_departamento"] not in have
    }
    if nuevos:
        conn.execute(
            sa.insert(departamento), [{"codigo_dane": c, "nombre": n} for c, n in sorted(nuevos.items())]
        )
    ids = dict(conn.execute(sa.select(departamento.c.codigo_dane, departamento.c.id)).all())

    by_name: dict[str, list[dict]] = {}
    for r in rows:
        by_name.setdefault(_key(r["municipio"]), []).append(r)
    coded = set(conn.scalars(sa.select(ciudad.c.codigo_dane).where(ciudad.c.codigo_dane.is_not(None))))
    sin_codigo = conn.execute(
        sa.select(ciudad.c.id, ciudad.c.nombre)
        .where(ciudad.c.codigo_dane.is_(None), ciudad.c.id_pais == COLOMBIA)
        .order_by(ciudad.c.id)
    ).all()
    for id_, nombre in sin_codigo:
        found = _dane_row(by_name.get(_key(nombre), []), coded)
        if found is not None:
            coded.add(found["codigo_municipio"])
            conn.execute(
                ciudad.update()
                .where(ciudad.c.id == id_)
                .values(
                    codigo_dane=found["codigo_municipio"],
                    id_departamento=ids[found["codigo_departamento"]],
                    nombre=found["municipio"],
                )
            )
    missing = [r for r in rows if r["codigo_municipio"] not in coded]
    if missing:  # one executemany: SQLAlchemy batches it into multi-row INSERTs
        conn.execute(
            sa.insert(ciudad),
            [
                {
                    "nombre": r["municipio"],
                    "id_pais": COLOMBIA,
                    "codigo_dane": r["codigo_municipio"],
                    "id_departamento": ids[r["codigo_departamento"]],
                    "nombre_repetido": False,
                }
                for r in missing
            ],
        )
    mark_repeated(conn)


def _dane_row(candidates: list[dict], taken: set[str]) -> dict | None:
    free = [r for r in candidates if r["codigo_municipio"] not in taken]
    if len(free) == 1:
        return free[0]
    capitals = [r for r in free if r["codigo_municipio"].endswith("001")]  # Armenia is Quindío's
    return capitals[0] if len(capitals) == 1 else None


def mark_repeated(conn) -> None:
    """The same statement as panel.municipios.mark_repeated (a migration keeps its own copy)."""
    otra = ciudad.alias("otra")
    repeats = sa.exists().where(
        otra.c.nombre == ciudad.c.nombre, otra.c.id != ciudad.c.id, otra.c.id_departamento.is_not(None)
    )
    conn.execute(
        ciudad.update().values(nombre_repetido=sa.and_(ciudad.c.id_departamento.is_not(None), repeats))
    )
