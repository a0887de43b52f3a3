"""Every row of a file through ``ClienteForm`` (the one validation), a chunk at a time.

The form's rules are untouched; only where it loads things changes for an import of 200,000
rows: its choice lists come from the :class:`Catalogo` loaded once per import, and the document's
uniqueness (tipo, número) is checked against the tenant's documents loaded with it (in update
mode an existing document is the client to update, not an error).
"""

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import sqlalchemy as sa

from .. import identificacion, municipios
from ..extensions import db
from ..forms.cliente_form import ClienteForm
from ..models import Cliente
from ..models.clients import search_document
from ..phones import e164
from . import cells, validadas
from .catalogo import Catalogo
from .columns import CAMPOS
from .empresas import MAX_NOMBRE, Nueva, Nuevas
from .opciones import Opciones
from .reading import MAX_FILAS, ArchivoIlegible, Tabla
from .reglas import Reglas

CHUNK = 1000
SAVED = tuple(f for f in ClienteForm.WRITABLE if f != "id_usuario")  # an import never links accounts
# A form field → the file's field that feeds it (ids come from names).
SOURCE = {"id_ciudad": "ciudad", "id_pais": "pais", "id_empresa": "empresa", "id_campana": "campana"}
# Read only beside another column: the departamento tells a repeated municipio, the NIT an empresa.
CONTEXT = ("departamento", "nit_empresa")
NOT_INPUT = frozenset((*SOURCE.values(), *CONTEXT))  # cells read by _references, not as form input
# The fields a new client gets a default for when its file says nothing (SPEC §17: each named on
# the preview with its row count): the file's field and the form's.
POR_DEFECTO = {
    "tipo_documento": "tipo_documento",
    "pais": "id_pais",
    "ciudad": "id_ciudad",
    "estado": "estado",
    "acepta_sms": "acepta_sms",
}


class ImportForm(ClienteForm):
    """``ClienteForm`` with its choice lists and the tenant's documents given, not queried per row."""

    def __init__(self, *args, catalogo: Catalogo, choices: dict, actualizar: bool, **kwargs):
        self._catalogo, self._choices, self._actualizar = catalogo, choices, actualizar
        super().__init__(*args, meta={"csrf": False}, **kwargs)

    def _load_choices(self) -> None:
        for name, choices in self._choices.items():
            self[name].choices = choices

    def ciudad(self, id_ciudad: int):
        found = self._catalogo.ciudades.get(id_ciudad)
        return None if found is None else SimpleNamespace(id=id_ciudad, nombre=found[0], id_pais=found[1])

    def pais(self, id_pais: int):
        found = self._catalogo.paises.get(id_pais)
        return None if found is None else SimpleNamespace(id=id_pais, nombre=found[0], codigo_iso=found[1])

    def duplicate(self, tipo: str, numero: str) -> bool:
        return not self._actualizar and (tipo, numero) in self._catalogo.cedulas


@dataclass
class Fila:
    """One row of the file: what will be saved, or why it will not."""

    numero: int
    celdas: list
    valores: dict | None = None
    errores: list[tuple[str, str]] = field(default_factory=list)  # (columna, mensaje)
    avisos: list[tuple[str, str]] = field(default_factory=list)  # (columna, mensaje): still imports
    por_defecto: tuple[str, ...] = ()  # the POR_DEFECTO fields this new client got by default
    empresa_nueva: Nueva | None = None  # an empresa the import creates for this row
    id_cliente: int | None = None  # the client this row updates
    acepta_antes: bool | None = None  # the stored consent of that client
    acepta_dicho: bool = False  # the file says yes or no (not a default)

    @property
    def error(self) -> str:
        return "; ".join(f"{c}: {m}" if c else m for c, m in self.errores)


def _stored_inputs(row) -> dict[str, str]:
    """A stored client as form input, so that blank cells keep its values in update mode."""

    def text(value):
        return "" if value is None else str(value)

    return {
        "tipo_documento": row.tipo_documento,
        "cedula_cliente": row.cedula_cliente,
        "nombre_cliente": text(row.nombre_cliente),
        "apellido_cliente": text(row.apellido_cliente),
        "fecha_nacimiento": row.fecha_nacimiento.isoformat() if row.fecha_nacimiento else "",
        "email": text(row.email),
        "genero": text(row.genero),
        "telefono": text(row.telefono),
        "id_ciudad": text(row.id_ciudad),
        "id_pais": text(row.id_pais),
        "id_empresa": text(row.id_empresa),
        "id_campana": text(row.id_campana),
        "estado": text(row.estado),
        "acepta_sms": "y" if row.acepta_sms else "",
    }


