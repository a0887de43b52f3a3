"""The benchmark data, set-based: 10 tenants with empresas, campañas and their clients.

PostgreSQL gets the clients through ``COPY`` (psycopg), SQLite through batched Core
``executemany`` in big transactions. The database is created (and migrated) by this script;
an existing one of the right size is reused unless ``BENCH_REGENERATE=1``.

    BENCH_SIZE=quick DATABASE_URL=postgresql://postgres@127.0.0.1:5432/x python -m bench.generate
"""

import os
import random
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import psycopg
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from panel import create_app
from panel.extensions import db
from panel.models.clients import search_document
from panel.phones import e164
from panel.text import fold

from .common import PASSWORD, ROOT, SQLITE_PATH, Size, bench_config, database_url, emit, size, timer

NOMBRES = (
    "Ana Luis María Carlos Sofía Andrés Valentina Juan Camila Diego Laura Jorge Paula Felipe Daniela "
    "Santiago Isabella Mateo Lucía Julián"
).split()
APELLIDOS = (
    "Gómez Rodríguez Martínez García López Hernández Díaz Pérez Sánchez Ramírez Torres Flórez Rojas Vargas "
    "Moreno Castro Ortiz Ruiz Suárez"
).split()
PREFIJOS = "300 301 302 304 305 310 311 312 313 314 315 316 317 318 319 320 321 322 323 350".split()
EMPRESAS, CAMPANAS = 20, 10  # per tenant
COLUMNS = tuple(
    "cedula_cliente nombre_cliente apellido_cliente fecha_nacimiento email genero telefono telefono_e164 "
    "busqueda id_ciudad id_pais id_empresa id_campana estado acepta_sms creado actualizado "
    "id_propietario".split()
)
BATCH = 20_000


def admin_email(tenant_index: int) -> str:
    return f"admin{tenant_index}@bench.co"


SUPERADMIN = "super@bench.co"


def create_database(url: str) -> None:
    """Drop and create the benchmark database (PostgreSQL) or file (SQLite)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            path = f"{parsed.database}{suffix}"
            if os.path.exists(path):
                os.remove(path)
        return
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def migrations_head() -> str:
    """The newest migration revision: a data set made with an older schema is rebuilt."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def existing_clients(url: str) -> int | None:
    """How many clients the benchmark database holds (None: no usable or outdated database)."""
    parsed = sa.make_url(url)
    if (
        parsed.get_backend_name() == "sqlite"
        and not SQLITE_PATH.exists()
        and parsed.database == str(SQLITE_PATH)
    ):
        return None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if parsed.get_backend_name() == "postgresql":
                conn.execute(sa.text("SELECT set_config('app.tenant', '*', false)"))
            if conn.scalar(sa.text("SELECT version_num FROM alembic_version")) != migrations_head():
                return None
            return conn.scalar(sa.text("SELECT count(*) FROM cliente"))
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def ensure(s: Size | None = None, url: str | None = None) -> str:
    """A benchmark database of the wanted size: reused when it is there, else generated."""
    s, url = s or size(), url or database_url()
    if os.environ.get("BENCH_REGENERATE") != "1" and existing_clients(url) == s.clients:
        return url
    generate(s, url)
    return url


def generate(s: Size, url: str) -> None:
    """Create, migrate and fill the benchmark database."""
    create_database(url)
    app = create_app(bench_config(url))
    with app.app_context():
        upgrade()
        with timer() as t:
            tenants = _reference_rows(s)
            _clients(s, tenants, municipios())
        _analyze()
        db.engine.dispose()
    emit(
        f"generados {s.clients:,} clientes en {s.tenants} propietarios en {t[0]:.1f} s ({url.split('@')[-1]})"
    )


