"""Importing clients: each row through ClienteForm, its errors, the modes, the tenant, what the
ORM would have written (search text, E.164, consent, Historial), and the panel's own exports."""

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.importing.rows import CHUNK
from panel.models import Cliente, ConsentimientoSMS, Historial, NumeroExcluidoPropio
from panel.models.clients import search_document
from panel.search import search_conditions

from . import factories
from .helpers import login
from .import_support import HEADER, clientes, csv_bytes, errors_of, imported, preview_of, row

pytestmark = pytest.mark.usefixtures("both_paths")  # ClienteForm's rules two ways, compared per row

GOOD = row(1)


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("Cédula", "abc", "La cédula solo puede tener dígitos."),
        ("Cédula", "12345678901", "La cédula tiene como máximo 10 dígitos."),
        ("Cédula", "", "Este campo es obligatorio."),
        ("Nombres", "", "Este campo es obligatorio."),
        ("Nombres", "N" * 21, "Máximo 20 caracteres."),
        ("Apellidos", "A" * 21, "Máximo 20 caracteres."),
        ("Correo", "no-es-un-correo", "Correo electrónico no válido."),
        ("Celular", "12", "Teléfono no válido para Colombia."),
        ("Celular", "300-abc", "El teléfono solo puede tener dígitos (y un + inicial)."),
        ("Fecha de nacimiento", "31/02/1990", "Fecha no válida: escriba dd/mm/aaaa o aaaa-mm-dd."),
        ("Fecha de nacimiento", "ayer", "Fecha no válida: escriba dd/mm/aaaa o aaaa-mm-dd."),
        ("Fecha de nacimiento", "01/01/2999", "La fecha de nacimiento debe estar en el pasado."),
        ("Ciudad", "Atlantis", "No existe el municipio «Atlantis»."),
    ],
)
def test_each_error_kind_names_its_row_column_and_message(app, tenants, column, value, message):
    data = csv_bytes([GOOD, row(2, **{column: value})])
    vista = preview_of(data, tenants.admin_a.id)
    assert (vista["nuevos"], vista["con_errores"]) == (1, 1)
    assert errors_of(vista) == [(3, column, message)]


@pytest.mark.parametrize(
    "header, value, message",
    [
        ("País", "Narnia", "No existe el país «Narnia»."),
        ("Estado", "quizá", "No es una opción válida."),
        ("Acepta SMS", "tal vez", "Escriba Sí o No."),
        (
            "Empresa",
            "No Existe S.A.",
            "No existe la empresa «No Existe S.A.» (marque «Crear las empresas que no existan»).",
        ),
        ("Campaña", "Navidad", "No existe la campaña «Navidad»."),
    ],
)
def test_errors_of_the_optional_columns(app, tenants, header, value, message):
    data = csv_bytes([GOOD + [""], row(2) + [value]], header=HEADER + [header])
    vista = preview_of(data, tenants.admin_a.id, crear_empresas=False)
    assert errors_of(vista) == [(3, header, message)]


def test_a_city_of_another_country_is_the_forms_own_error(app, tenants):
    data = csv_bytes([row(1) + ["Colombia"], row(2) + ["Ecuador"]], header=HEADER + ["País"])
    assert errors_of(preview_of(data, tenants.admin_a.id)) == [
        (3, "Celular", "Teléfono no válido para Ecuador."),  # the phone is read for the row's country too
        (3, "Ciudad", "La ciudad no pertenece al país elegido."),
    ]


def test_labels_letters_and_codes_alike(app, tenants):
    header = HEADER + ["Estado", "Acepta SMS"]
    data = csv_bytes(
        [
            row(1, Sexo="Masculino") + ["Inactivo", "No"],
            row(2, Sexo="1") + ["3", "sí"],
            row(3, Sexo="m") + ["activo", "1"],
        ],
        header=header,
    )
    _, vista, _ = imported(data, tenants.admin_a.id)
    assert vista["errores"] == []
    found = clientes(tenants.admin_a.id)
    assert [(c.genero, c.estado, c.acepta_sms) for c in found.values()] == [
        (1, 0, False),
        (1, 3, True),
        (1, 1, True),
    ]


