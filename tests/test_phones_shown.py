"""Phones: stored in E.164 (sent and searched), shown in one national form for Colombian numbers,
international with + otherwise, on the list, in the details and in the spreadsheets (as text)."""

import pytest
import sqlalchemy as sa

from panel import formatting
from panel.extensions import db
from panel.models import Cliente, Usuario

from . import factories
from .helpers import login
from .support.exports import by_header, download, read_csv, read_xlsx


@pytest.mark.parametrize(
    "stored,shown",
    [
        ("+573001234567", "300 123 4567"),
        ("3125881006", "312 588 1006"),  # typed national, never made E.164
        ("573236135754", "323 613 5754"),  # typed with the country code, no +
        ("+576013456789", "(601) 345 6789"),  # a Bogotá landline
        ("+584121234567", "+58 412-1234567"),  # Venezuela: international with +
        ("+12025550123", "+1 202-555-0123"),
        ("12ab", "12ab"),  # not a number: as it is
        (None, ""),
    ],
)
def test_a_phone_reads_in_one_form(stored, shown):
    assert formatting.phone(stored) == shown


@pytest.fixture
def three(app, tenants):
    """One mobile written three ways, as the issue found them side by side, and a landline."""
    a = db.session.get(Usuario, tenants.admin_a.id)
    for nombre, telefono in [("Uno", "573236135754"), ("Dos", "+573024361986"), ("Tres", "3125881006")]:
        factories.cliente(a, nombre_cliente=nombre, telefono=telefono)
    factories.cliente(a, nombre_cliente="Fijo", telefono="6013456789")
    return tenants


def test_the_list_and_the_details_show_the_national_form(client, three):
    login(client, "admin.a@test.co")
    page = client.get("/admin/clientes/").get_data(as_text=True)
    for shown in ("323 613 5754", "302 436 1986", "312 588 1006", "(601) 345 6789"):
        assert shown in page
    for typed in ("573236135754", "+573024361986", "3125881006"):
        assert typed not in page
    uno = db.session.scalar(sa.select(Cliente.id_cliente).where(Cliente.nombre_cliente == "Uno"))
    details = client.get(f"/admin/clientes/details/?id={uno}").get_data(as_text=True)
    assert "323 613 5754" in details and "573236135754" not in details


@pytest.mark.parametrize(
    "query", ["302 436 1986", "+57 302 436 1986", "3024361986", "573024361986", "+573024361986"]
)
def test_search_finds_a_phone_in_every_written_form(client, three, query):
    login(client, "admin.a@test.co")
    page = client.get("/admin/clientes/", query_string={"search": query}).get_data(as_text=True)
    assert "302 436 1986" in page  # Dos
    assert "323 613 5754" not in page and "312 588 1006" not in page  # and only Dos


def test_spreadsheets_get_the_national_form_as_text_and_the_plain_csv_e164(client, three):
    login(client, "admin.a@test.co")
    excel = by_header(read_csv(download(client, "/admin/clientes/exportar/csv-excel/"), ";"))
    assert {r["Nombres"]: r["Teléfono"] for r in excel} == {
        "Uno": "323 613 5754",
        "Dos": "302 436 1986",
        "Tres": "312 588 1006",
        "Fijo": "(601) 345 6789",
    }
    plain = by_header(read_csv(download(client, "/admin/clientes/exportar/csv/"), ","))
    assert {r["Teléfono"] for r in plain} == {
        "+573236135754",
        "+573024361986",
        "+573125881006",
        "+576013456789",
    }
    sheet = read_xlsx(download(client, "/admin/clientes/exportar/xlsx/"))
    column = [c.value for c in sheet[1]].index("Teléfono")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert {c.value for c in cells} == {"323 613 5754", "302 436 1986", "312 588 1006", "(601) 345 6789"}
    assert {c.data_type for c in cells} == {"s"}  # text: the spreadsheet keeps it as written
