"""Reading what a file's cells mean (SPEC §17): dates by the column's order, Outlook's empty
dates, genders, several phones in a cell, document types by name; warnings beside errors;
every default named with its count and the file's own municipio; empresas created once; the
rejected rows formula-safe and imported back; ``--columna``."""

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from panel import municipios, tenancy
from panel.extensions import db
from panel.importing import cells, columns
from panel.models import Empresa

from . import factories
from .import_support import HEADER, clientes, csv_bytes, imported, job_id_of, preview_of, row, wait_until_done

pytestmark = pytest.mark.usefixtures("both_paths")  # ClienteForm's rules two ways, compared per row

# --- the cells --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "valores, orden",
    [
        (["5/17/1990", "3/4/1985"], "mdy"),  # Outlook: 17 cannot be a month
        (["5/17/1990", "13/4/1985"], "dmy"),  # a first number above 12 decides: day-first
        (["3/4/1985", "1/2/1990"], "dmy"),  # nothing proves month-first: the Colombian order
        (["1990-05-17", 32947, date(1990, 1, 2), "", None, "5/17/1990"], "mdy"),  # others say nothing
        (["05/17/90", "12/31/65"], "mdy"),
    ],
)
def test_a_date_column_is_month_first_only_when_no_value_can_be_day_first(valores, orden):
    assert cells.orden_fechas(valores) == orden


def test_the_date_order_is_decided_once_for_the_whole_column(app, tenants):
    rows = [row(1, **{"Fecha de nacimiento": "3/4/1985"}), row(2, **{"Fecha de nacimiento": "5/17/1990"})]
    _, vista, _ = imported(csv_bytes(rows), tenants.admin_a.id)
    assert vista["errores"] == [] and vista["avisos"] == []
    c = clientes(tenants.admin_a.id)
    assert (c["1020000001"].fecha_nacimiento, c["1020000002"].fecha_nacimiento) == (
        date(1985, 3, 4),
        date(1990, 5, 17),
    )
    rows.append(row(3, **{"Fecha de nacimiento": "25/12/1970"}))  # now the column is day-first
    vista = preview_of(csv_bytes(rows), tenants.admin_b.id)
    assert vista["errores"] == [
        [3, "Fecha de nacimiento", "Fecha no válida: escriba dd/mm/aaaa o aaaa-mm-dd."]
    ]


@pytest.mark.parametrize(
    "written, stored",
    [("5/3/90", date(1990, 3, 5)), ("17/05/1990", date(1990, 5, 17)), ("1990-05-17", date(1990, 5, 17))],
)
def test_dates_d_m_aa_and_iso(written, stored):
    assert cells.fecha(written) == stored.isoformat()


@pytest.mark.parametrize(
    "written, message",
    [
        ("0/0/00", "Fecha vacía en el archivo (0/0/00): se deja sin fecha."),
        ("00/00/0000", "Fecha vacía en el archivo (00/00/0000): se deja sin fecha."),
        ("--05-17", "Fecha sin año (--05-17): se deja sin fecha."),
        ("17/05", "Fecha sin año (17/05): se deja sin fecha."),
    ],
)
def test_an_empty_date_or_one_without_year_is_empty_with_a_warning(app, tenants, written, message):
    _, vista, resumen = imported(csv_bytes([row(1, **{"Fecha de nacimiento": written})]), tenants.admin_a.id)
    assert (resumen.nuevos, vista["errores"], vista["con_avisos"]) == (1, [], 1)
    assert vista["avisos"] == [[2, "Fecha de nacimiento", message]]
    assert clientes(tenants.admin_a.id)["1020000001"].fecha_nacimiento is None


@pytest.mark.parametrize(
    "written, stored",
    [
        ("F", 0), ("Femenino", 0), ("mujer", 0), ("Female", 0), ("0", 0),
        ("M", 1), ("MASCULINO", 1), ("Hombre", 1), ("male", 1), ("1", 1),
    ],
)  # fmt: skip
def test_genders(written, stored):
    assert cells.genero(written) == str(stored)


@pytest.mark.parametrize("written", ["X", "Otro", "Unspecified", "No binario"])
def test_any_other_gender_is_empty_with_a_warning_never_an_error(app, tenants, written):
    _, vista, resumen = imported(csv_bytes([row(1, Sexo=written)]), tenants.admin_a.id)
    assert (resumen.nuevos, resumen.con_errores) == (1, 0)
    assert vista["avisos"] == [[2, "Sexo", f"Género «{written}» no reconocido (F o M): se deja vacío."]]
    assert clientes(tenants.admin_a.id)["1020000001"].genero is None


