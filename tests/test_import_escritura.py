"""The import's write on PostgreSQL (issue #27): a chunk goes to the server as a few statements
whatever its size, its arrays in binary, the consent evidence with it — and, as a role bound by
row-level security, every value arrives as the file had it, in the importing tenant only.

The tests on ``two_tenants`` always run against the local PostgreSQL (in the SQLite pass too):
the write has its own path there. A run's chunks do not read the job again, on either engine."""

from datetime import date

import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.models import Cliente, ConsentimientoSMS

from .import_support import HEADER, clientes, csv_bytes, imported, row

# What an array's text form would have to quote or escape: quotes, a backslash, the
# separators and braces, the word NULL, blanks and accents.
AWKWARD = ['O\'Neil "Ñoño"', "a\\b,{c}", "NULL", "  Ángela  María", "}{,\"'\\"]


def test_as_a_role_bound_by_rls_every_value_arrives_as_the_file_had_it(two_tenants):
    admin_a, admin_b = two_tenants
    rows = [row(i + 1, Nombres=name[:20], Apellidos=name[::-1][:20]) for i, name in enumerate(AWKWARD)]
    rows.append(row(9, Apellidos="", Correo="", Celular="", **{"Fecha de nacimiento": ""}))
    _, vista, resumen = imported(csv_bytes(rows), admin_a.id)
    assert (vista["con_errores"], resumen.nuevos) == (0, len(rows))

    found = clientes(admin_a.id)
    for i, name in enumerate(AWKWARD, start=1):
        c = found[str(1020000000 + i)]
        assert (c.nombre_cliente, c.apellido_cliente) == (name.strip()[:20], name[::-1].strip()[:20])
        assert (c.fecha_nacimiento, c.genero, c.telefono_e164) == (date(1990, 3, 15), 0, f"+57300{i:07d}")
    blank = found["1020000009"]
    assert (blank.apellido_cliente, blank.email, blank.telefono, blank.fecha_nacimiento) == (None,) * 4
    assert len(clientes(admin_b.id)) == 3  # B's own three, nothing of the file


def test_each_new_client_has_its_evidence_in_the_tenant_with_who_and_when(two_tenants):
    admin_a, _ = two_tenants
    header = HEADER + ["Acepta SMS"]
    rows = [row(1) + ["Sí"], row(2) + ["No"], row(3) + [""]]
    job, _, _ = imported(csv_bytes(rows, header=header), admin_a.id)
    with tenancy.using(admin_a.id):
        evidence = db.session.execute(
            sa.select(Cliente.cedula_cliente, ConsentimientoSMS)
            .join(Cliente, Cliente.id_cliente == ConsentimientoSMS.id_cliente)
            .where(ConsentimientoSMS.fuente == "importación")
            .order_by(Cliente.cedula_cliente)
        ).all()
    assert [(cedula, e.acepta, e.id_usuario, e.id_propietario) for cedula, e in evidence] == [
        ("1020000001", True, admin_a.id, admin_a.id),
        ("1020000002", False, admin_a.id, admin_a.id),
        ("1020000003", True, admin_a.id, admin_a.id),
    ]
    assert all(job.creado <= e.fecha <= job.terminado for _, e in evidence)


def _server_statements_of_a_run(tenant_id: int, n: int, first: int) -> int:
    """Statements the server runs for an import of ``n`` rows (an executemany is one per row)."""
    from panel.importing import service

    data = csv_bytes([row(i) for i in range(first, first + n)])
    job = service.create(data, f"{n}.csv", tenant_id, tenant_id)
    service.preview(job)
    job.estado = "pendiente"
    db.session.commit()
    count = [0]

    def _count(conn, cursor, statement, parameters, context, executemany):
        count[0] += len(parameters) if executemany else 1

    sa.event.listen(db.engine, "before_cursor_execute", _count)
    try:
        resumen = service.run(job.id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _count)
    assert resumen.nuevos == n
    return count[0]


def test_a_chunk_is_as_many_statements_on_the_server_for_400_rows_as_for_10(two_tenants):
    admin_a, _ = two_tenants
    few = _server_statements_of_a_run(admin_a.id, 10, first=1)
    many = _server_statements_of_a_run(admin_a.id, 400, first=100)
    assert many == few


def _reads_of_the_job_in_a_run(tenant_id: int, n: int, first: int) -> int:
    from panel.importing import service

    job = service.create(csv_bytes([row(i) for i in range(first, first + n)]), "x.csv", tenant_id, tenant_id)
    service.preview(job)
    job.estado = "pendiente"
    db.session.commit()
    reads = [0]

    def _count(conn, cursor, statement, parameters, context, executemany):
        reads[0] += statement.startswith("SELECT") and "FROM importacion_clientes" in statement

    sa.event.listen(db.engine, "before_cursor_execute", _count)
    try:
        assert service.run(job.id).nuevos == n
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _count)
    return reads[0]


def test_a_run_reads_its_job_as_often_for_three_chunks_as_for_one(app, tenants):
    one = _reads_of_the_job_in_a_run(tenants.admin_a.id, 10, first=1)
    three = _reads_of_the_job_in_a_run(tenants.admin_a.id, 2_100, first=100)
    assert three == one