class Lector:
    """Reads, converts and validates the rows of one file for one tenant (the scope in force)."""

    def __init__(
        self,
        tabla: Tabla,
        mapping: dict[int, str],
        actualizar: bool,
        catalogo: Catalogo | None = None,
        opciones: Opciones | None = None,
        previas: Iterator[list] | None = None,
    ):
        self.tabla, self.mapping, self.actualizar = tabla, mapping, actualizar
        self.opciones = opciones or Opciones()
        self.nuevas = Nuevas()  # the empresas this file names that do not exist yet
        self.orden_fechas = self.opciones.fechas  # decided on the first chunk when not given
        self._readers: dict | None = None
        self.catalogo = catalogo or Catalogo.load()
        self.form = ImportForm(
            formdata=None, catalogo=self.catalogo, choices=self.catalogo.choices(), actualizar=actualizar
        )
        self.reglas = Reglas(self.form)  # one form per import, its rules run row after row
        self.columna = {campo: tabla.encabezados[i] or CAMPOS[campo] for i, campo in mapping.items()}
        self._mapped = tuple(mapping.items())  # read for every row
        self.vistas: dict[tuple[str, str], int] = {}  # (tipo, número) → the file's row that had it first
        self.previas = previas  # the rows the preview kept (validadas.py), in the file's order
        self.reusadas = 0  # rows taken from the preview, not validated again

    def chunks(self, size: int = CHUNK) -> Iterator[list[Fila]]:
        """The file's rows read, converted and validated, a chunk at a time (paralelo.py does the
        same in two processes for a large preview)."""
        self.decide_dates()
        for batch in self.batches(size):
            yield self.check([Fila(n, c) for n, c in batch])

    def decide_dates(self) -> None:
        if self.orden_fechas is None:
            self.orden_fechas = self.date_order()

    def batches(self, size: int = CHUNK) -> Iterator[list[tuple[int, list]]]:
        """The file's numbered rows, ``size`` at a time, within the row limit."""
        rows = self.tabla.filas()
        count = 0
        while batch := list(itertools.islice(rows, size)):
            count += len(batch)
            if count > MAX_FILAS:
                raise ArchivoIlegible(
                    f"El archivo tiene más de {MAX_FILAS:,} filas: divídalo.".replace(",", ".")
                )
            yield batch

    def date_order(self) -> str:
        """The date column's order, from a look at the column before any row is judged (it stops
        at the first value that proves day-first)."""
        index = next((i for i, c in self.mapping.items() if c == "fecha_nacimiento"), None)
        if index is None:
            return cells.DIA_MES
        rows = itertools.islice(self.tabla.filas(), MAX_FILAS)
        return cells.orden_fechas(c[index] if index < len(c) else None for _, c in rows)

    def check(self, filas: list[Fila]) -> list[Fila]:
        """Convert and validate a chunk of rows (one query for the stored clients it updates)."""
        stored = self._stored(filas) if self.actualizar else {}
        for fila in filas:
            if not self._reuse(fila):
                self._check_row(fila, stored)
                self.claim(fila)
        return filas

    def validate(self, filas: list[Fila]) -> list[Fila]:
        """A chunk of a create-only file converted and validated on its own, the parts that
        depend on the rows before it left to :meth:`settle` (paralelo.py's workers)."""
        for fila in filas:
            self._check_row(fila, {})
        return filas

    def settle(self, filas: list[Fila]) -> list[Fila]:
        """What depends on the file's order, for a chunk :meth:`validate` made elsewhere, in
        order: each row's new empresa named here (the first spelling names it), then its document
        claimed. The same rows as :meth:`check` makes."""
        for fila in filas:
            if fila.empresa_nueva is not None:
                fila.empresa_nueva = self.nuevas.named(fila.empresa_nueva.nombre, fila.empresa_nueva.nit)
            self.claim(fila)
        return filas

    def claim(self, fila: Fila) -> None:
        """A valid row's document is the file's from here on; a later row repeating it is
        refused, and keeps nothing of what it would have saved."""
        if fila.errores or fila.valores is None:
            return
        cedula = (fila.valores["tipo_documento"], fila.valores["cedula_cliente"])
        if cedula not in self.vistas:
            self.vistas[cedula] = fila.numero
            return
        fila.errores.append(
            (self._column("cedula_cliente"), f"Cédula repetida en el archivo (fila {self.vistas[cedula]}).")
        )
        fila.valores, fila.acepta_dicho, fila.por_defecto = None, False, ()
        fila.id_cliente = fila.acepta_antes = None

    def _reuse(self, fila: Fila) -> bool:
        """The row as the preview validated it, when it kept it and it passes the last moment's
        checks (validadas.vigente); False: the row is validated now."""
        if self.previas is None:
            return False
        kept = next(self.previas, None)
        if kept is None or kept[0] != fila.numero:  # not the file the preview read: no more reuse
            self.previas = None
            return False
        if len(kept) == 1:  # errors in the preview: what does it say now?
            return False
        _, valores, avisos, dicho, empresa = kept
        valores = validadas.valores(valores)
        if not validadas.vigente(self.catalogo, self.vistas, valores, empresa):
            return False
        self.vistas[valores["tipo_documento"], valores["cedula_cliente"]] = fila.numero
        fila.valores, fila.avisos, fila.acepta_dicho = valores, [tuple(a) for a in avisos], dicho
        if empresa is not None:
            fila.empresa_nueva = self.nuevas.named(*empresa)
        self.reusadas += 1
        return True

    def _raw(self, fila: Fila) -> dict[str, object]:
        """{campo: cell} of the mapped columns whose cell is not blank."""
        raw, celdas = {}, fila.celdas
        width = len(celdas)
        for index, campo in self._mapped:
            if index < width and (value := celdas[index]) is not None and cells.plain(value) != "":
                raw[campo] = value
        return raw

    def _stored(self, filas: list[Fila]) -> dict[str, object]:
        wanted = {self.catalogo.cedulas.get(self._documento(f)) for f in filas} - {None}
        if not wanted:
            return {}
        table = Cliente.__table__
        rows = db.session.execute(sa.select(table).where(table.c.id_cliente.in_(wanted)))
        return {(r.tipo_documento, r.cedula_cliente): r for r in rows}

    def _cell(self, fila: Fila, campo: str) -> str:
        index = next((i for i, c in self.mapping.items() if c == campo), None)
        return cells.plain(fila.celdas[index] if index is not None and index < len(fila.celdas) else None)

    def _documento(self, fila: Fila) -> tuple[str, str]:
        """The row's (tipo, número) as stored: how an update finds its client."""
        tipo = identificacion.tipo_de(self._cell(fila, "tipo_documento")) or identificacion.POR_DEFECTO
        return tipo, identificacion.normalizado(tipo, self._cell(fila, "cedula_cliente"))

    def _check_row(self, fila: Fila, stored: dict) -> None:
        raw = self._raw(fila)
        previous = stored.get(self._documento(fila)) if stored else None
        inputs = _stored_inputs(previous) if previous is not None else {"acepta_sms": "y"}
        inputs |= self._inputs(raw, inputs, fila)
        form = self.form
        if not self.reglas.validate(inputs):  # the form's process + validate, without the repeats
            unread = {c for c, _ in fila.errores}  # a cell already refused: not twice
            for name, messages in form.errors.items():
                if self._column(name) not in unread:
                    fila.errores.extend((self._column(name), m) for m in messages)
        if fila.errores:
            return
        valores = {name: form[name].data for name in SAVED}  # its document is claimed next (claim)
        fila.valores = valores | self.derived(valores)
        fila.acepta_dicho = "acepta_sms" in raw
        if previous is not None:
            fila.id_cliente, fila.acepta_antes = previous.id_cliente, bool(previous.acepta_sms)
        else:
            fila.por_defecto = tuple(c for c in POR_DEFECTO if c not in raw)

    def _inputs(self, raw: dict, base: dict, fila: Fila) -> dict[str, str]:
        """The row's cells as form input; a cell that cannot be read becomes a row error."""
        readers = self._readers or self._make_readers()
        inputs: dict[str, str] = {}
        for campo, value in raw.items():
            if campo in NOT_INPUT:
                continue
            try:
                inputs[campo] = readers.get(campo, cells.plain)(value)
            except cells.CellError as exc:
                fila.errores.append((self.columna[campo], str(exc)))
            except cells.Aviso as exc:
                fila.avisos.append((self.columna[campo], str(exc)))
                if exc.valor:
                    inputs[campo] = exc.valor
        self._references(raw, base | inputs, inputs, fila)
        return inputs

    def _make_readers(self) -> dict:
        """The cell readers by field, once the date column's order is known."""
        self._readers = {
            "fecha_nacimiento": functools.partial(cells.fecha, orden=self.orden_fechas or cells.DIA_MES),
            "telefono": cells.telefono,
            "genero": cells.genero,
            "estado": cells.estado,
            "acepta_sms": cells.si_no,
            "tipo_documento": cells.tipo_documento,
        }
        return self._readers

    def _references(self, raw: dict, current: dict, inputs: dict, fila: Fila) -> None:
        """País, ciudad (within that país), empresa and campaña by name or id."""
        self._lookup(raw, inputs, fila, "pais", self.catalogo.pais, "No existe el país «{}».")
        if "empresa" in raw or "nit_empresa" in raw:
            self._empresa(raw, inputs, fila)
        self._lookup(raw, inputs, fila, "campana", self.catalogo.campana, "No existe la campaña «{}».")
        if "ciudad" not in raw and self.opciones.id_ciudad and not current.get("id_ciudad"):
            inputs["id_ciudad"] = str(self.opciones.id_ciudad)  # the file's default municipio
        if "ciudad" in raw:
            pais = inputs.get("id_pais", current.get("id_pais") or "1")
            departamento = cells.plain(raw["departamento"]) if "departamento" in raw else None
            try:
                found = self.catalogo.ciudad(
                    cells.plain(raw["ciudad"]), int(pais) if pais.isdigit() else None, departamento
                )
            except municipios.MunicipioError as exc:
                fila.errores.append((self.columna["ciudad"], str(exc)))
            else:
                inputs["id_ciudad"] = str(found)

    def _lookup(self, raw: dict, inputs: dict, fila: Fila, campo: str, lookup, missing: str) -> None:
        if campo in raw:
            found = lookup(cells.plain(raw[campo]))
            if found is None:
                fila.errores.append((self.columna[campo], missing.format(cells.plain(raw[campo]))))
            else:
                inputs[f"id_{campo}"] = str(found)

    def _empresa(self, raw: dict, inputs: dict, fila: Fila) -> None:
        """The row's empresa by its NIT or its name; one that does not exist is created by the
        import (when the user keeps that choice), else the row's error."""
        nombre, nit = cells.plain(raw.get("empresa")), None
        if "nit_empresa" in raw:
            escrito = cells.plain(raw["nit_empresa"])
            nit = identificacion.nit_escrito(escrito)
            if problema := identificacion.problema_nit(nit):
                fila.errores.append((self.columna["nit_empresa"], f"NIT «{escrito}» no válido: {problema}"))
                return
        found = (nit and self.catalogo.empresa_nit(nit)) or (nombre and self.catalogo.empresa(nombre))
        if found:
            inputs["id_empresa"] = str(found)
        elif not nombre:
            fila.avisos.append(
                (self.columna["nit_empresa"], "NIT sin nombre de empresa: el cliente queda sin empresa.")
            )
        elif not self.opciones.crear_empresas:
            fila.errores.append(
                (
                    self.columna["empresa"],
                    f"No existe la empresa «{nombre}» (marque «Crear las empresas que no existan»).",
                )
            )
        elif len(nombre) > MAX_NOMBRE:
            fila.errores.append(
                (self.columna["empresa"], f"El nombre de la empresa pasa de {MAX_NOMBRE} caracteres.")
            )
        else:
            fila.empresa_nueva = self.nuevas.named(nombre, nit)

    def _column(self, name: str) -> str:
        campo = SOURCE.get(name, name)
        return self.columna.get(campo, CAMPOS.get(campo, name))

    # --- what a saved row holds beyond the form's fields ------------------------------------

    def derived(self, valores: dict) -> dict:
        """telefono_e164 and busqueda, exactly as the ORM's hooks derive them."""
        telefono_e164 = e164(valores["telefono"], self.catalogo.region(valores["id_pais"]))
        doc = search_document(SimpleNamespace(**valores, telefono_e164=telefono_e164))
        return {"telefono_e164": telefono_e164, "busqueda": doc}
