"""The tenancy core: one hook scopes every ORM statement of every tenant-owned model."""

import secrets

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.models import (
    CampanaPublicitaria,
    CampanaSMS,
    Cliente,
    ConfiguracionEnvio,
    ConsentimientoSMS,
    Empresa,
    EnlaceSMS,
    Historial,
    ImportacionClientes,
    MovimientoCapital,
    NumeroExcluidoPropio,
    PlantillaSMS,
    SMSLog,
    TenantScoped,
    Usuario,
    Vehiculo,
    Venta,
)

from . import factories


def _one_of_each(owner, vendedor):
    """A row of every tenant-owned model for one tenant."""
    c = factories.cliente(owner)
    factories.empresa(owner)
    factories.campana(owner)
    factories.vehiculo(c)
    factories.movimiento(c)
    factories.venta(c, vendedor)
    p = factories.plantilla(owner)
    campana = CampanaSMS(
        nombre="c", mensaje="m", id_plantilla=p.id, id_usuario=owner.id, id_propietario=owner.id
    )
    db.session.add(campana)
    db.session.flush()
    db.session.add(
        SMSLog(id_campana=campana.id, id_cliente=c.id_cliente, mensaje="m", id_propietario=owner.id)
    )
    codigo = secrets.token_hex(4)
    db.session.add(
        EnlaceSMS(
            id_campana=campana.id,
            id_cliente=c.id_cliente,
            codigo=codigo,
            url="https://a.co",
            id_propietario=owner.id,
        )
    )
    db.session.add(Historial(id_usuario=owner.id, id_propietario=owner.id, accion="crear", modelo="Cliente"))
    db.session.add(ConfiguracionEnvio(id_propietario=owner.id))
    db.session.add(NumeroExcluidoPropio(numero="+573009990000", id_propietario=owner.id))
    db.session.add(ImportacionClientes(archivo=b"Cedula\n", id_propietario=owner.id))
    db.session.commit()  # the client's ConsentimientoSMS row is written with it (panel/consent.py)


TENANT_MODELS = [
    Cliente,
    Empresa,
    CampanaPublicitaria,
    Vehiculo,
    MovimientoCapital,
    Venta,
    PlantillaSMS,
    CampanaSMS,
    SMSLog,
    EnlaceSMS,
    Historial,
    ConfiguracionEnvio,
    NumeroExcluidoPropio,
    ConsentimientoSMS,
    ImportacionClientes,
]


def test_every_tenant_scoped_model_is_covered_here():
    mapped = {m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped)}
    assert mapped == set(TENANT_MODELS)


@pytest.fixture
def data(app, tenants):
    _one_of_each(tenants.admin_a, tenants.vendedor_a)
    _one_of_each(tenants.admin_b, tenants.vendedor_b)
    db.session.expunge_all()  # nothing cached: every read below goes to the database
    return tenants


def _owners(model, scope):
    with tenancy.using(scope):
        db.session.expunge_all()
        return {row.id_propietario for row in db.session.scalars(sa.select(model))}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_admin_sees_only_its_tenants_rows(data, model):
    assert _owners(model, data.admin_a) == {data.admin_a.id}
    assert _owners(model, data.admin_b) == {data.admin_b.id}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_vendedor_sees_its_admins_rows(data, model):
    assert _owners(model, data.vendedor_a) == {data.admin_a.id}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_superadmin_sees_every_tenant(data, model):
    assert _owners(model, data.superadmin) == {data.admin_a.id, data.admin_b.id}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_no_user_and_client_accounts_see_nothing(data, model):
    assert _owners(model, tenancy.NO_TENANT) == set()
    assert _owners(model, data.cliente_a) == set()


def test_get_by_id_of_another_tenants_row_finds_nothing(data):
    other = db.session.scalar(sa.select(Cliente.id_cliente).where(Cliente.id_propietario == data.admin_b.id))
    db.session.expunge_all()
    with tenancy.using(data.admin_a):
        assert db.session.get(Cliente, other) is None


def test_relationship_loads_and_joins_are_scoped(data):
    with tenancy.using(data.admin_a):
        db.session.expunge_all()
        rows = db.session.execute(sa.select(Vehiculo, Cliente).join(Cliente, Vehiculo.cliente)).all()
        assert {c.id_propietario for _, c in rows} == {data.admin_a.id}
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Cliente))
        assert count == 1