def test_the_preview_shows_rows_as_they_will_be_saved_and_writes_nothing(app, tenants):
    vista = preview_of(csv_bytes([row(1), row(2, Celular="abc")]), tenants.admin_a.id)
    assert vista["muestra"] == [
        {
            "fila": 2,
            "accion": "Nuevo",
            "Tipo de documento": "CC",
            "Cédula": "1020000001",
            "Nombres": "Ana1",
            "Apellidos": "Pérez",
            "Teléfono": "3000000001",
            "Correo electrónico": "ana1@example.com",
            "Fecha de nacimiento": "15/03/1990",
            "Género": "Femenino",
            "Ciudad": "Medellín",
            "País": "Colombia",
            "Empresa": "",
            "Campaña": "",
            "Estado": "Activo",
            "Acepta SMS": "Sí",
        }
    ]
    assert (vista["total"], vista["nuevos"], vista["actualizados"], vista["con_errores"]) == (2, 1, 0, 1)
    assert clientes(tenants.admin_a.id) == {}


def test_duplicate_cedulas_inside_the_file_are_reported_on_the_later_rows(app, tenants):
    data = csv_bytes([row(1), row(2), row(3, Cédula="1020000001"), row(4, Cédula="1.020.000.002")])
    _, vista, resumen = imported(data, tenants.admin_a.id)
    assert errors_of(vista) == [
        (4, "Cédula", "Cédula repetida en el archivo (fila 2)."),
        (5, "Cédula", "Cédula repetida en el archivo (fila 3)."),
    ]
    assert (resumen.nuevos, resumen.con_errores) == (2, 2)
    assert clientes(tenants.admin_a.id)["1020000001"].nombre_cliente == "Ana1"


def test_create_only_refuses_an_existing_cedula_of_the_tenant(app, tenants):
    factories.cliente(tenants.admin_a, cedula_cliente="1020000001", nombre_cliente="Viejo")
    _, vista, resumen = imported(csv_bytes([row(1), row(2)]), tenants.admin_a.id)
    assert errors_of(vista) == [(2, "Cédula", "Ya existe un cliente con esta cédula.")]
    assert (resumen.nuevos, resumen.actualizados, resumen.con_errores) == (1, 0, 1)
    assert clientes(tenants.admin_a.id)["1020000001"].nombre_cliente == "Viejo"


def test_update_mode_updates_by_cedula_and_a_blank_cell_keeps_the_stored_value(app, tenants):
    old = factories.cliente(
        tenants.admin_a,
        cedula_cliente="1020000001",
        nombre_cliente="Viejo",
        apellido_cliente="Conservado",
        email="viejo@example.com",
        fecha_nacimiento=date(1980, 1, 2),
        telefono="3001112233",
    )
    data = csv_bytes([row(1, Apellidos="", Correo="", **{"Fecha de nacimiento": ""}), row(2)])
    job, vista, resumen = imported(data, tenants.admin_a.id, actualizar=True)
    assert (vista["nuevos"], vista["actualizados"], vista["con_errores"]) == (1, 1, 0)
    assert vista["muestra"][0]["accion"] == "Actualiza"
    assert (resumen.nuevos, resumen.actualizados) == (1, 1)
    c = clientes(tenants.admin_a.id)["1020000001"]
    assert c.id_cliente == old.id_cliente
    assert (c.nombre_cliente, c.apellido_cliente, c.email) == ("Ana1", "Conservado", "viejo@example.com")
    assert c.fecha_nacimiento == date(1980, 1, 2)
    assert (c.telefono, c.telefono_e164, c.ciudad.nombre) == ("3000000001", "+573000000001", "Medellín")
    assert c.busqueda == search_document(c)


