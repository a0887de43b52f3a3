"""Hostile files at the import (SPEC §17 "Hostile files"): one per kind, built here, each with
its Spanish message and a bound on the work and memory it costs, asserted by counts and sizes
(rows read, cells measured, ``tracemalloc`` peaks), never by a stopwatch. The limits at their
edge: just under reads, just over is refused."""

import io
import tracemalloc
import zipfile
from contextlib import contextmanager

import pytest

from panel.importing import libro, limites, reading

from .helpers import csrf_from, login
from .hostile_files import HEADER, cell, declared_smaller, row, sheet, xlsx
from .import_support import job_id_of, wait_until_done

pytestmark = pytest.mark.usefixtures("both_paths")  # ClienteForm's rules two ways, compared per row

MB = 1024 * 1024


@contextmanager
def traced():
    """The Python heap's peak growth inside the block, in ``peak["bytes"]``."""
    peak = {}
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak["bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def refused(data: bytes, nombre: str = "x.xlsx") -> str:
    with pytest.raises(reading.ArchivoIlegible) as caught:
        reading.open_table(data, nombre)
    return str(caught.value)


def rows_calamine_holds(data: bytes) -> int:
    _, rows = libro.first_sheet(data)
    return sum(1 for _ in rows())


# --- the XLSX's shape: dimension, far cells, implicit places -------------------------------


def test_the_declared_dimension_is_ignored():
    """The 5 KB file whose <dimension ref="A1:XFD1048576"> made the reader walk a million rows:
    calamine holds the two rows there are."""
    data = xlsx(sheet(HEADER + row(2, "1020", "Ana"), dimension="A1:XFD1048576"))
    assert len(data) < 5 * 1024
    with traced() as peak:
        tabla = reading.open_table(data, "x.xlsx")
        filas = list(tabla.filas())
    assert tabla.encabezados == ["Cédula", "Nombres"] and filas == [(2, ["1020", "Ana"])]
    assert rows_calamine_holds(data) == 2
    assert peak["bytes"] < 1 * MB


def test_two_cells_far_apart_are_refused_before_calamine_allocates_their_grid():
    """A1 and XFD1048576 would make calamine allocate 17 billion cells (the process aborts)."""
    data = xlsx(sheet(HEADER + f'<row r="1048576">{cell("XFD1048576", "x")}</row>'))
    with traced() as peak:
        message = refused(data)
    assert message.startswith("La hoja de Excel ocupa 17.179.869.184 celdas (1.048.576 filas × 16.384")
    assert peak["bytes"] < 1 * MB


def test_a_cell_far_down_is_read_as_blank_rows_and_the_table_ends_after_1000():
    data = xlsx(sheet(HEADER + row(2, "1", "a") + f'<row r="1048576">{cell("A1048576", "tarde")}</row>'))
    tabla = reading.open_table(data, "x.xlsx")
    assert tabla.total == 1 and [n for n, _ in tabla.filas()] == [2]


def test_cells_without_references_are_placed_as_calamine_places_them():
    """Rows and cells without r="…" (a writer may omit them) are followed one by one: 500 rows
    of 16,000 empty cells are refused on the cell count, a small one reads."""
    wide = xlsx(
        chunks=[
            sheet("")[: -len("</sheetData></worksheet>")],
            *["<row>" + "<c/>" * 16_000 + "</row>"] * 500,
            "</sheetData></worksheet>",
        ]
    )
    assert len(wide) < 100 * 1024
    assert "La hoja de Excel ocupa" in refused(wide)
    small = "".join("<row>" + '<c t="inlineStr"><is><t>v</t></is></c>' * 3 + "</row>" for _ in range(200))
    tabla = reading.open_table(xlsx(sheet(small)), "x.xlsx")
    assert tabla.encabezados == ["v", "v", "v"] and tabla.total == 199


def test_the_grid_of_one_implicit_row_after_a_far_row_is_measured():
    """An implicit row continues from the far explicit one: 1,048,576 × 16,000 is refused."""
    body = HEADER + f'<row r="1048575">{cell("A1048575", "x")}</row>' + "<row>" + "<c/>" * 16_000 + "</row>"
    assert "1.048.576 filas" in refused(xlsx(sheet(body)))


# --- sizes: the zip bomb, a directory that lies, the huge cell ------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A 256 MB cell compressed into a small file (written a MB at a time)."""
    head = sheet(HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>')
    head = head[: head.index("</t>")]
    return xlsx(chunks=[head, *[b"a" * MB] * 256, "</t></is></c></row></sheetData></worksheet>"], level=1)


def test_a_zip_bomb_is_refused_from_its_directory_before_inflating(bomb):
    assert len(bomb) < 2 * MB
    with traced() as peak:
        message = refused(bomb)
    assert message.startswith("El archivo Excel ocupa 256 MB sin comprimir: el límite es 100 MB.")
    assert peak["bytes"] < 1 * MB  # nothing was inflated


def test_a_directory_that_lies_inflates_no_more_than_it_says():
    """The sheet says 1,000 bytes and inflates to 3 MB: zipfile stops at 1,000 and the CRC
    tells; calamine never reads the archive itself."""
    big = xlsx(sheet(HEADER + "".join(row(n, str(n), "x" * 20) for n in range(2, 60_000))))
    lying = declared_smaller(big)
    with traced() as peak:
        message = refused(lying)
    assert message.startswith("El archivo Excel no se puede abrir")
    inflated = zipfile.ZipFile(io.BytesIO(big)).getinfo("xl/worksheets/sheet1.xml").file_size
    assert inflated > 4 * MB and peak["bytes"] < 2 * MB


def test_a_run_without_a_tag_is_refused_while_inflating():
    """A 99 MB cell (under the uncompressed limit) is refused after 64 KB of it."""
    head = sheet(HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>')
    head = head[: head.index("</t>")]
    data = xlsx(chunks=[head, *[b"a" * MB] * 99, "</t></is></c></row></sheetData></worksheet>"], level=1)
    with traced() as peak:
        message = refused(data)
    assert "tiene un texto de más de 65.536 caracteres seguidos" in message
    assert peak["bytes"] < 4 * MB  # a block inflated at a time


# --- XML: entities, NULs ------------------------------------------------------------------


def test_entity_expansion_is_refused():
    laughs = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)).replace(
            "&lol0;", "&lol;"
        )
        + "]>"
    )
    data = xlsx(sheet(HEADER + row(2, "&lol9;", "x"), prolog=laughs))
    with traced() as peak:
        message = refused(data)
    assert message.startswith("El archivo Excel declara entidades XML (<!DOCTYPE>)")
    assert peak["bytes"] < 1 * MB


