"""The Registro de Números Excluidos: loaded from a file, swapped in whole, looked up by number."""

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import ListaExcluidos, NumeroExcluido
from panel.sms import rne


def _file(tmp_path, text: str):
    path = tmp_path / "rne.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_flask_rne_import_loads_national_and_e164_numbers_and_counts_bad_lines(runner, tmp_path):
    path = _file(tmp_path, "3001234567\n+573109876543\n\n300 555 1234\nno es un número\n12\n3001234567\n")
    result = runner.invoke(args=["rne-import", path])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "3 números cargados, 2 líneas inválidas ignoradas"
    assert rne.excluded(["+573001234567", "+573109876543", "+573005551234", "+573000000000"]) == {
        "+573001234567",
        "+573109876543",
        "+573005551234",
    }


@pytest.mark.parametrize(
    "text",
    ["numero,fuente\n3001234567,crc\n+573109876543,crc\n", '"id";"numero"\n1;"3001234567"\n2;"3109876543"\n'],
)
def test_a_csv_with_a_numero_column_is_read_by_its_header(app, text):
    carga = rne.load(text.splitlines(keepends=True), archivo="crc.csv")
    assert (carga.cargados, carga.invalidas) == (2, 0)
    assert rne.excluded(["+573001234567", "+573109876543"]) == {"+573001234567", "+573109876543"}


def test_a_new_list_replaces_the_old_one_whole(app):
    rne.load(["3001234567\n", "3001111111\n"], archivo="vieja.csv")
    rne.load(["3002222222\n"], archivo="nueva.csv")
    assert rne.excluded(["+573001234567", "+573001111111", "+573002222222"]) == {"+573002222222"}
    listas = db.session.scalars(sa.select(ListaExcluidos)).all()
    assert [(lista.archivo, lista.activa, lista.total) for lista in listas] == [("nueva.csv", True, 1)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NumeroExcluido)) == 1


def test_readers_see_the_old_list_until_the_new_one_is_swapped_in(app):
    """The steps of a load, one by one: written beside the list in force, then swapped in."""
    rne.load(["3001234567\n"], archivo="vieja.csv")
    nueva = ListaExcluidos(archivo="nueva.csv", total=1)
    db.session.add(nueva)
    db.session.commit()
    rne._insert(nueva.id, ["+573009999999"])
    assert rne.excluded(["+573001234567", "+573009999999"]) == {"+573001234567"}
    rne._swap(nueva.id)
    assert rne.excluded(["+573001234567", "+573009999999"]) == {"+573009999999"}


def test_without_a_list_nothing_is_excluded(app):
    assert rne.excluded(["+573001234567"]) == set()


def test_the_superadmin_uploads_a_new_list_in_the_panel(client, tenants):
    import io

    from .helpers import csrf_of, login

    login(client, "super@test.co")
    page = client.get("/admin/rne/")
    assert page.status_code == 200 and "Todavía no se ha cargado" in page.get_data(as_text=True)
    data = {
        "csrf_token": csrf_of(client, "/admin/rne/"),
        "archivo": (io.BytesIO(b"numero\n3001234567\nx\n"), "crc.csv"),
    }
    response = client.post(
        "/admin/rne/", data=data, content_type="multipart/form-data", follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 número cargado, 1 línea inválida ignorada" in html
    assert rne.excluded(["+573001234567"]) == {"+573001234567"}


def test_only_the_superadmin_loads_the_registry(client, tenants):
    from .helpers import login

    login(client, "admin.a@test.co")
    assert client.get("/admin/rne/").status_code == 403
