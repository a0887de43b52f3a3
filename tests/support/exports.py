"""Reading an export as a person's spreadsheet would: the download, its CSV or XLSX rows."""

import csv
import io

from openpyxl import load_workbook


def download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200 and response.is_streamed, url
    return response


def read_csv(response, separador: str) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "sin BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=separador))


def read_xlsx(response):
    return load_workbook(io.BytesIO(response.get_data())).active


def by_header(rows: list[list]) -> list[dict]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
