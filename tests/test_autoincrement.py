"""Deleted ids are never reused (SPEC §12), so a Historial entry always names the right record."""

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from panel.audit import AUDITED
from panel.extensions import db
from panel.models import CampanaSMS, Ciudad, Cliente, Departamento, Empresa, Usuario

from . import factories
from .conftest import make_app

MIGRATION = Path(__file__).parent.parent / "migrations" / "versions" / "0014_sqlite_autoincrement.py"
BEFORE = "0012"  # the revision before the rebuild (the lead may chain others in between)


def _migration():
    spec = importlib.util.spec_from_file_location("m0014", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _campana_sms(tenants):
    c = CampanaSMS(
        nombre="Aviso",
        mensaje="Hola",
        id_usuario=tenants.admin_a.id,
        id_propietario=tenants.admin_a.id,
        total_clientes=0,
    )
    db.session.add(c)
    db.session.commit()
    return c


MAKERS = {
    "cliente": lambda t: factories.cliente(t.admin_a),
    "empresa": lambda t: factories.empresa(t.admin_a),
    "campana_publicitaria": lambda t: factories.campana(t.admin_a),
    "plantilla_sms": lambda t: factories.plantilla(t.admin_a),
    "campana_sms": _campana_sms,
    "vehiculo": lambda t: factories.vehiculo(factories.cliente(t.admin_a)),
    "usuario": lambda t: factories.user(f"v{next(factories._seq)}@test.co", "vendedor", creado_por=t.admin_a),
    "ciudad": lambda t: _ciudad(),
    "departamento": lambda t: _departamento(),
}


def _ciudad():
    c = Ciudad(nombre=f"Ciudad {next(factories._seq)}", id_pais=1)
    db.session.add(c)
    db.session.commit()
    return c


def _departamento():
    taken = set(db.session.scalars(sa.select(Departamento.codigo_dane)))
    codigo = next(c for c in (f"{n:02d}" for n in range(100)) if c not in taken)
    d = Departamento(codigo_dane=codigo, nombre="Nuevo")
    db.session.add(d)
    db.session.commit()
    return d


def _pk(obj) -> int:
    return sa.inspect(obj).identity[0]


@pytest.mark.parametrize("table", sorted(MAKERS))
def test_create_delete_create_gives_a_larger_id(app, tenants, table):
    first = MAKERS[table](tenants)
    old_id = _pk(first)
    db.session.delete(first)  # the newest row: the one SQLite would hand out again
    db.session.commit()
    second = MAKERS[table](tenants)
    assert _pk(second) > old_id


def test_every_table_historial_names_never_reuses_ids(app):
    """The models say it (so a database created from them gets it) and the migration rebuilds
    the same tables; both lists cover every model the Historial records."""
    models = [mapper.class_ for mapper in db.Model.registry.mappers]
    audited = {m.__tablename__ for m in models if m.__name__ in AUDITED} | {CampanaSMS.__tablename__}
    with_autoincrement = {t.name for t in db.metadata.tables.values() if t.kwargs.get("sqlite_autoincrement")}
    assert audited <= with_autoincrement
    assert set(_migration().TABLES) | CREATED_LATER == with_autoincrement


# Tables created after 0014 with AUTOINCREMENT keys from the start (0019, 0021).
CREATED_LATER = {"rne_carga", "departamento"}


def test_the_migrated_tables_never_reuse_ids(app):
    """What the migrations left: AUTOINCREMENT keys on SQLite, sequence defaults on PostgreSQL."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            schema = dict(
                conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
            )
            missing = [t for t in (*_migration().TABLES, *CREATED_LATER) if "AUTOINCREMENT" not in schema[t]]
        else:
            inspector, missing = sa.inspect(conn), []
            for t in (*_migration().TABLES, *CREATED_LATER):
                pk = inspector.get_pk_constraint(t)["constrained_columns"][0]
                column = next(c for c in inspector.get_columns(t) if c["name"] == pk)
                if "nextval" not in str(column.get("default")) and not column.get("identity"):
                    missing.append(t)
    assert missing == []


def _tenant_wide(conn) -> None:
    if conn.dialect.name == "postgresql":  # the RLS policies: a migration-time view of every tenant
        conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))


def _one(conn, sql: str, **params):
    return conn.execute(sa.text(sql), params).scalar_one()


def _insert_rows_before(conn) -> dict:
    """Rows written by the schema as it was before the rebuild (plain SQL, not today's models).
    The newest client is deleted: on SQLite its id would come back for the next client."""
    _tenant_wide(conn)
    t = "2026-11-30 12:00:00"
    conn.execute(
        sa.text(
            "INSERT INTO usuario (email, password_hash, nombre, rol, activo, creado, sesion_version) "
            "VALUES ('admin@agencia.co', 'x', 'Admin', 'admin', true, :t, 0)"
        ),
        {"t": t},
    )
    admin = _one(conn, "SELECT id FROM usuario WHERE email = 'admin@agencia.co'")
    conn.execute(
        sa.text("INSERT INTO empresa (nombre, creado, id_propietario) VALUES ('Tostadora Andina', :t, :a)"),
        {"t": t, "a": admin},
    )
    empresa = _one(conn, "SELECT id FROM empresa")
    for cedula in ("1012345678", "1012345679"):
        conn.execute(
            sa.text(
                "INSERT INTO cliente (cedula_cliente, nombre_cliente, apellido_cliente, id_ciudad, id_pais,"
                " id_empresa, estado, acepta_sms, creado, actualizado, id_propietario) VALUES "
                "(:c, 'María', 'Gómez', 1, 1, :e, 1, true, :t, :t, :a)"
            ),
            {"c": cedula, "e": empresa, "t": t, "a": admin},
        )
    kept = _one(conn, "SELECT id_cliente FROM cliente WHERE cedula_cliente = '1012345678'")
    newest = _one(conn, "SELECT id_cliente FROM cliente WHERE cedula_cliente = '1012345679'")
    conn.execute(
        sa.text("INSERT INTO vehiculo (id_cliente, placa, id_propietario) VALUES (:c, 'KLM123', :a)"),
        {"c": kept, "a": admin},
    )
    conn.execute(sa.text("DELETE FROM cliente WHERE id_cliente = :c"), {"c": newest})
    for accion in ("crear", "eliminar"):  # what the Historial kept of the deleted client
        conn.execute(
            sa.text(
                "INSERT INTO historial (creado, id_usuario, id_propietario, accion, modelo, objeto_id, filas,"
                " resumen) VALUES (:t, :a, :a, :accion, 'Cliente', :c, 1, 'María Gómez')"
            ),
            {"t": t, "a": admin, "accion": accion, "c": str(newest)},
        )
    return dict(admin=admin, empresa=empresa, kept=kept, deleted=newest)


def test_migrating_an_existing_database_keeps_its_rows(databases):
    app = make_app(databases.new())
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            ids = _insert_rows_before(conn)
        db.engine.dispose()
        upgrade()
        with db.engine.begin() as conn:
            _tenant_wide(conn)
            clientes = conn.execute(
                sa.text("SELECT id_cliente, cedula_cliente, nombre_cliente, id_empresa FROM cliente")
            ).all()
            vehiculos = conn.execute(sa.text("SELECT id_cliente, placa FROM vehiculo")).all()
            if conn.dialect.name == "sqlite":
                assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        assert [tuple(r) for r in clientes] == [(ids["kept"], "1012345678", "María", ids["empresa"])]
        assert [tuple(r) for r in vehiculos] == [(ids["kept"], "KLM123")]
        assert db.session.get(Usuario, ids["admin"]).email == "admin@agencia.co"
        assert db.session.get(Empresa, ids["empresa"]).nombre == "Tostadora Andina"

        nuevo = Cliente(cedula_cliente="1012345680", nombre_cliente="Juan", id_propietario=ids["admin"])
        db.session.add(nuevo)
        db.session.commit()
        assert nuevo.id_cliente > ids["deleted"]
        # the foreign keys still hold after the rebuild
        db.session.add(
            Cliente(
                cedula_cliente="1012345681",
                nombre_cliente="Ana",
                id_empresa=ids["empresa"] + 99,
                id_propietario=ids["admin"],
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