def _reference_rows(s: Size) -> list[dict]:
    """Users, empresas and campañas (few rows: plain Core inserts); returns each tenant's ids."""
    now, pw = datetime(2026, 1, 1), generate_password_hash(PASSWORD)
    users = db.metadata.tables["usuario"]
    tenants = []
    with db.engine.begin() as conn:
        _all_tenants(conn)
        conn.execute(
            users.insert(),
            {
                "email": SUPERADMIN,
                "password_hash": pw,
                "nombre": "Super",
                "rol": "superadmin",
                "activo": True,
                "creado": now,
            },
        )
        for t in range(s.tenants):
            uid = conn.execute(
                users.insert().returning(users.c.id),
                {
                    "email": admin_email(t),
                    "password_hash": pw,
                    "nombre": f"Admin {t}",
                    "rol": "admin",
                    "activo": True,
                    "creado": now,
                },
            ).scalar_one()
            tenants.append(
                {
                    "id": uid,
                    "empresas": _owned(conn, "empresa", uid, EMPRESAS, now),
                    "campanas": _owned(conn, "campana_publicitaria", uid, CAMPANAS, now),
                }
            )
    return tenants


def _owned(conn, table_name: str, owner: int, n: int, now) -> list[int]:
    table = db.metadata.tables[table_name]
    rows = [
        {"nombre": f"{table_name.split('_')[0].title()} {owner}-{i}", "id_propietario": owner, "creado": now}
        for i in range(n)
    ]
    return list(conn.execute(table.insert().returning(table.c.id), rows).scalars())


def _all_tenants(conn) -> None:
    """PostgreSQL RLS: this connection writes for every tenant."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))


def municipios() -> list[int]:
    """Every Colombian municipio's id (the 1,123 of DIVIPOLA), the 20 capitals first (ids 1..20)."""
    ciudad = db.metadata.tables["ciudad"]
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(ciudad.c.id).where(ciudad.c.codigo_dane.is_not(None)).order_by(ciudad.c.id)
            )
        )


def client_rows(s: Size, tenants: list[dict], ciudades: list[int]):
    """Every client as a tuple in COLUMNS order (deterministic: seeded). Where they live is
    Pareto-shaped over ``ciudades``: most in the big capitals (ids 1..20, as in rounds one and
    two), a long tail (~3 %) across the other 1,100 municipios, so a departamento holds
    many municipios' clients."""
    rng, start = random.Random(7), datetime(2020, 1, 1)
    for i in range(s.clients):
        t = tenants[i % len(tenants)]
        nombre, apellido = rng.choice(NOMBRES), rng.choice(APELLIDOS)
        roll = rng.random()
        estado = 1 if roll < 0.8 else (0 if roll < 0.95 else 3)
        creado = start + timedelta(seconds=i * 60)
        telefono = f"{rng.choice(PREFIJOS)}{i % 10_000_000:07d}"
        cedula, email, phone = str(10_000_000 + i), f"c{i}@correo.co", e164(telefono, "CO")
        person = SimpleNamespace(
            cedula_cliente=cedula,
            nombre_cliente=nombre,
            apellido_cliente=apellido,
            email=email,
            telefono=telefono,
            telefono_e164=phone,
        )
        yield (
            cedula,
            nombre,
            apellido,
            date(1950, 1, 1) + timedelta(days=rng.randrange(20000)),
            email,
            rng.randrange(2),
            telefono,
            phone,  # what panel/phones.py derives on an ORM save
            search_document(person),  # what panel/models/clients.py derives on an ORM save
            ciudades[int(rng.paretovariate(1.2)) % len(ciudades)],
            1,
            rng.choice(t["empresas"]) if rng.random() < 0.9 else None,
            rng.choice(t["campanas"]) if rng.random() < 0.5 else None,
            estado,
            rng.random() < 0.95,
            creado,
            creado,
            t["id"],
        )


def _clients(s: Size, tenants: list[dict], ciudades: list[int]) -> None:
    if db.engine.dialect.name == "postgresql" and s.clients > SET_BASED_FROM:
        _insert_set_based(s, tenants, ciudades)
    elif db.engine.dialect.name == "postgresql":
        _copy_postgres(s, tenants, ciudades)
    else:
        _insert_sqlite(s, tenants, ciudades)


