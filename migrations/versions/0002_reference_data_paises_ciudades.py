"""reference data: países and ciudades (Colombia = 1, Bogotá = 1)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PAISES = [(1, "Colombia", "CO"), (2, "Ecuador", "EC"), (3, "Perú", "PE"), (4, "México", "MX"),
          (5, "Panamá", "PA")]
CIUDADES_CO = ["Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena", "Cúcuta", "Bucaramanga",
               "Pereira", "Santa Marta", "Ibagué", "Manizales", "Villavicencio", "Pasto", "Montería",
               "Neiva", "Armenia", "Popayán", "Valledupar", "Sincelejo", "Tunja"]
OTRAS = [("Quito", 2), ("Guayaquil", 2), ("Lima", 3), ("Arequipa", 3), ("Ciudad de México", 4),
         ("Guadalajara", 4), ("Ciudad de Panamá", 5)]


def upgrade():
    pais = sa.table("pais", sa.column("id", sa.Integer), sa.column("nombre", sa.String),
                    sa.column("codigo_iso", sa.String))
    ciudad = sa.table("ciudad", sa.column("id", sa.Integer), sa.column("nombre", sa.String),
                      sa.column("id_pais", sa.Integer))
    op.bulk_insert(pais, [{"id": i, "nombre": n, "codigo_iso": c} for i, n, c in PAISES])
    rows = [(n, 1) for n in CIUDADES_CO] + OTRAS
    op.bulk_insert(ciudad, [{"id": i, "nombre": n, "id_pais": p} for i, (n, p) in enumerate(rows, 1)])
    if op.get_bind().dialect.name == "postgresql":
        # Explicit ids above: move the sequences past them so new rows do not collide.
        for table in ("pais", "ciudad"):
            op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def downgrade():
    op.execute("DELETE FROM ciudad")
    op.execute("DELETE FROM pais")