def test_refuse_the_file_writes_nothing_when_a_row_has_errors(app, tenants):
    job, _, resumen = imported(csv_bytes([row(1), row(2, Cédula="x")]), tenants.admin_a.id, todo_o_nada=True)
    assert job.estado == "rechazado" and "no se importó ninguna" in job.mensaje
    assert (resumen.nuevos, resumen.con_errores) == (0, 1)
    assert clientes(tenants.admin_a.id) == {}
    job, _, resumen = imported(csv_bytes([row(1), row(2)]), tenants.admin_a.id, todo_o_nada=True)
    assert (job.estado, resumen.nuevos) == ("completado", 2)


def test_another_tenants_empresa_and_campana_names_do_not_exist(app, tenants):
    factories.empresa(tenants.admin_a, "Acme A")
    factories.campana(tenants.admin_a, "Verano A")
    factories.empresa(tenants.admin_b, "Acme B")
    factories.campana(tenants.admin_b, "Verano B")
    header = HEADER + ["Empresa", "Campaña"]
    data = csv_bytes([row(1) + ["acme a", "VERANO A"], row(2) + ["Acme B", "Verano B"]], header=header)
    _, vista, _ = imported(data, tenants.admin_a.id, crear_empresas=False)
    assert errors_of(vista) == [
        (3, "Empresa", "No existe la empresa «Acme B» (marque «Crear las empresas que no existan»)."),
        (3, "Campaña", "No existe la campaña «Verano B»."),
    ]
    c = clientes(tenants.admin_a.id)["1020000001"]
    assert (c.empresa.nombre, c.campana.nombre) == ("Acme A", "Verano A")


def test_rows_belong_to_the_tenant_imported_into_and_cedulas_are_per_tenant(app, tenants):
    factories.cliente(tenants.admin_b, cedula_cliente="1020000001")
    _, vista, _ = imported(csv_bytes([row(1)]), tenants.admin_a.id)
    assert (vista["nuevos"], vista["con_errores"]) == (1, 0)  # B's cédula is not A's
    assert {c.id_propietario for c in clientes(tenants.admin_a.id).values()} == {tenants.admin_a.id}
    assert list(clientes(tenants.admin_b.id)) == ["1020000001"]  # B's own client, untouched


def test_search_text_and_e164_are_what_the_orm_writes(app, tenants):
    imported(
        csv_bytes([row(1, Nombres="José", Apellidos="MARTÍNEZ", Celular="+57 300 123 4567")]),
        tenants.admin_a.id,
    )
    by_orm = factories.cliente(
        tenants.admin_a,
        cedula_cliente="999",
        nombre_cliente="José",
        apellido_cliente="MARTÍNEZ",
        telefono="+573001234567",
        email="ana1@example.com",
    )
    c = clientes(tenants.admin_a.id)["1020000001"]
    assert c.telefono_e164 == by_orm.telefono_e164 == "+573001234567"
    assert c.busqueda == search_document(c) == by_orm.busqueda.replace("999", "1020000001")
    with tenancy.using(tenants.admin_a.id):
        for query in ("martinez jose", "3001234567", "+57 300 123 4567"):
            found = db.session.scalars(
                sa.select(Cliente.cedula_cliente).where(*search_conditions(query))
            ).all()
            assert "1020000001" in found, query


def test_consent_evidence_says_importacion_and_a_no_puts_the_number_on_the_tenants_list(app, tenants):
    header = HEADER + ["Acepta SMS"]
    imported(csv_bytes([row(1) + ["Sí"], row(2) + ["No"], row(3) + [""]], header=header), tenants.admin_a.id)
    found = clientes(tenants.admin_a.id)
    with tenancy.using(tenants.admin_a.id):
        evidence = db.session.scalars(
            sa.select(ConsentimientoSMS).order_by(ConsentimientoSMS.id_cliente)
        ).all()
        excluded = db.session.scalars(sa.select(NumeroExcluidoPropio.numero)).all()
    assert [(e.acepta, e.fuente, e.id_usuario) for e in evidence] == [
        (True, "importación", tenants.admin_a.id),
        (False, "importación", tenants.admin_a.id),
        (True, "importación", tenants.admin_a.id),
    ]
    assert [e.id_cliente for e in evidence] == [
        found[c].id_cliente for c in ("1020000001", "1020000002", "1020000003")
    ]
    assert excluded == ["+573000000002"]