def _copy_postgres(s: Size, tenants: list[dict], ciudades: list[int]) -> None:
    """One COPY of all the clients."""
    with db.engine.begin() as conn:
        _all_tenants(conn)
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY cliente ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in client_rows(s, tenants, ciudades):
                copy.write_row(row)


SET_BASED_FROM = 1_000_000  # beyond: the rows are made by PostgreSQL itself, not sent by Python
SET_BASED_CHUNK = 500_000


def _insert_set_based(s: Size, tenants: list[dict], ciudades: list[int]) -> None:
    """``INSERT … SELECT generate_series`` in chunks of SET_BASED_CHUNK, one transaction each.

    The same shapes as ``client_rows`` (round-robin tenants, Pareto ciudades, 80/15/5 estados,
    90 % with an empresa, 50 % with a campaña) from a hash of the row number instead of Python's
    seeded generator. The secondary indexes are dropped first and rebuilt once at the end, and
    foreign-key triggers are off (``session_replication_role``): every id comes from the
    reference rows just written. ``busqueda`` is built the way ``search_document`` builds it
    (its folded names computed in Python) and checked against it on a sample afterwards."""
    nombres = [fold(n) for n in NOMBRES]
    apellidos = [fold(a) for a in APELLIDOS]
    params = {
        "tenants": [t["id"] for t in tenants],
        "empresas": [e for t in tenants for e in t["empresas"]],
        "campanas": [c for t in tenants for c in t["campanas"]],
        "ciudades": ciudades,
        "nombres": NOMBRES,
        "apellidos": APELLIDOS,
        "nombres_f": nombres,
        "apellidos_f": apellidos,
        "prefijos": PREFIJOS,
    }
    assert all(len(t["empresas"]) == EMPRESAS and len(t["campanas"]) == CAMPANAS for t in tenants)
    with db.engine.begin() as conn:
        rebuild = _drop_secondary_indexes(conn)
    for first in range(0, s.clients, SET_BASED_CHUNK):
        last = min(s.clients, first + SET_BASED_CHUNK) - 1
        with timer() as t, db.engine.begin() as conn:
            _all_tenants(conn)
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(_SET_BASED_SQL), {**params, "first": first, "last": last})
        emit(f"  clientes {last + 1:,} / {s.clients:,} ({t[0]:.0f} s)")
    with timer() as t:
        for statement in rebuild:
            with db.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
                conn.execute(sa.text(statement))
    emit(f"  {len(rebuild)} índices reconstruidos en {t[0]:.0f} s")
    _check_busqueda()