def test_an_undefined_entity_is_refused():
    message = refused(xlsx(sheet(HEADER + row(2, "&nada;", "x"))))
    assert message.startswith("El archivo Excel usa una entidad XML no definida")


@pytest.mark.parametrize("text", ["a&#0;b", "a\x00b"], ids=["reference", "byte"])
def test_a_nul_in_an_xlsx_cell_is_refused(text):
    assert refused(xlsx(sheet(HEADER + row(2, text, "x")))).startswith(
        "El archivo Excel tiene un carácter nulo"
    )


def test_a_nul_in_a_csv_cell_is_refused_with_its_line():
    message = refused("Cédula,Nombres\n1,Ana\n2,A\x00na\n".encode(), "x.csv")
    assert message.startswith("La línea 3 tiene un carácter nulo (NUL)")


def test_a_utf16_csv_says_how_to_save_it():
    assert "UTF-16" in refused("Cédula,Nombres\n1,Ana\n".encode("utf-16"), "x.csv")


def test_a_nul_in_the_file_name_is_refused():
    assert refused(b"Cedula\n1\n", "a\x00b.csv").startswith("El nombre del archivo tiene un carácter nulo")


# --- rows: blank runs, the row limit ---------------------------------------------------------


@pytest.mark.parametrize("blanks, read", [(999, [2, 1002]), (1000, [2]), (1001, [2])])
def test_the_table_ends_after_1000_blank_rows_in_a_row_csv(blanks, read):
    data = ("Cédula,Nombres\n1,Ana\n" + ",\n" * blanks + "2,Luis\n").encode()
    tabla = reading.open_table(data, "x.csv")
    assert [n for n, _ in tabla.filas()] == read and tabla.total == len(read)


