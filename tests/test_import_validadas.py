"""The run takes the rows its preview validated (panel/importing/validadas.py) — after the last
moment's checks — and validates again only what those checks or the preview put in doubt."""

import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.importing import service
from panel.models import CampanaPublicitaria, Empresa, ImportacionClientes

from . import factories
from .import_support import HEADER, clientes, csv_bytes, row


def previewed(data: bytes, tenant: int, **opciones) -> ImportacionClientes:
    job = service.create(data, "clientes.csv", tenant, tenant, **opciones)
    service.preview(job)
    return job


def run(job: ImportacionClientes):
    job.estado = "pendiente"
    db.session.commit()
    resumen = service.run(job.id)
    db.session.expire_all()
    return resumen


def errores(job_id: int) -> list[str]:
    with tenancy.using(tenancy.EVERY_TENANT):
        return (db.session.get(ImportacionClientes, job_id).rechazos or b"").decode().splitlines()[1:]


def test_the_run_validates_only_the_rows_the_preview_refused(app, tenants, both_paths):
    data = csv_bytes([row(1), row(2, Correo="sin-arroba"), row(3), row(4)])
    job = previewed(data, tenants.admin_a.id)
    assert both_paths[0] == 4 and job.validadas  # every row in the preview; the valid ones kept
    resumen = run(job)
    assert (resumen.nuevos, resumen.con_errores) == (3, 1)
    assert both_paths[0] == 5  # the run: only row 3 (file row) again
    stored = clientes(tenants.admin_a.id)
    assert sorted(stored) == ["1020000001", "1020000003", "1020000004"]
    ana = stored["1020000001"]
    assert (ana.email, ana.telefono_e164, ana.fecha_nacimiento.isoformat()) == (
        "ana1@example.com",
        "+573000000001",
        "1990-03-15",
    )
    assert ana.busqueda and ana.id_ciudad  # the derived columns as the preview computed them


def test_a_document_taken_since_the_preview_is_refused_by_the_forms_rule(app, tenants, both_paths):
    job = previewed(csv_bytes([row(1), row(2)]), tenants.admin_a.id)
    with tenancy.using(tenants.admin_a.id):
        factories.cliente(tenants.admin_a, cedula_cliente="1020000002")  # another user, meanwhile
    resumen = run(job)
    assert (resumen.nuevos, resumen.con_errores) == (1, 1)
    assert both_paths[0] == 3  # the taken row went through the form again
    assert "Ya existe un cliente con esta cédula." in errores(job.id)[0]


def test_a_row_refused_in_the_preview_that_is_valid_now_imports(app, tenants, both_paths):
    with tenancy.using(tenants.admin_a.id):
        taken = factories.cliente(tenants.admin_a, cedula_cliente="1020000002")
    job = previewed(csv_bytes([row(1), row(2)]), tenants.admin_a.id)
    assert job.con_errores == 1
    with tenancy.using(tenants.admin_a.id):
        db.session.delete(db.session.get(type(taken), taken.id_cliente))
        db.session.commit()
    resumen = run(job)
    assert (resumen.nuevos, resumen.con_errores) == (2, 0)


def test_a_campana_deleted_since_the_preview_refuses_its_rows(app, tenants, both_paths):
    with tenancy.using(tenants.admin_a.id):
        factories.campana(tenants.admin_a, "Navidad")
    header = HEADER + ["Campaña"]
    job = previewed(csv_bytes([row(1) + ["Navidad"], row(2) + [""]], header=header), tenants.admin_a.id)
    assert job.con_errores == 0
    with tenancy.using(tenants.admin_a.id):
        db.session.execute(sa.delete(CampanaPublicitaria))
        db.session.commit()
    resumen = run(job)
    assert (resumen.nuevos, resumen.con_errores) == (1, 1)
    assert "No existe la campaña «Navidad»." in errores(job.id)[0]


def test_an_empresa_created_since_the_preview_is_linked_not_created_twice(app, tenants, both_paths):
    header = HEADER + ["Empresa"]
    job = previewed(csv_bytes([row(1) + ["Acme"], row(2) + ["Acme"]], header=header), tenants.admin_a.id)
    assert [e["nombre"] for e in job.vista_previa["empresas_nuevas"]] == ["Acme"]
    with tenancy.using(tenants.admin_a.id):
        acme = factories.empresa(tenants.admin_a, "Acme").id
    resumen = run(job)
    assert (resumen.nuevos, resumen.con_errores) == (2, 0)
    assert both_paths[0] == 4  # both rows validated again: the empresa they named exists now
    with tenancy.using(tenants.admin_a.id):
        assert db.session.scalars(sa.select(Empresa.id)).all() == [acme]
    assert {c.id_empresa for c in clientes(tenants.admin_a.id).values()} == {acme}


def test_an_empresa_still_new_is_created_once_from_the_kept_rows(app, tenants, both_paths):
    header = HEADER + ["Empresa"]
    job = previewed(csv_bytes([row(1) + ["Acme"], row(2) + ["ACME"]], header=header), tenants.admin_a.id)
    resumen = run(job)
    assert (resumen.nuevos, both_paths[0]) == (2, 2)  # nothing validated again
    with tenancy.using(tenants.admin_a.id):
        (acme,) = db.session.scalars(sa.select(Empresa)).all()
    assert acme.nombre == "Acme"
    assert {c.id_empresa for c in clientes(tenants.admin_a.id).values()} == {acme.id}


def test_rows_kept_under_other_choices_are_validated_again(app, tenants, both_paths):
    job = previewed(csv_bytes([row(1), row(2)]), tenants.admin_a.id)
    job.crear_empresas = False  # not how the page does it (a new mapping is a new preview): a guard
    db.session.commit()
    resumen = run(job)
    assert (resumen.nuevos, both_paths[0]) == (2, 4)


def test_an_update_keeps_nothing_and_validates_again(app, tenants, both_paths):
    with tenancy.using(tenants.admin_a.id):
        factories.cliente(tenants.admin_a, cedula_cliente="1020000001", nombre_cliente="Antes")
    job = previewed(csv_bytes([row(1), row(2)]), tenants.admin_a.id, actualizar=True)
    assert job.validadas is None
    resumen = run(job)
    assert (resumen.nuevos, resumen.actualizados, both_paths[0]) == (1, 1, 4)
    assert clientes(tenants.admin_a.id)["1020000001"].nombre_cliente == "Ana1"


def test_a_file_refused_whole_uses_the_kept_rows_too(app, tenants, both_paths):
    job = previewed(csv_bytes([row(1), row(2, Nombres="")]), tenants.admin_a.id, todo_o_nada=True)
    resumen = run(job)
    assert (resumen.nuevos, resumen.con_errores) == (0, 1)
    assert both_paths[0] == 3  # the preview's two, and the refused row once in the run's check
    assert clientes(tenants.admin_a.id) == {}