@pytest.mark.parametrize(
    "written, kept",
    [
        ("310 123 4567 ::: 601 345 6789", "310 123 4567"),
        ("601 345 6789 ::: 310 123 4567", "310 123 4567"),  # the first mobile, not the first number
        ("+57 601 345 6789 ::: +57 604 444 5555", "+57 601 345 6789"),  # no mobile: the first
        ("3101234567; 3157654321", "3101234567"),
    ],
)
def test_a_cell_of_several_phones_keeps_its_first_mobile(written, kept):
    with pytest.raises(cells.Aviso) as said:
        cells.telefono(written)
    assert said.value.valor == kept and "teléfonos: se guarda" in str(said.value)
    assert cells.telefono("310 123 4567") == "310 123 4567"


@pytest.mark.parametrize(
    "written, code",
    [
        ("Cédula de extranjería", "CE"), ("C.E.", "CE"), ("ce", "CE"), ("Pasaporte", "PA"), ("NIT", "NIT"),
        ("Cédula de ciudadanía", "CC"), ("C.C.", "CC"), ("Tarjeta de identidad", "TI"), ("PPT", "PPT"),
    ],
)  # fmt: skip
def test_document_types_by_code_or_name(written, code):
    assert cells.tipo_documento(written) == code


# --- the headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, campo",
    [
        ("Número de documento", "cedula_cliente"), ("Identificación", "cedula_cliente"),
        ("Government ID Number", "cedula_cliente"), ("Celular", "telefono"), ("Mobile Phone", "telefono"),
        ("Phone 1 - Value", "telefono"), ("Mobile Phone Number", "telefono"), ("Phone Number", "telefono"),
        ("Correo electrónico", "email"), ("E-mail 1 - Value", "email"), ("E-mail Address", "email"),
        ("Email", "email"), ("Given Name", "nombre_cliente"), ("First Name", "nombre_cliente"),
        ("Family Name", "apellido_cliente"), ("Last Name", "apellido_cliente"),
        ("Birthday", "fecha_nacimiento"),
        ("Gender", "genero"), ("Municipio", "ciudad"), ("City", "ciudad"), ("Departamento", "departamento"),
        ("Empresa", "empresa"), ("Razón social", "empresa"), ("Company Name", "empresa"),
        ("Organization 1 - Name", "empresa"), ("NIT", "nit_empresa"), ("Tipo de documento", "tipo_documento"),
    ],
)  # fmt: skip
def test_the_headers_of_the_tools_agencies_export_from(header, campo):
    assert columns.guess([header]) == {0: campo}


def test_the_headers_come_from_the_one_declaration_of_client_fields():
    from panel import campos

    assert columns.SYNONYMS["telefono"] == campos.POR_NOMBRE["telefono"].encabezados
    assert columns.SYNONYMS["ciudad"] == campos.POR_NOMBRE["id_ciudad"].encabezados


def test_of_two_columns_for_a_field_the_better_name_wins():
    assert columns.guess(["Home Phone", "Phone Number", "Mobile Phone"]) == {2: "telefono"}
    assert columns.guess(["Name", "Given Name"]) == {1: "nombre_cliente"}
    assert columns.guess(["Teléfono", "Teléfono"]) == {0: "telefono"}  # a tie: the first


def test_override_by_field_name_or_label_and_blank_unmaps():
    encabezados = ["Doc", "Nombres", "Celular"]
    guessed = columns.guess(encabezados)
    assert columns.override(guessed, encabezados, ["doc=cedula_cliente"]) == {
        0: "cedula_cliente",
        1: "nombre_cliente",
        2: "telefono",
    }
    assert columns.override(guessed, encabezados, ["Doc=Cédula", "Celular="]) == {
        0: "cedula_cliente",
        1: "nombre_cliente",
    }
    with pytest.raises(columns.ColumnaDesconocida, match="El archivo no tiene la columna «Cedula»"):
        columns.override(guessed, encabezados, ["Cedula=cedula_cliente"])
    with pytest.raises(columns.ColumnaDesconocida, match="Campo desconocido: «zapato»"):
        columns.override(guessed, encabezados, ["Doc=zapato"])


