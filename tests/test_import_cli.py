"""``flask import-clientes``: the summary as the last line, and its exit statuses."""

import pytest

from panel import tenancy
from panel.extensions import db
from panel.models import ImportacionClientes

from .import_support import clientes, csv_bytes, row, xlsx_bytes

pytestmark = pytest.mark.usefixtures("both_paths")  # ClienteForm's rules two ways, compared per row


@pytest.fixture
def archivo(tmp_path):
    def write(data: bytes, name: str = "clientes.csv"):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


def _run(runner, *args):
    return runner.invoke(args=["import-clientes", *args], catch_exceptions=False)


def _last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def test_it_imports_and_prints_the_summary_last_even_with_row_errors(runner, tenants, archivo):
    path = archivo(csv_bytes([row(1), row(2), row(3, Cédula="x")], delimiter=";"))
    result = _run(runner, path, "--email", tenants.admin_a.email)
    assert result.exit_code == 0, result.output
    assert _last_line(result) == "nuevos 2, actualizados 0, con errores 1"
    assert "fila 4: Cédula: La cédula solo puede tener dígitos." in result.output
    assert sorted(clientes(tenants.admin_a.id)) == ["1020000001", "1020000002"]
    with tenancy.using(tenants.admin_a.id):
        job = db.session.query(ImportacionClientes).one()
    assert (job.estado, job.nuevos, job.con_errores, job.id_usuario) == (
        "completado",
        2,
        1,
        tenants.admin_a.id,
    )


def test_actualizar_updates_by_cedula(runner, tenants, archivo):
    _run(runner, archivo(csv_bytes([row(1)])), "--email", tenants.admin_a.email)
    path = archivo(csv_bytes([row(1, Nombres="Otra"), row(2)]), "segundo.csv")
    assert (
        _last_line(_run(runner, path, "--email", tenants.admin_a.email))
        == "nuevos 1, actualizados 0, con errores 1"
    )
    result = _run(runner, path, "--email", tenants.admin_a.email, "--actualizar")
    assert _last_line(result) == "nuevos 0, actualizados 2, con errores 0"  # row 2 came in the run before
    assert clientes(tenants.admin_a.id)["1020000001"].nombre_cliente == "Otra"


def test_dry_run_validates_and_writes_nothing(runner, tenants, archivo):
    path = archivo(xlsx_bytes([row(1), row(2, Correo="malo")]), "clientes.xlsx")
    result = _run(runner, path, "--email", tenants.admin_a.email, "--dry-run")
    assert (result.exit_code, _last_line(result)) == (0, "nuevos 1, actualizados 0, con errores 1")
    assert clientes(tenants.admin_a.id) == {}
    with tenancy.using(tenants.admin_a.id):
        assert db.session.query(ImportacionClientes).count() == 0


def test_todo_o_nada_refuses_the_file_and_exits_1(runner, tenants, archivo):
    path = archivo(csv_bytes([row(1), row(2, Cédula="")]))
    result = _run(runner, path, "--email", tenants.admin_a.email, "--todo-o-nada")
    assert result.exit_code == 1
    assert "no se importó ninguna" in result.output
    assert _last_line(result) == "nuevos 1, actualizados 0, con errores 1"
    assert clientes(tenants.admin_a.id) == {}


def test_the_rows_go_to_the_tenant_of_the_admin_named(runner, tenants, archivo):
    result = _run(runner, archivo(csv_bytes([row(1)])), "--email", tenants.admin_b.email.upper())
    assert result.exit_code == 0
    assert list(clientes(tenants.admin_b.id)) == ["1020000001"] and clientes(tenants.admin_a.id) == {}


@pytest.mark.parametrize(
    "email, message",
    [
        ("nadie@test.co", "Error: No existe un usuario con el correo nadie@test.co."),
        ("vendedor.a@test.co", "Error: vendedor.a@test.co no es un administrador"),
        ("super@test.co", "Error: super@test.co no es un administrador"),
    ],
)
def test_an_unknown_admin_exits_2_with_one_line(runner, tenants, archivo, email, message):
    result = _run(runner, archivo(csv_bytes([row(1)])), "--email", email)
    assert result.exit_code == 2
    assert result.output.strip().startswith(message) and len(result.output.strip().splitlines()) == 1
    assert clientes(tenants.admin_a.id) == {}


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"", "vacio.csv", "El archivo está vacío."),
        (b"PK\x03\x04not really a zip", "roto.xlsx", "El archivo Excel no se puede abrir"),
        (b"Doc,Nombre\n1,Ana\n", "sin_cedula.csv", "Falta la columna «Cédula» (obligatoria)."),
    ],
)
def test_an_unreadable_file_exits_2_with_one_line(runner, tenants, archivo, data, name, message):
    result = _run(runner, archivo(data, name), "--email", tenants.admin_a.email)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_missing_file_exits_2(runner, tenants, tmp_path):
    result = _run(runner, str(tmp_path / "no-existe.csv"), "--email", tenants.admin_a.email)
    assert result.exit_code == 2 and "No se puede leer el archivo" in result.output
