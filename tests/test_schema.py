"""The schema comes from migrations only, equals the models, and its constraints hold."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from panel.extensions import db, include_object
from panel.models import Ciudad, Cliente, Pais, Vehiculo

from . import factories
from .conftest import make_app


def _differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        return compare_metadata(context, db.metadata)


def test_migrated_schema_equals_the_models(app):
    assert _differences() == []


def test_downgrade_to_base_and_upgrade_again(databases):
    app = make_app(databases.new())
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert _differences() == []
        assert db.session.get(Pais, 1).nombre == "Colombia"
        db.session.remove()
        db.engine.dispose()


def test_reference_data_colombia_and_bogota_are_row_one(app):
    assert (db.session.get(Pais, 1).codigo_iso, db.session.get(Ciudad, 1).nombre) == ("CO", "Bogotá D.C.")
    cities = db.session.scalars(sa.select(Ciudad.nombre).where(Ciudad.id_pais == 1)).all()
    assert {"Medellín", "Cali", "Barranquilla", "Cartagena"} <= set(cities)


def test_new_cities_get_ids_after_the_reference_rows(app):
    city = Ciudad(nombre="Yopal", id_pais=1)
    db.session.add(city)
    db.session.commit()
    assert city.id > 20


def test_cedula_is_unique_per_tenant_only(app, tenants):
    factories.cliente(tenants.admin_a, cedula_cliente="1234567890")
    factories.cliente(tenants.admin_b, cedula_cliente="1234567890")  # another tenant: fine
    with pytest.raises(IntegrityError):
        factories.cliente(tenants.admin_a, cedula_cliente="1234567890")


@pytest.mark.parametrize("field,value", [("estado", 2), ("genero", 5)])
def test_check_constraints_refuse_unknown_codes(app, tenants, field, value):
    with pytest.raises(IntegrityError):
        factories.cliente(tenants.admin_a, **{field: value})


def test_a_client_cannot_point_at_another_tenants_empresa(app, tenants):
    other = factories.empresa(tenants.admin_b)
    with pytest.raises(IntegrityError):
        factories.cliente(tenants.admin_a, id_empresa=other.id)


def test_the_city_must_be_in_the_country(app, tenants):
    quito = db.session.scalar(sa.select(Ciudad).where(Ciudad.nombre == "Quito"))
    with pytest.raises(IntegrityError):
        factories.cliente(tenants.admin_a, id_ciudad=quito.id, id_pais=1)
    db.session.rollback()
    factories.cliente(tenants.admin_a, id_ciudad=quito.id, id_pais=quito.id_pais, telefono=None)


def test_a_vehicle_cannot_belong_to_a_client_of_another_tenant(app, tenants):
    c = factories.cliente(tenants.admin_a)
    db.session.add(Vehiculo(id_cliente=c.id_cliente, placa="XYZ123", id_propietario=tenants.admin_b.id))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_deleting_a_client_with_a_vehicle_is_refused_by_the_database(app, tenants):
    c = factories.cliente(tenants.admin_a)
    factories.vehiculo(c)
    with pytest.raises(IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(sa.delete(Cliente.__table__).where(Cliente.__table__.c.id_cliente == c.id_cliente))


def test_placa_and_client_user_link_are_unique(app, tenants):
    a, b = factories.cliente(tenants.admin_a), factories.cliente(tenants.admin_a)
    factories.vehiculo(a, placa="AAA111")
    with pytest.raises(IntegrityError):
        factories.vehiculo(b, placa="AAA111")
    db.session.rollback()
    a.id_usuario = tenants.cliente_a.id
    db.session.commit()
    b.id_usuario = tenants.cliente_a.id
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_a_vendedor_must_hang_from_an_admin(app):
    with pytest.raises(IntegrityError):
        factories.user("suelto@test.co", "vendedor")


def test_every_filter_column_of_clientes_is_indexed_with_the_tenant(app):
    indexes = {tuple(ix["column_names"]) for ix in sa.inspect(db.engine).get_indexes("cliente")}
    for column in ("estado", "id_empresa", "id_campana", "id_ciudad", "id_pais", "creado"):
        assert ("id_propietario", column) in indexes


def test_migration_0005_fills_telefono_e164_of_existing_clients(databases):
    app = make_app(databases.new())
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))
            conn.execute(
                sa.text(
                    "INSERT INTO usuario (email, password_hash, nombre, rol, activo, creado) "
                    "VALUES ('a@m.co', 'x', 'A', 'admin', true, CURRENT_TIMESTAMP)"
                )
            )
            owner = conn.scalar(sa.text("SELECT id FROM usuario"))
            for cedula, telefono in (("1", "300 123 4567"), ("2", "12"), ("3", None)):
                conn.execute(
                    sa.text(
                        "INSERT INTO cliente (cedula_cliente, nombre_cliente, telefono, id_ciudad, id_pais, "
                        "estado, acepta_sms, creado, actualizado, id_propietario) VALUES (:c, 'X', :t, 1, 1, "
                        "1, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :o)"
                    ),
                    {"c": cedula, "t": telefono, "o": owner},
                )
        upgrade()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))
            got = dict(conn.execute(sa.text("SELECT cedula_cliente, telefono_e164 FROM cliente")).all())
        assert got == {"1": "+573001234567", "2": None, "3": None}
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "telefono,id_pais,expected",
    [
        ("3001234567", 1, "+573001234567"),
        ("+57 300 123 4567", 1, "+573001234567"),
        ("12", 1, None),
        (None, 1, None),
    ],
)
def test_telefono_e164_is_derived_on_every_save(app, tenants, telefono, id_pais, expected):
    c = factories.cliente(tenants.admin_a, telefono=telefono)
    assert c.telefono_e164 == expected
    c.telefono = "3109876543"
    db.session.commit()
    assert c.telefono_e164 == "+573109876543"
    c.nombre_cliente = "Otro"  # not the phone: left as it is
    db.session.commit()
    assert c.telefono_e164 == "+573109876543"


def test_the_search_finds_words_anywhere_and_uses_the_trigram_index_on_postgresql(app, tenants):
    """The search's expression must stay the index's, or every search becomes a scan."""
    from panel.search import search_conditions

    ana = factories.cliente(
        tenants.admin_a, nombre_cliente="Ana", apellido_cliente="Rojas", telefono="3001234567"
    )
    factories.cliente(tenants.admin_a, nombre_cliente="Luis")
    for text in ("ana", "ROJAS", "ana roj", "234567", ana.cedula_cliente[2:]):
        found = db.session.scalars(sa.select(Cliente.id_cliente).where(*search_conditions(text))).all()
        assert found == [ana.id_cliente], text
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(sa.text("SET enable_seqscan = off"))  # a tiny table: make the choice visible
            stmt = sa.select(Cliente.id_cliente).where(*search_conditions("ana"))
            sql = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            plan = "\n".join(conn.execute(sa.text(f"EXPLAIN {sql}")).scalars())
            conn.rollback()
        assert "ix_cliente_busqueda_trgm" in plan, plan


@pytest.mark.parametrize(
    "query",
    ["garcia", "GARCÍA", "garcía", "José", "jose garcia", "MARTÍNEZ", "+57 300 123 4567", "3001234567"],
)
def test_the_search_ignores_case_and_accents_and_finds_a_phone_in_any_form(app, tenants, query):
    """On both engines (SQLite has no accent folding of its own): the folded column decides."""
    from panel.search import search_conditions

    jose = factories.cliente(
        tenants.admin_a,
        nombre_cliente="José",
        apellido_cliente="García Martínez",
        telefono="+573001234567",
    )
    factories.cliente(tenants.admin_a, nombre_cliente="Luis", apellido_cliente="Gómez", telefono="3109998877")
    found = db.session.scalars(sa.select(Cliente.id_cliente).where(*search_conditions(query))).all()
    assert found == [jose.id_cliente], query


def test_busqueda_follows_every_edit_of_the_searched_fields(app, tenants):
    from panel.search import search_conditions

    c = factories.cliente(tenants.admin_a, nombre_cliente="Ana")
    c.apellido_cliente = "Peña"
    db.session.commit()
    found = db.session.scalars(sa.select(Cliente.id_cliente).where(*search_conditions("pena"))).all()
    assert found == [c.id_cliente]
