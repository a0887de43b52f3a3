"""The rejected rows as a CSV (SPEC §17): the file's own columns, its row number and the errors,
every cell through the formula-safe exporter (panel/export.py), so a spreadsheet opening it
evaluates nothing; the importer removes that apostrophe again, so the file corrected imports back."""

import csv
import io

from ..export import seguro
from .rows import Fila


class Rechazos:
    def __init__(self, encabezados: list[str], delimiter: str = ","):
        self.buffer = io.StringIO()
        self.buffer.write("\ufeff")
        self.writer = csv.writer(self.buffer, delimiter=delimiter)
        self.writer.writerow([seguro(h) for h in [*encabezados, "fila", "error"]])
        self.width = len(encabezados)

    def add(self, fila: Fila) -> None:
        cells = [seguro(c) for c in fila.celdas[: self.width]]
        cells += [""] * (self.width - len(cells))
        self.writer.writerow([*cells, fila.numero, seguro(fila.error)])

    def content(self) -> bytes:
        return self.buffer.getvalue().encode("utf-8")