@pytest.mark.parametrize("blanks, read", [(999, [2, 1002]), (1001, [2])])
def test_the_table_ends_after_1000_blank_rows_in_a_row_xlsx(blanks, read):
    far = 2 + blanks + 1
    data = xlsx(sheet(HEADER + row(2, "1", "Ana") + row(far, "2", "Luis")))
    tabla = reading.open_table(data, "x.xlsx")
    assert [n for n, _ in tabla.filas()] == read


def _rows_csv(n: int, blank_at: int | None = None) -> bytes:
    lines = ["Cédula,Nombres"] + [f"{i},a" for i in range(n)]
    if blank_at is not None:
        lines.insert(blank_at, ",")
    return ("\n".join(lines) + "\n").encode()


def test_200000_rows_read_and_200001_are_refused():
    assert reading.open_table(_rows_csv(200_000), "x.csv").total == 200_000
    assert refused(_rows_csv(200_001), "x.csv").startswith("El archivo tiene más de 200.000 filas")


def test_blank_rows_between_data_count_toward_the_limit_and_trailing_ones_do_not():
    assert refused(_rows_csv(200_000, blank_at=5), "x.csv").startswith(
        "El archivo tiene más de 200.000 filas"
    )
    trailing = _rows_csv(200_000) + b",\n" * 500
    assert reading.open_table(trailing, "x.csv").total == 200_000


# --- cells and lines ---------------------------------------------------------------------


def test_a_cell_of_1000_characters_reads_and_1001_is_refused_csv():
    assert reading.open_table(f"Cédula,Nombres\n1,{'a' * 1000}\n".encode(), "x.csv").total == 1
    message = refused(f"Cédula,Nombres\n1,{'a' * 1001}\n".encode(), "x.csv")
    assert (
        message == "Una celda de la fila 2, columna 2 pasa de 1.000 caracteres: acórtela o quite esa columna."
    )


def test_a_cell_of_1000_characters_reads_and_1001_is_refused_xlsx():
    assert reading.open_table(xlsx(sheet(HEADER + row(2, "1", "a" * 1000))), "x.xlsx").total == 1
    assert "pasa de 1.000 caracteres" in refused(xlsx(sheet(HEADER + row(2, "1", "a" * 1001))))


def test_columns_past_the_header_are_not_read():
    """A long cell past the header's last column is not a cell of the table."""
    data = xlsx(sheet(HEADER + row(2, "1", "Ana", "x" * 5000)))
    assert list(reading.open_table(data, "x.xlsx").filas()) == [(2, ["1", "Ana"])]
    csv_data = f"Cédula,Nombres,\n1,Ana,{'x' * 5000},más\n".encode()
    assert list(reading.open_table(csv_data, "x.csv").filas()) == [(2, ["1", "Ana"])]


def test_a_long_line_is_refused_without_being_held():
    """A 19 MB line (the upload's limit is 20 MB) is refused after 256 KB of it."""
    data = b"Cedula,Nombres\n1," + b"a" * (19 * MB) + b"\n"
    with traced() as peak:
        message = refused(data, "x.csv")
    assert message.startswith("La línea 2 pasa de 262.144 caracteres")
    assert peak["bytes"] < 3 * MB


def test_a_quoted_cell_over_many_lines_is_refused_by_its_length():
    data = b'Cedula,Nombres\n1,"' + b"a\n" * 100_000 + b'"\n'
    with traced() as peak:
        message = refused(data, "x.csv")
    assert "pasa de 1.000 caracteres" in message
    assert peak["bytes"] < 3 * MB


# --- bytes ---------------------------------------------------------------------------------


def test_the_upload_limit_just_under_and_just_over(app):
    app.config["IMPORT_MAX_BYTES"] = 4096
    data = b"Cedula,Nombres\n" + b"1,a\n" * 2000
    with app.app_context():
        assert reading.open_table(data[:4096], "x.csv").total > 0
        assert refused(data[:4097], "x.csv") == "El archivo pasa de 4 KB: divídalo en partes."