def test_bulk_update_and_delete_touch_only_the_tenants_rows(data):
    with tenancy.using(data.admin_a):
        db.session.execute(sa.update(Cliente).values(estado=0))
        db.session.execute(sa.delete(Historial))
        db.session.commit()
    states = dict(db.session.execute(sa.select(Cliente.id_propietario, Cliente.estado)).all())
    assert states == {data.admin_a.id: 0, data.admin_b.id: 1}
    assert {h.id_propietario for h in db.session.scalars(sa.select(Historial))} == {data.admin_b.id}


def test_users_see_their_tenants_accounts_only(data):
    with tenancy.using(data.admin_a):
        db.session.expunge_all()
        emails = set(db.session.scalars(sa.select(Usuario.email)))
    assert emails == {"admin.a@test.co", "vendedor.a@test.co", "cliente.a@test.co"}


def test_new_rows_are_stamped_with_the_writers_tenant(app, tenants):
    with tenancy.using(tenants.vendedor_a):
        e = Empresa(nombre="Sin propietario explícito")
        db.session.add(e)
        db.session.commit()
        assert e.id_propietario == tenants.admin_a.id


def test_child_rows_take_the_tenant_of_their_client(app, tenants):
    c = factories.cliente(tenants.admin_b)
    v = Vehiculo(cliente=c, placa="HIJ987")
    db.session.add(v)
    db.session.commit()
    assert v.id_propietario == tenants.admin_b.id


@pytest.mark.parametrize("writer", ["admin_a", "vendedor_a"])
def test_writing_a_row_into_another_tenant_is_refused(app, tenants, writer):
    with tenancy.using(getattr(tenants, writer)):
        db.session.add(Empresa(nombre="Intrusa", id_propietario=tenants.admin_b.id))
        with pytest.raises(tenancy.TenancyError):
            db.session.commit()
        db.session.rollback()


def test_moving_a_row_to_another_tenant_is_refused(app, tenants):
    e = factories.empresa(tenants.admin_a)
    with tenancy.using(tenants.admin_a):
        row = db.session.get(Empresa, e.id)
        row.id_propietario = tenants.admin_b.id
        with pytest.raises(tenancy.TenancyError):
            db.session.commit()
        db.session.rollback()


def test_a_superadmin_must_name_the_owner_of_a_new_row(app, tenants):
    with tenancy.using(tenants.superadmin):
        db.session.add(Empresa(nombre="¿De quién?"))
        with pytest.raises(tenancy.TenancyError, match="falta el propietario"):
            db.session.commit()
        db.session.rollback()


def test_using_a_tenant_id_scopes_reads_and_stamps_writes_for_that_tenant(data):
    with tenancy.using(data.superadmin), tenancy.using(data.admin_b.id) as scope:
        assert scope.tenant_id == data.admin_b.id and scope.user_id == data.superadmin.id
        assert set(db.session.scalars(sa.select(Cliente.id_propietario))) == {data.admin_b.id}
        empresa = Empresa(nombre="De B")
        db.session.add(empresa)
        db.session.commit()
    assert empresa.id_propietario == data.admin_b.id


def test_an_anonymous_web_request_sees_no_tenant_data(data, app):
    with app.test_request_context("/"):
        app.preprocess_request()
        assert tenancy.current_scope() == tenancy.NO_TENANT
        assert db.session.scalars(sa.select(Cliente)).all() == []


def test_a_scopes_criteria_are_made_once_and_each_scope_keeps_its_own(data):
    """The options are kept per scope (a page's statements no longer make them again each):
    the same scope gets the same options, and a kept option still scopes to its own tenant
    when another tenant's are in use in between."""
    a = tenancy.scope_for(data.admin_a)
    b = tenancy.scope_for(data.admin_b)
    assert len(tenancy.loader_criteria(a)) == len(TENANT_MODELS) + 1  # + Usuario's
    assert tenancy.loader_criteria(a) is tenancy.loader_criteria(tenancy.scope_for(data.admin_a))
    assert tenancy.loader_criteria(a) is not tenancy.loader_criteria(b)
    for _ in range(2):  # each scope's kept options, used in turn
        assert _owners(Cliente, a) == {data.admin_a.id}
        assert _owners(Cliente, b) == {data.admin_b.id}
        assert _owners(Cliente, tenancy.scope_for(data.vendedor_a)) == {data.admin_a.id}