def test_update_mode_records_consent_only_when_it_changes(app, tenants):
    factories.cliente(tenants.admin_a, cedula_cliente="1020000001", telefono="3000000001")
    factories.cliente(tenants.admin_a, cedula_cliente="1020000002", telefono="3000000002")
    header = HEADER + ["Acepta SMS"]
    imported(
        csv_bytes([row(1) + ["No"], row(2) + ["Sí"]], header=header), tenants.admin_a.id, actualizar=True
    )
    with tenancy.using(tenants.admin_a.id):
        fuentes = db.session.execute(sa.select(ConsentimientoSMS.fuente, ConsentimientoSMS.acepta)).all()
    # The two clients were created outside a request ("sistema"); only the changed consent is new.
    assert sorted(fuentes) == [("importación", False), ("sistema", True), ("sistema", True)]


def test_one_historial_entry_for_the_whole_import(app, tenants):
    job, _, _ = imported(
        csv_bytes([row(1), row(2), row(3, Cédula="x")]), tenants.admin_a.id, "mis clientes.csv"
    )
    with tenancy.using(tenants.admin_a.id):
        entries = db.session.scalars(sa.select(Historial)).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.accion, entry.modelo, entry.filas, entry.id_usuario) == (
        "accion",
        "Cliente",
        2,
        tenants.admin_a.id,
    )
    assert (
        entry.resumen == "Importación de clientes «mis clientes.csv»: nuevos 2, actualizados 0, con errores 1"
    )
    assert entry.detalle["archivo"] == "mis clientes.csv" and entry.detalle["importacion"] == job.id


def test_the_rejected_rows_csv_has_the_files_columns_and_an_error_column(app, tenants):
    job, _, _ = imported(csv_bytes([row(1), row(2, Cédula="x")], delimiter=";"), tenants.admin_a.id)
    db.session.refresh(job)
    text = job.rechazos.decode("utf-8-sig").splitlines()
    assert text[0] == ";".join(HEADER + ["fila", "error"])
    assert text[1].startswith("x;Ana2;") and text[1].endswith(
        ";3;Cédula: La cédula solo puede tener dígitos."
    )


# --- the round trip from the panel's own exports --------------------------------------------------


@pytest.mark.parametrize("formato", ["csv", "csv-excel", "xlsx"])
def test_a_file_exported_by_the_panel_imports_back_without_errors(app, client, tenants, formato):
    empresa = factories.empresa(tenants.admin_a, "Acme")
    for n in range(5):
        factories.cliente(
            tenants.admin_a,
            nombre_cliente=f"Ñandú{n}",
            apellido_cliente="Gómez",
            id_empresa=empresa.id,
            fecha_nacimiento=date(1990, 1, n + 1),
            genero=n % 2,
            estado=(0, 1, 3)[n % 3],
            acepta_sms=n % 2 == 0,
        )
    factories.cliente(tenants.admin_a, telefono="+573005551234", email=None, apellido_cliente=None)
    login(client, tenants.admin_a.email)
    exported = client.get(f"/admin/clientes/exportar/{formato}/")
    assert exported.status_code == 200
    before = {
        c: (x.estado, x.acepta_sms, x.id_empresa, x.fecha_nacimiento, x.telefono_e164)
        for c, x in clientes(tenants.admin_a.id).items()
    }
    nombre = "clientes.xlsx" if formato == "xlsx" else "clientes.csv"
    _, vista, resumen = imported(exported.data, tenants.admin_a.id, nombre, actualizar=True)
    assert vista["errores"] == [] and "problemas" not in vista
    assert (resumen.nuevos, resumen.actualizados, resumen.con_errores) == (0, 6, 0)
    after = {
        c: (x.estado, x.acepta_sms, x.id_empresa, x.fecha_nacimiento, x.telefono_e164)
        for c, x in clientes(tenants.admin_a.id).items()
    }
    assert after == before
    # Into another tenant with its own "Acme": every row is new, nothing refused.
    factories.empresa(tenants.admin_b, "Acme")
    _, vista, resumen = imported(exported.data, tenants.admin_b.id, nombre)
    assert (resumen.nuevos, resumen.con_errores) == (6, 0)