# h(k): a non-negative 31-bit hash of the row number g, one stream per k; u(k) in (0, 1].
_H = "(hashint8extended(g, {k}) & 2147483647)"
_U = "((" + _H + " + 1)::float8 / 2147483648)"
_SET_BASED_SQL = f"""
INSERT INTO cliente ({", ".join(COLUMNS)})
SELECT cedula, nombre, apellido, fecha_nacimiento, email, genero, telefono, '+57' || telefono,
       left(cedula || ' ' || nombre_f || ' ' || apellido_f || ' ' || email || ' ' || telefono || ' '
            || telefono || ' 57' || telefono, 200),
       id_ciudad, 1, id_empresa, id_campana, estado, acepta_sms, creado, creado, id_propietario
FROM (
  SELECT g, t,
         (10000000 + g)::text AS cedula,
         (:nombres)[n + 1] AS nombre, (:nombres_f)[n + 1] AS nombre_f,
         (:apellidos)[a + 1] AS apellido, (:apellidos_f)[a + 1] AS apellido_f,
         date '1950-01-01' + ({_H.format(k=3)} % 20000)::int AS fecha_nacimiento,
         'c' || g || '@correo.co' AS email,
         ({_H.format(k=4)} % 2)::int AS genero,
         (:prefijos)[({_H.format(k=5)} % cardinality(:prefijos)) + 1] || lpad((g % 10000000)::text, 7, '0')
           AS telefono,
         (:ciudades)[(floor(power({_U.format(k=6)}, -1 / 1.2))::bigint % cardinality(:ciudades)) + 1]
           AS id_ciudad,
         CASE WHEN {_U.format(k=7)} <= 0.9
              THEN (:empresas)[t * {EMPRESAS} + ({_H.format(k=8)} % {EMPRESAS})::int + 1] END AS id_empresa,
         CASE WHEN {_U.format(k=9)} <= 0.5
              THEN (:campanas)[t * {CAMPANAS} + ({_H.format(k=10)} % {CAMPANAS})::int + 1] END AS id_campana,
         CASE WHEN r < 0.8 THEN 1 WHEN r < 0.95 THEN 0 ELSE 3 END AS estado,
         {_U.format(k=11)} <= 0.95 AS acepta_sms,
         timestamp '2020-01-01' + g * interval '1 minute' AS creado,
         (:tenants)[t + 1] AS id_propietario
  FROM (
    SELECT g, (g % cardinality(:tenants))::int AS t,
           ({_H.format(k=1)} % cardinality(:nombres))::int AS n,
           ({_H.format(k=2)} % cardinality(:apellidos))::int AS a,
           {_U.format(k=12)} AS r
    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
  ) AS numbered
) AS rows
ORDER BY g
"""
for _name, _type in [
    *((n, "text[]") for n in ("nombres", "apellidos", "nombres_f", "apellidos_f", "prefijos")),
    *((n, "bigint[]") for n in ("tenants", "empresas", "campanas", "ciudades")),
]:  # psycopg sends lists untyped: array functions need the type written
    _SET_BASED_SQL = _SET_BASED_SQL.replace(f"(:{_name})", f"(CAST(:{_name} AS {_type}))")


def _drop_secondary_indexes(conn) -> list[str]:
    """Drop cliente's plain indexes (not its key and unique constraints); their CREATE statements."""
    rows = conn.execute(
        sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'cliente' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
    ).all()
    for name, _ in rows:
        conn.execute(sa.text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in rows]


def _check_busqueda(sample: int = 200) -> None:
    """The SQL-made derived columns equal what the ORM would have derived."""
    with db.engine.connect() as conn:
        _all_tenants(conn)
        rows = conn.execute(
            sa.text(
                "SELECT tipo_documento, cedula_cliente, nombre_cliente, apellido_cliente, email, "
                "telefono, telefono_e164, busqueda FROM cliente TABLESAMPLE SYSTEM (0.01) LIMIT :n"
            ),
            {"n": sample},
        ).all()
    for r in rows:
        person = SimpleNamespace(**r._mapping)
        assert r.telefono_e164 == e164(r.telefono, "CO"), r
        assert r.busqueda == search_document(person), (r.busqueda, search_document(person))


def _insert_sqlite(s: Size, tenants: list[dict], ciudades: list[int]) -> None:
    """Batched executemany, BATCH rows per statement and transaction."""
    table = db.metadata.tables["cliente"]
    rows = client_rows(s, tenants, ciudades)
    while True:
        batch = [dict(zip(COLUMNS, r, strict=True)) for _, r in zip(range(BATCH), rows, strict=False)]
        if not batch:
            break
        with db.engine.begin() as conn:
            conn.execute(table.insert(), batch)


def _analyze() -> None:
    """Fresh statistics (and, on PostgreSQL, a visibility map for index-only scans)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))


def tenant_ids(url: str) -> dict:
    """{'super': id, 'admins': [ids]} of the benchmark users."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = dict(
            conn.execute(sa.text("SELECT email, id FROM usuario WHERE email LIKE '%@bench.co'")).all()
        )
    engine.dispose()
    admins = [rows[e] for e in sorted(rows) if e.startswith("admin")]
    return {"super": rows[SUPERADMIN], "admins": admins}


if __name__ == "__main__":
    os.environ.setdefault("BENCH_REGENERATE", "1")
    ensure()
