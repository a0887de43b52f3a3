"""``flask import-clientes``: the same import from the shell, for the tenant of one admin."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import tenancy
from ..extensions import db
from ..models import Usuario
from . import columns, estado, limites, reading, service
from .rows import Lector

MOSTRADOS = 50  # row errors printed before the summary


class Rechazado(Exception):
    """The command cannot run: one clear line, exit status 2."""


@dataclass
class Salida:
    resumen: service.Resumen
    errores: list[str] = field(default_factory=list)
    rechazado: bool = False  # --todo-o-nada and some row had errors


def admin_for(email: str) -> Usuario:
    """The admin whose tenant receives the rows (the operator acts outside any tenant)."""
    table = Usuario.__table__
    row = db.session.execute(
        sa.select(table.c.id, table.c.rol, table.c.activo).where(table.c.email == email.strip().lower())
    ).first()
    if row is None:
        raise Rechazado(f"No existe un usuario con el correo {email}.")
    if row.rol != "admin":
        raise Rechazado(f"{email} no es un administrador: las filas van al tenant de un admin.")
    with tenancy.using(tenancy.EVERY_TENANT):
        return db.session.get(Usuario, row.id)


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read(limites.max_bytes() + 1)  # open_table refuses a larger one
    except OSError as exc:
        raise Rechazado(f"No se puede leer el archivo {path}: {exc.strerror}.") from None


def run(
    path: str, email: str, actualizar: bool, dry_run: bool, todo_o_nada: bool, columnas: tuple = ()
) -> Salida:
    """Import (or with ``dry_run`` only validate) a file for the tenant of ``email``; ``columnas``
    are ``--columna "Encabezado=campo"`` corrections of the guessed mapping."""
    admin = admin_for(email)
    data = read(path)
    try:
        tabla = reading.open_table(data, path)
    except reading.ArchivoIlegible as exc:
        raise Rechazado(f"{path}: {exc}") from None
    try:
        mapping = columns.override(columns.guess(tabla.encabezados), tabla.encabezados, list(columnas))
    except columns.ColumnaDesconocida as exc:
        raise Rechazado(f"{path}: {exc}") from None
    if problemas := columns.problems(mapping, tabla.encabezados):
        raise Rechazado(f"{path}: {' '.join(problemas)}")
    salida = _validate(tabla, mapping, admin.id, actualizar)
    if dry_run or (todo_o_nada and salida.resumen.con_errores):
        salida.rechazado = todo_o_nada and salida.resumen.con_errores > 0
        return salida
    nombre, mapeo = path.rsplit("/", 1)[-1], columns.to_json(mapping)
    job = service.create(
        data, nombre, admin.id, admin.id, confirmada=True, actualizar=actualizar, mapeo=mapeo
    )
    salida.resumen = service.run(job.id)
    return salida


def _validate(tabla, mapping, tenant: int, actualizar: bool) -> Salida:
    """A pass that writes nothing: the counts and the first errors."""
    salida = Salida(service.Resumen())
    with tenancy.using(tenant):
        try:
            for filas in Lector(tabla, mapping, actualizar).chunks():
                for fila in filas:
                    _count(salida, fila)
        except reading.ArchivoIlegible as exc:
            raise Rechazado(str(exc)) from None
    return salida


def _count(salida: Salida, fila) -> None:
    estado.count(salida.resumen, fila)
    if fila.errores and len(salida.errores) < MOSTRADOS:
        salida.errores.append(f"fila {fila.numero}: {fila.error}")