# --- through the upload page and the CLI -----------------------------------------------------

URL = "/admin/clientes/importar/"


def _upload(client, data: bytes, name: str):
    page = client.get(URL)
    assert page.status_code == 200 and b'data-testid="importar"' in page.data
    form = {"csrf_token": csrf_from(page.data), "modo": "crear", "errores": "omitir"}
    form["archivo"] = (io.BytesIO(data), name)
    return client.post(URL, data=form, content_type="multipart/form-data")


@pytest.mark.parametrize(
    "kind, message",
    [
        ("far", "La hoja de Excel ocupa 17.179.869.184 celdas"),
        ("bomb", "El archivo Excel ocupa 256 MB sin comprimir"),
        ("entities", "El archivo Excel declara entidades XML"),
        ("bytes", "El archivo pasa de 4 KB"),
    ],
)
def test_the_upload_page_says_why_a_hostile_file_is_refused(app, client, tenants, bomb, kind, message):
    files = {
        "far": (xlsx(sheet(HEADER + f'<row r="1048576">{cell("XFD1048576", "x")}</row>')), "c.xlsx"),
        "bomb": (bomb, "c.xlsx"),
        "entities": (xlsx(sheet(HEADER, prolog='<!DOCTYPE x [<!ENTITY a "b">]>')), "c.xlsx"),
        "bytes": (b"Cedula,Nombres\n" + b"1,a\n" * 2000, "c.csv"),
    }
    if kind == "bytes":
        app.config["IMPORT_MAX_BYTES"] = 4096
    login(client, tenants.admin_a.email)
    response = _upload(client, *files[kind])
    if kind == "bytes":  # refused on the upload page itself, before anything is stored
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
        assert 'data-testid="error-archivo"' in response.get_data(as_text=True)
        return
    # The upload answers at once (SPEC §17); the preview, read in the background, says why.
    assert response.status_code == 302
    job_id = job_id_of(response.headers["Location"])
    assert wait_until_done(client, job_id)["estado"] == "previsualizada"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="problemas"' in page and message in page


def test_the_upload_page_refuses_a_nul_in_the_file_name(client, tenants):
    """Refused before the view (a 400 page that says why); reading.open_table refuses it too
    for the CLI and any other caller."""
    login(client, tenants.admin_a.email)
    response = _upload(client, b"Cedula,Nombres\n1020,Ana\n", "c\x00.csv")
    assert response.status_code == 400
    assert "El nombre del archivo contiene caracteres no permitidos" in response.get_data(as_text=True)


def test_the_cli_refuses_a_zip_bomb_in_one_line(runner, tenants, tmp_path, bomb):
    path = tmp_path / "bomba.xlsx"
    path.write_bytes(bomb)
    result = runner.invoke(args=["import-clientes", str(path), "--email", tenants.admin_a.email])
    assert result.exit_code == 2
    assert "El archivo Excel ocupa 256 MB sin comprimir" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_limits_are_the_specs():
    assert (limites.MAX_BYTES, limites.MAX_DESCOMPRIMIDO) == (20 * MB, 100 * MB)
    assert (limites.MAX_CELDA, limites.MAX_FILAS, limites.MAX_BLANCAS) == (1000, 200_000, 1000)


def test_a_declaration_split_across_two_inflated_blocks_is_seen():
    scanner = libro.Scanner("xl/styles.xml")
    scanner.feed(b'<?xml version="1.0"?><!DOC')
    with pytest.raises(reading.ArchivoIlegible, match="declara entidades XML"):
        scanner.feed(b'TYPE x [<!ENTITY a "b">]><styleSheet/>')


def test_a_huge_shared_string_is_refused_while_inflating():
    scanner = libro.Scanner("xl/sharedStrings.xml")
    with pytest.raises(reading.ArchivoIlegible, match="más de 65.536 caracteres seguidos"):
        scanner.feed(b"<sst><si><t>" + b"a" * 70_000)
