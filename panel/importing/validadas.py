"""What the preview validated, kept for the run: one validation of the file, not two (SPEC §17's
two steps; B6 spent half its CPU validating every row again after the preview had).

Kept: each row the preview found valid — its values as they will be saved, its warnings, whether
the file said its consent, the new empresa it names — compressed as the chunks come, behind the
fingerprint of what they were validated under (the mapping, the mode, the options, the date
order). Only a create-only import keeps rows: an update reads the stored client, which may have
changed since, so it validates again.

The run takes a kept row as it is only after the checks made at the last moment (``vigente``):
its document not taken since (by another user, or by an earlier row of the file that is valid
now), its municipio, país, empresa and campaña still there, a new empresa still not created by
someone else. Every other row — one with errors in the preview, one that fails a check, all of
them when the fingerprint differs — goes through ClienteForm again. The database's unique key on
the document stays the last word (service._write_chunk).
"""

import hashlib
import json
import sys
import zlib
from collections.abc import Iterator
from datetime import date

FORMATO = 2  # raise it when what a kept row holds (or how it was validated) changes
_SLICE = 1 << 16


def huella(mapping: dict[int, str], actualizar: bool, opciones, orden_fechas: str | None) -> bytes:
    """What the rows were validated under, as 32 hex digits."""
    said = [FORMATO, sorted(mapping.items()), actualizar]
    said += [opciones.crear_empresas, opciones.id_ciudad, orden_fechas]
    return hashlib.sha256(json.dumps(said).encode()).hexdigest()[:32].encode()


class Registro:
    """The preview's rows, a line each (``[número]`` for a row with errors), compressed. A kept
    row's values are a list in the order of the names on the line before the first one (no key
    repeated per row: 4 MB for 100,000 rows, not 6)."""

    def __init__(self):
        self._zip = zlib.compressobj(6)
        self._partes: list[bytes] = []
        self._claves: list[str] | None = None

    def add(self, filas) -> None:
        lines = []
        for fila in filas:
            if fila.errores or fila.valores is None:
                lines.append(json.dumps([fila.numero]))
                continue
            if self._claves is None:
                self._claves = list(fila.valores)
                lines.append(json.dumps({"claves": self._claves}))
            lines.append(json.dumps(_kept(fila, self._claves), ensure_ascii=False, default=str))
        if lines:
            self._partes.append(self._zip.compress(("\n".join(lines) + "\n").encode()))

    def content(self, firma: bytes) -> bytes:
        partes, self._partes = self._partes, []  # one copy of the bytes, not three
        return b"".join([firma, b"\n", *partes, self._zip.flush()])


def _kept(fila, claves: list[str]) -> list:
    nueva = fila.empresa_nueva
    empresa = None if nueva is None else [nueva.nombre, nueva.nit]
    return [fila.numero, [fila.valores[k] for k in claves], fila.avisos, fila.acepta_dicho, empresa]


def leer(contenido: bytes | None, firma: bytes) -> Iterator[list] | None:
    """The kept rows in the file's order (a kept row's values as a dict again), or None when
    there are none or they were validated under something else."""
    if not contenido or not contenido.startswith(firma + b"\n"):
        return None
    return _rows(_lines(contenido, len(firma) + 1))


def _rows(lines: Iterator[bytes]) -> Iterator[list]:
    claves: list[str] = []
    for line in lines:
        row = json.loads(line)
        if isinstance(row, dict):  # the names of the values, before the first kept row
            claves = row["claves"]
            continue
        if len(row) > 1:
            row[1] = dict(zip(claves, row[1], strict=True))
        yield row


def _lines(contenido: bytes, start: int) -> Iterator[bytes]:
    """The decompressed lines, a slice at a time (never the whole text in memory)."""
    unzip, rest = zlib.decompressobj(), b""
    for at in range(start, len(contenido), _SLICE):
        rest += unzip.decompress(contenido[at : at + _SLICE])
        *lines, rest = rest.split(b"\n")
        yield from lines
    rest += unzip.flush()
    yield from (line for line in rest.split(b"\n") if line)


def valores(kept: dict) -> dict:
    """A kept row's values as the writer takes them (JSON has no dates). The document's type is
    one of seven words, each read back as a new string per row: interned, the file's documents
    (``Lector.vistas``, 100,000 keys in B6) share seven strings instead of holding one each."""
    fecha = kept.get("fecha_nacimiento")
    return kept | {
        "fecha_nacimiento": date.fromisoformat(fecha) if fecha else None,
        "tipo_documento": sys.intern(kept["tipo_documento"]),
    }


def vigente(catalogo, vistas: dict, valores: dict, empresa: list | None) -> bool:
    """The last moment's checks of a kept row against the catalogue loaded by the run."""
    documento = (valores["tipo_documento"], valores["cedula_cliente"])
    if documento in catalogo.cedulas or documento in vistas:
        return False
    if valores["id_ciudad"] not in catalogo.ciudades or valores["id_pais"] not in catalogo.paises:
        return False
    for campo, ids in (("id_empresa", catalogo.empresas), ("id_campana", catalogo.campanas)):
        if valores[campo] is not None and valores[campo] not in ids:
            return False
    if empresa is not None:  # still to create: unless someone created it since
        nombre, nit = empresa
        return not ((nit and catalogo.empresa_nit(nit)) or catalogo.empresa(nombre))
    return True
