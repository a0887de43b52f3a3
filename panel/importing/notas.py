"""What the preview says beside the errors (SPEC §17): each row's warnings by row and column,
every default a new client gets and to how many rows ("Ciudad: Bogotá, D.C. (por defecto) en 182
filas"), and the empresas the import will create. Nothing is defaulted or created unsaid."""

from collections import Counter

from .. import campos, formatting, identificacion
from .rows import POR_DEFECTO, Fila, Lector

MAX_AVISOS = 1000  # warnings listed on the preview page


class Notas:
    """Collected over every chunk of one pass; ``vista()`` is what the preview page shows."""

    def __init__(self, lector: Lector):
        self.lector = lector
        self.avisos: list[list] = []
        self.con_avisos = 0  # rows that import with a warning
        self.defectos: Counter = Counter()  # (field, value) → rows
        self.empresas: Counter = Counter()  # Nueva → rows that import with it

    def add(self, filas: list[Fila]) -> None:
        for fila in filas:
            room = MAX_AVISOS - len(self.avisos)
            self.avisos.extend([fila.numero, c, m] for c, m in fila.avisos[: max(room, 0)])
            if fila.errores:
                continue
            self.con_avisos += bool(fila.avisos)
            for campo in fila.por_defecto:
                self.defectos[campo, fila.valores[POR_DEFECTO[campo]]] += 1
            if fila.empresa_nueva is not None:
                self.empresas[fila.empresa_nueva] += 1

    def vista(self) -> dict:
        return {
            "orden_fechas": self.lector.orden_fechas,  # the run reads the dates as the preview did
            "avisos": self.avisos,
            "con_avisos": self.con_avisos,
            "por_defecto": [
                {"campo": campo, "texto": self.default_line(campo, valor, filas), "filas": filas}
                for (campo, valor), filas in sorted(self.defectos.items(), key=_in_field_order)
            ],
            "empresas_nuevas": [
                {
                    "nombre": n.nombre,
                    "nit": identificacion.mostrado("NIT", n.nit) if n.nit else "",
                    "filas": filas,
                }
                for n, filas in sorted(self.empresas.items(), key=lambda kv: kv[0].nombre.lower())
            ],
        }

    def default_line(self, campo: str, valor, filas: int) -> str:
        """'Ciudad: Bogotá, D.C. (por defecto) en 182 filas'."""
        return f"{campos.etiqueta(campo)}: {self.shown(campo, valor)} (por defecto) en {_filas(filas)}"

    def shown(self, campo: str, valor) -> str:
        cat = self.lector.catalogo
        if campo == "ciudad":
            return cat.ciudad_label(valor) or "—"
        if campo == "pais":
            return cat.paises.get(valor, ("—", ""))[0]
        if campo == "tipo_documento":
            return f"{valor} ({identificacion.TIPOS.get(valor, valor)})"
        if campo == "estado":
            return formatting.label("estado_cliente", valor)
        return formatting.yes_no(valor)


def empresa_mostrada(catalogo, fila: Fila) -> str:
    """A row's empresa on the preview's sample: one the import will create says so."""
    if fila.empresa_nueva is not None:
        return f"{fila.empresa_nueva.nombre} (nueva)"
    return catalogo.empresas.get(fila.valores["id_empresa"], "")


def _in_field_order(item) -> int:
    return list(POR_DEFECTO).index(item[0][0])


def _filas(n: int) -> str:
    return "1 fila" if n == 1 else f"{n:,} filas".replace(",", ".")