def test_an_excel_csv_with_semicolons_bom_and_bogota_time_headers_imports(app, tenants):
    header = [
        "ID",
        "Cédula",
        "Nombres",
        "Apellidos",
        "Teléfono",
        "Correo electrónico",
        "Estado",
        "Acepta SMS",
        "Acepta SMS desde (hora de Bogotá)",
        "Fecha de nacimiento",
        "Creado (hora de Bogotá)",
    ]
    cells = [
        [
            "7",
            "1020000001",
            "Ana",
            "Pérez",
            "'+57 300 123 4567",
            "",
            "Deshabilitado",
            "No",
            "2026-12-01 10:00:00-05:00",
            "1990-03-15",
            "2026-12-01 10:00:00-05:00",
        ]
    ]
    _, vista, resumen = imported(csv_bytes(cells, header=header, delimiter=";", bom=True), tenants.admin_a.id)
    assert (vista["errores"], resumen.nuevos) == ([], 1)
    c = clientes(tenants.admin_a.id)["1020000001"]
    assert (c.estado, c.acepta_sms, c.telefono, c.telefono_e164) == (
        3,
        False,
        "+573001234567",
        "+573001234567",
    )


def _statements_of_a_preview(tenant_id: int, n: int) -> int:
    from panel.importing import service

    job = service.create(csv_bytes([row(i) for i in range(1, n + 1)]), "x.csv", tenant_id, tenant_id)
    count = [0]

    def _count(*_):
        count[0] += 1

    sa.event.listen(db.engine, "before_cursor_execute", _count)
    try:
        service.preview(job)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _count)
    return count[0]


def test_choice_lists_and_cedulas_are_loaded_once_per_import_not_per_row(app, tenants):
    factories.empresa(tenants.admin_a, "Acme")
    few, many = (
        _statements_of_a_preview(tenants.admin_a.id, 10),
        _statements_of_a_preview(tenants.admin_a.id, 400),
    )
    assert many == few  # the same handful of queries for 10 rows as for 400


def test_a_confirmed_import_is_claimed_once(app, tenants):
    from panel.importing import service

    job, _, first = imported(csv_bytes([row(1), row(2)]), tenants.admin_a.id)
    again = service.run(job.id)  # a second worker handed the same job
    assert (first.nuevos, again.nuevos, again.total) == (2, 0, 0)
    assert len(clientes(tenants.admin_a.id)) == 2


def test_a_document_repeated_in_a_later_chunk_is_refused_in_the_run_as_the_preview_said(app, tenants):
    """The run writes chunk after chunk; a row of a later chunk repeating a row already written
    is the file's repetition (the preview's words), not "ya existe", and nothing is written twice."""
    filas = [row(n) for n in range(1, CHUNK + 2)] + [row(CHUNK + 2, Cédula="1020000001")]
    job, vista, resumen = imported(csv_bytes(filas), tenants.admin_a.id)
    repetida = (CHUNK + 3, "Cédula", "Cédula repetida en el archivo (fila 2).")
    assert errors_of(vista) == [repetida]
    assert (resumen.nuevos, resumen.con_errores) == (CHUNK + 1, 1)
    rechazadas = list(csv.reader(io.StringIO(job.rechazos.decode("utf-8-sig"))))
    assert len(rechazadas) == 2 and rechazadas[1][-1].endswith(repetida[2]), rechazadas
    assert len(clientes(tenants.admin_a.id)) == CHUNK + 1
