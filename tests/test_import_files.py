"""Importing clients: every shape of file people send reads the same rows (SPEC §11)."""

from datetime import date, datetime

import pytest

from panel.importing import columns, reading

from .import_support import HEADER, clientes, csv_bytes, excel_serial, imported, row, xlsx_bytes

pytestmark = pytest.mark.usefixtures("both_paths")  # ClienteForm's rules two ways, compared per row

ROWS = [row(1), row(2, Apellidos="Muñoz Gómez"), row(3, Ciudad="Bogotá")]


def _assert_three_clients(tenant_id):
    found = clientes(tenant_id)
    assert sorted(found) == ["1020000001", "1020000002", "1020000003"]
    c = found["1020000002"]
    assert (c.nombre_cliente, c.apellido_cliente, c.genero) == ("Ana2", "Muñoz Gómez", 0)
    assert c.fecha_nacimiento == date(1990, 3, 15)
    assert c.telefono == "3000000002" and c.telefono_e164 == "+573000000002"
    assert found["1020000001"].ciudad.nombre == "Medellín" and found["1020000003"].id_ciudad == 1


@pytest.mark.parametrize(
    "shape",
    [
        dict(),
        dict(bom=True),
        dict(encoding="cp1252"),
        dict(delimiter=";"),
        dict(delimiter=";", bom=True),
        dict(delimiter=";", encoding="cp1252"),
        dict(delimiter="\t"),
        dict(tail=",,,,,,,\r\n\r\n , ,,,,,,\r\n"),  # empty trailing rows, as Excel leaves them
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "windows-1252",
        "semicolon",
        "semicolon-bom",
        "semicolon-1252",
        "tab",
        "trailing",
    ],
)
def test_every_csv_shape_imports_the_same_clients(app, tenants, shape):
    job, vista, resumen = imported(csv_bytes(ROWS, **shape), tenants.admin_a.id)
    assert (vista["nuevos"], vista["con_errores"], vista["total"]) == (3, 0, 3)
    assert (resumen.nuevos, resumen.con_errores) == (3, 0)
    assert job.estado == "completado"
    _assert_three_clients(tenants.admin_a.id)


def test_windows_1252_is_detected_and_not_read_as_utf8():
    data = csv_bytes(ROWS, encoding="cp1252")
    assert reading.encoding_of(data) == "cp1252"
    assert reading.open_table(data).encabezados[0] == "Cédula"


def test_an_xlsx_with_date_serials_numbers_as_floats_and_blank_rows_after(app, tenants):
    cells = [
        [
            1020000001.0,
            "Ana1",
            "Pérez",
            3000000001.0,
            "ana1@example.com",
            excel_serial(date(1990, 3, 15)),
            "F",
            "Medellín",
        ],
        [
            1020000002,
            "Ana2",
            "Muñoz Gómez",
            "300 000 0002",
            None,
            datetime(1990, 3, 15, 0, 0),
            "f",
            "medellin",
        ],
        ["1.020.000.003", "Ana3", None, "+57 300 000 0003", None, "1990-03-15", "Femenino", "BOGOTÁ"],
    ]
    job, vista, resumen = imported(xlsx_bytes(cells, blank_rows_after=3), tenants.admin_a.id, "clientes.xlsx")
    assert vista["formato"] == "XLSX" and vista["errores"] == []
    assert (resumen.nuevos, resumen.con_errores, resumen.total) == (3, 0, 3)
    found = clientes(tenants.admin_a.id)
    assert {c.fecha_nacimiento for c in found.values()} == {date(1990, 3, 15)}
    assert found["1020000001"].telefono == "3000000001"
    assert found["1020000003"].telefono_e164 == "+573000000003"