def test_the_cli_takes_columna_encabezado_campo(runner, tenants, tmp_path):
    path = tmp_path / "contactos.csv"
    path.write_bytes(
        csv_bytes([["1020000001", "Ana", "3001234567", "x"]], header=["Doc", "Nombres", "Cel", "Nota"])
    )
    args = ["import-clientes", str(path), "--email", tenants.admin_a.email]
    refused = runner.invoke(args=args)
    assert refused.exit_code == 2 and "Falta la columna «Cédula» (obligatoria)." in refused.output
    result = runner.invoke(args=[*args, "--columna", "Doc=cedula_cliente", "--columna", "Cel=Teléfono"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "nuevos 1, actualizados 0, con errores 0"
    assert clientes(tenants.admin_a.id)["1020000001"].telefono_e164 == "+573001234567"
    wrong = runner.invoke(args=[*args, "--columna", "Documento=cedula_cliente"])
    assert wrong.exit_code == 2 and "El archivo no tiene la columna «Documento»." in wrong.output


# --- defaults, named ---------------------------------------------------------------------------


def test_every_default_is_named_with_its_row_count(app, tenants):
    header = [h for h in HEADER if h != "Ciudad"]
    rows = [[c for h, c in zip(HEADER, row(n), strict=True) if h != "Ciudad"] for n in range(1, 4)]
    rows.append(row(4, Cédula="x")[:-1])  # a rejected row gets no default
    vista = preview_of(csv_bytes(rows, header=header), tenants.admin_a.id)
    assert [d["texto"] for d in vista["por_defecto"]] == [
        "Tipo de documento: CC (Cédula de ciudadanía) (por defecto) en 3 filas",
        "País: Colombia (por defecto) en 3 filas",
        "Ciudad: Bogotá D.C. (por defecto) en 3 filas",
        "Estado: Activo (por defecto) en 3 filas",
        "Acepta SMS: Sí (por defecto) en 3 filas",
    ]


def test_a_row_without_municipio_gets_the_files_default_and_the_preview_says_so(app, tenants):
    rows = [row(1), row(2, Ciudad=""), row(3, Ciudad="")]
    vista = preview_of(csv_bytes(rows), tenants.admin_a.id)
    ciudad = [d for d in vista["por_defecto"] if d["campo"] == "ciudad"]
    assert ciudad == [
        {"campo": "ciudad", "texto": "Ciudad: Bogotá D.C. (por defecto) en 2 filas", "filas": 2}
    ]
    chia = municipios.load().match("Chía", "Cundinamarca", 1)
    _, vista, _ = imported(csv_bytes(rows), tenants.admin_a.id, id_ciudad_defecto=chia.id)
    assert [d["texto"] for d in vista["por_defecto"] if d["campo"] == "ciudad"] == [
        "Ciudad: Chía (por defecto) en 2 filas"
    ]
    c = clientes(tenants.admin_a.id)
    assert [c[f"102000000{n}"].ciudad.nombre for n in (1, 2, 3)] == ["Medellín", "Chía", "Chía"]


def test_update_mode_keeps_the_stored_city_of_a_blank_cell_not_the_default(app, tenants):
    imported(csv_bytes([row(1, Ciudad="Cali")]), tenants.admin_a.id)
    chia = municipios.load().match("Chía", "Cundinamarca", 1)
    _, vista, resumen = imported(
        csv_bytes([row(1, Ciudad="")]), tenants.admin_a.id, actualizar=True, id_ciudad_defecto=chia.id
    )
    assert (resumen.actualizados, vista["por_defecto"]) == (1, [])
    assert clientes(tenants.admin_a.id)["1020000001"].ciudad.nombre == "Cali"


# --- empresas ------------------------------------------------------------------------------------


def _empresas(tenant_id: int) -> list[tuple[str, str | None]]:
    db.session.expire_all()
    with tenancy.using(tenant_id):
        return sorted((e.nombre, e.nit) for e in db.session.scalars(sa.select(Empresa)))


def test_an_empresa_named_on_many_rows_is_created_once_across_chunks(app, tenants):
    header = HEADER + ["Razón social", "NIT"]
    rows = [row(n) + ["Acme S.A.S.", "" if n < 1500 else "900.123.456"] for n in range(1, 2101)]
    rows += [row(3000) + ["ACME s.a.s.", ""], row(3001) + ["Beta", "900.123.456-0"]]
    _, vista, resumen = imported(csv_bytes(rows, header=header), tenants.admin_a.id)
    assert vista["empresas_nuevas"] == [{"nombre": "Acme S.A.S.", "nit": "900.123.456-8", "filas": 2101}]
    assert vista["errores"] == [
        [2103, "NIT", "NIT «900.123.456-0» no válido: Dígito de verificación incorrecto: debería ser 8."]
    ]
    assert (resumen.nuevos, resumen.con_errores) == (2101, 1)
    assert _empresas(tenants.admin_a.id) == [("Acme S.A.S.", "9001234568")]
    with tenancy.using(tenants.admin_a.id):
        ids = set(db.session.scalars(sa.text("SELECT DISTINCT id_empresa FROM cliente")))
    assert len(ids) == 1


def test_an_existing_empresa_is_found_by_its_nit_under_another_name(app, tenants):
    with tenancy.using(tenants.admin_a.id):
        db.session.add(Empresa(nombre="Acme", nit="9001234568", id_propietario=tenants.admin_a.id))
        db.session.commit()
    header = HEADER + ["Empresa", "NIT"]
    _, vista, _ = imported(
        csv_bytes([row(1) + ["ACME Colombia S.A.S.", "900123456-8"]], header=header), tenants.admin_a.id
    )
    assert (vista["empresas_nuevas"], vista["errores"]) == ([], [])
    assert _empresas(tenants.admin_a.id) == [("Acme", "9001234568")]
    assert clientes(tenants.admin_a.id)["1020000001"].empresa.nombre == "Acme"


def test_without_crear_empresas_a_missing_empresa_is_the_rows_error_and_nothing_is_created(app, tenants):
    factories.empresa(tenants.admin_a, "Acme")
    header = HEADER + ["Empresa"]
    data = csv_bytes([row(1) + ["acme"], row(2) + ["Nueva S.A."]], header=header)
    _, vista, resumen = imported(data, tenants.admin_a.id, crear_empresas=False)
    assert vista["errores"] == [
        [3, "Empresa", "No existe la empresa «Nueva S.A.» (marque «Crear las empresas que no existan»)."]
    ]
    assert (vista["empresas_nuevas"], resumen.nuevos) == ([], 1)
    assert _empresas(tenants.admin_a.id) == [("Acme", None)]


def test_a_preview_creates_no_empresa_and_a_campana_must_exist(app, tenants):
    header = HEADER + ["Empresa", "Campaña"]
    vista = preview_of(csv_bytes([row(1) + ["Nueva S.A.", "Navidad"]], header=header), tenants.admin_a.id)
    assert vista["errores"] == [[2, "Campaña", "No existe la campaña «Navidad»."]]
    assert vista["empresas_nuevas"] == []  # the row does not import: its empresa is not counted
    assert _empresas(tenants.admin_a.id) == []


# --- the rejected rows ------------------------------------------------------------------------------


def test_the_rejected_rows_csv_escapes_formulas_and_imports_back_once_corrected(app, tenants):
    evil = ['=HYPERLINK("x")', "+57 300 123 4567", "@SUM(A1)", "-1"]
    rows = [
        row(1),
        row(2, Cédula="x", Nombres=evil[0], Celular=evil[1], Apellidos=evil[2], Correo="-1@x.co"),
    ]
    job, _, _ = imported(csv_bytes(rows, delimiter=";"), tenants.admin_a.id)
    db.session.refresh(job)
    back = list(csv.reader(io.StringIO(job.rechazos.decode("utf-8-sig")), delimiter=";"))
    assert back[0] == [*HEADER, "fila", "error"]
    assert back[1][:5] == ["x", "'" + evil[0], "'" + evil[2], "'" + evil[1], "'-1@x.co"]
    assert back[1][-2:] == ["3", "Cédula: La cédula solo puede tener dígitos."]
    # corrected (the cédula) and imported again: the apostrophes are not part of the values
    back[1][0] = "1020000002"
    fixed = io.StringIO()
    csv.writer(fixed, delimiter=";").writerows(back)
    _, vista, resumen = imported(fixed.getvalue().encode("utf-8"), tenants.admin_a.id)
    assert (resumen.nuevos, vista["errores"]) == (1, [])
    c = clientes(tenants.admin_a.id)["1020000002"]
    assert (c.nombre_cliente, c.apellido_cliente, c.email, c.telefono_e164) == (
        evil[0],
        evil[2],
        "-1@x.co",
        "+573001234567",
    )


# --- the preview page -----------------------------------------------------------------------------


def test_the_preview_page_lists_warnings_defaults_and_new_empresas_and_takes_the_files_choices(
    app, client, tenants
):
    from .helpers import csrf_from, login

    url = "/admin/clientes/importar/"
    login(client, tenants.admin_a.email)
    page = client.get(url)
    header = HEADER + ["Empresa"]
    rows = [
        row(1, Sexo="Otro") + ["Nueva S.A."],
        row(2, Ciudad="") + ["Nueva S.A."],
        row(3, Ciudad="") + [""],
    ]
    data = csv_bytes(rows, header=header)
    form = {"csrf_token": csrf_from(page.data), "modo": "crear", "errores": "omitir"}
    sent = client.post(
        url, data=form | {"archivo": (io.BytesIO(data), "c.csv")}, content_type="multipart/form-data"
    )
    job_url = sent.headers["Location"]
    assert wait_until_done(client, job_id_of(job_url))["estado"] == "previsualizada"
    page = client.get(job_url).get_data(as_text=True)
    assert 'data-testid="vista-previa"' in page
    assert "Ciudad: Bogotá D.C. (por defecto) en 2 filas" in page
    assert "<td>2</td><td>Sexo</td><td>Género «Otro» no reconocido (F o M): se deja vacío.</td>" in page
    assert 'data-testid="empresas-nuevas"' in page and "<td>Nueva S.A.</td><td>—</td><td>2</td>" in page
    assert "<td>Nueva S.A. (nueva)</td>" in page  # the rows as they will be saved
    assert '<input checked class="form-check-input" id="crear_empresas" name="crear_empresas"' in page
    assert 'data-role="select2-ajax"' in page and "/admin/clientes/ajax/lookup/?name=id_ciudad" in page
    # another default municipio, and no new empresas: the preview is made again with them
    chia = municipios.load().match("Chía", "Cundinamarca", 1)
    mapping = {f"col-{i}": c for i, c in columns.guess(header).items()}
    choices = {"csrf_token": csrf_from(page), "modo": "crear", "errores": "omitir", "id_ciudad": str(chia.id)}
    assert client.post(job_url + "mapeo/", data=choices | mapping).status_code == 302
    assert wait_until_done(client, job_id_of(job_url))["estado"] == "previsualizada"  # made again
    page = client.get(job_url).get_data(as_text=True)
    assert "Ciudad: Chía (por defecto) en 1 fila<" in page  # row 2 is now an error (its empresa)
    assert "No existe la empresa «Nueva S.A.» (marque «Crear las empresas que no existan»)." in page
    assert 'data-testid="empresas-nuevas"' not in page
    assert f'value="{chia.id}"' in page and "Chía" in page


def test_the_run_reads_the_dates_as_its_preview_decided_and_the_file_once(app, tenants):
    from panel.importing import reading, service
    from panel.importing.opciones import Opciones
    from panel.importing.rows import Lector

    tenant = tenants.admin_a.id
    data = csv_bytes(
        [row(1, **{"Fecha de nacimiento": "3/4/1985"}), row(2, **{"Fecha de nacimiento": "5/17/1990"})]
    )
    job = service.create(data, "c.csv", tenant, tenant)
    assert service.preview(job)["orden_fechas"] == "mdy"
    assert (Opciones.de(job).fechas, Opciones.confirmadas(job).fechas) == (None, "mdy")

    class Counted:
        """The file's table, counting the passes over its rows."""

        def __init__(self, tabla):
            self.tabla, self.encabezados, self.formato, self.passes = (
                tabla,
                tabla.encabezados,
                tabla.formato,
                0,
            )

        def filas(self):
            self.passes += 1
            return self.tabla.filas()

    mapping = columns.guess(HEADER)
    with tenancy.using(tenant):
        for opciones, passes in ((Opciones.confirmadas(job), 1), (Opciones.de(job), 2)):
            tabla = Counted(reading.open_table(data, "c.csv"))
            filas = [f for chunk in Lector(tabla, mapping, False, opciones=opciones).chunks() for f in chunk]
            assert tabla.passes == passes
            assert [f.valores["fecha_nacimiento"] for f in filas] == [date(1985, 3, 4), date(1990, 5, 17)]
