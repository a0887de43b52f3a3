"""The rejected rows as a CSV (SPEC §17): the file's own columns, its row number and the errors,
every cell through the formula-safe exporter (panel/export.py), so a spreadsheet opening it
evaluates nothing; the importer removes that apostrophe again, so the file corrected imports back."""

import csv
import io

from ..export import seguro
from .rows import Fila


class Rechazos:
    """A resumed import continues the CSV its last checkpoint kept (``previas``)."""

    def __init__(self, encabezados: list[str], delimiter: str = ",", previas: bytes | None = None):
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, delimiter=delimiter)
        self.width, self.filas = len(encabezados), 0
        if previas:
            self.buffer.write(previas.decode("utf-8"))
        else:
            self.buffer.write("\ufeff")
            self.writer.writerow([seguro(h) for h in [*encabezados, "fila", "error"]])

    def add(self, fila: Fila) -> None:
        cells = [seguro(c) for c in fila.celdas[: self.width]]
        cells += [""] * (self.width - len(cells))
        self.writer.writerow([*cells, fila.numero, seguro(fila.error)])
        self.filas += 1

    def content(self) -> bytes:
        return self.buffer.getvalue().encode("utf-8")