@pytest.mark.parametrize(
    "written, stored",
    [
        ("15/03/1990", date(1990, 3, 15)),
        ("5/3/1990", date(1990, 3, 5)),
        ("1990-03-15", date(1990, 3, 15)),
        ("1990/03/15", date(1990, 3, 15)),
        ("15-03-1990", date(1990, 3, 15)),
        ("32947", date(1990, 3, 15)),
        ("1990-03-15 00:00:00-05:00", date(1990, 3, 15)),
    ],
)
def test_text_dates_in_the_forms_people_write_them(app, tenants, written, stored):
    _, vista, _ = imported(csv_bytes([row(1, **{"Fecha de nacimiento": written})]), tenants.admin_a.id)
    assert vista["errores"] == []
    assert clientes(tenants.admin_a.id)["1020000001"].fecha_nacimiento == stored


def test_odd_and_merged_headers_are_matched_and_unknown_columns_ignored(app, tenants):
    header = [
        "  CÉDULA DE CIUDADANÍA ",
        "Nombre",
        "APELLIDO",
        "Tel. Celular",
        "E-mail",
        "Fecha Nac.",
        "GÉNERO",
        "Municipio",
        "",
        "Observaciones",
    ]
    cells = [
        ["1020000001", "Ana", "Pérez", "3001234567", "ana@example.com", "15/03/1990", "M", "Cali", "x", "VIP"]
    ]
    data = csv_bytes(cells, header=header, delimiter=";")
    assert columns.guess(header) == {
        0: "cedula_cliente",
        1: "nombre_cliente",
        2: "apellido_cliente",
        3: "telefono",
        4: "email",
        5: "fecha_nacimiento",
        6: "genero",
        7: "ciudad",
    }
    _, vista, resumen = imported(data, tenants.admin_a.id)
    assert (resumen.nuevos, vista["errores"]) == (1, [])
    c = clientes(tenants.admin_a.id)["1020000001"]
    assert (c.genero, c.ciudad.nombre, c.email) == (1, "Cali", "ana@example.com")


@pytest.mark.parametrize(
    "header, synonym",
    [
        ("documento", "cedula_cliente"),
        ("Nombres", "nombre_cliente"),
        ("Apellidos", "apellido_cliente"),
        ("correo", "email"),
        ("Móvil", "telefono"),
        ("Teléfono", "telefono"),
        ("Sexo", "genero"),
        ("País", "pais"),
        ("Empresa", "empresa"),
        ("Campaña", "campana"),
        ("Estado", "estado"),
        ("Acepta SMS", "acepta_sms"),
        ("Fecha de nacimiento (hora de Bogotá)", "fecha_nacimiento"),
    ],
)
def test_header_synonyms(header, synonym):
    assert columns.guess([header]) == {0: synonym}


def test_the_header_of_a_file_without_a_cedula_column_is_a_problem_until_mapped(app, tenants):
    from panel.extensions import db
    from panel.importing import service

    data = csv_bytes([["1020000001", "Ana"]], header=["Doc", "Nombres"])
    job = service.create(data, "x.csv", tenants.admin_a.id, tenants.admin_a.id)
    assert service.preview(job)["problemas"] == ["Falta la columna «Cédula» (obligatoria)."]
    job.mapeo = {"0": "cedula_cliente", "1": "nombre_cliente"}  # the user's correction
    db.session.commit()
    vista = service.preview(job)
    assert "problemas" not in vista and vista["nuevos"] == 1


def test_a_field_mapped_to_two_columns_is_a_problem():
    found = columns.problems(
        {0: "cedula_cliente", 1: "nombre_cliente", 2: "nombre_cliente"}, ["C", "N1", "N2"]
    )
    assert found == ["El campo «Nombres» está asignado a dos columnas («N1» y «N2»)."]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "El archivo está vacío."),
        (b"\n\n  \n", "El archivo no tiene filas"),
        (b"PK\x03\x04garbage", "El archivo Excel no se puede abrir"),
    ],
)
def test_unreadable_files_say_why(data, message):
    with pytest.raises(reading.ArchivoIlegible, match=message):
        reading.open_table(data, "x.xlsx" if data.startswith(b"PK") else "x.csv")


def test_header_constant_is_what_the_helpers_write():
    assert reading.open_table(csv_bytes([row(1)])).encabezados == HEADER
