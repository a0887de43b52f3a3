"""Writing a validated chunk with Core statements: what the ORM's hooks would do per row
(tenant stamp, ``telefono_e164``, ``busqueda``, consent evidence, the tenant's exclusion list),
done once per chunk. Historial gets one entry for the whole import (written by the caller)."""

import sqlalchemy as sa

from ..clock import utcnow
from ..models import Cliente, ConsentimientoSMS, NumeroExcluidoPropio
from .rows import Fila, Lector

FUENTE = "importación"


def write(conn, lector: Lector, filas: list[Fila], tenant: int, actor: int | None) -> tuple[int, int]:
    """Insert the new rows and update the existing ones of a chunk; (nuevos, actualizados)."""
    now = utcnow()
    nuevas = [f for f in filas if f.valores is not None and f.id_cliente is None]
    cambiadas = [f for f in filas if f.valores is not None and f.id_cliente is not None]
    consent = _insert(conn, lector, nuevas, tenant, now) + _update(conn, cambiadas, tenant, now)
    if consent:
        rows = [
            {"id_cliente": i, "acepta": a, "fuente": FUENTE, "id_usuario": actor, "fecha": now}
            for i, a in consent
        ]
        conn.execute(ConsentimientoSMS.__table__.insert(), [r | {"id_propietario": tenant} for r in rows])
    _sync_exclusions(conn, [f for f in nuevas + cambiadas if f.acepta_dicho], tenant, now)
    return len(nuevas), len(cambiadas)


def _insert(conn, lector: Lector, filas: list[Fila], tenant: int, now) -> list[tuple[int, bool]]:
    """The new clients (ids back in the file's order); each has its first consent evidence."""
    if not filas:
        return []
    table = Cliente.__table__
    rows = [f.valores | {"id_propietario": tenant, "creado": now, "actualizado": now} for f in filas]
    stmt = table.insert().returning(table.c.id_cliente, table.c.cedula_cliente, sort_by_parameter_order=True)
    ids = [row.id_cliente for row in conn.execute(stmt, rows)]
    for fila, id_cliente in zip(filas, ids, strict=True):
        lector.catalogo.cedulas[fila.valores["cedula_cliente"]] = id_cliente
    return [(i, bool(f.valores["acepta_sms"])) for i, f in zip(ids, filas, strict=True)]


def _update(conn, filas: list[Fila], tenant: int, now) -> list[tuple[int, bool]]:
    """The existing clients, every saved column at once (blank cells already hold the stored
    values); a consent that changed gets its evidence."""
    if not filas:
        return []
    table = Cliente.__table__
    stmt = table.update().where(
        table.c.id_cliente == sa.bindparam("b_id"), table.c.id_propietario == sa.bindparam("b_tenant")
    )
    rows = [f.valores | {"b_id": f.id_cliente, "b_tenant": tenant, "actualizado": now} for f in filas]
    conn.execute(stmt, rows)
    return [
        (f.id_cliente, bool(f.valores["acepta_sms"]))
        for f in filas
        if bool(f.valores["acepta_sms"]) != f.acepta_antes
    ]


def _sync_exclusions(conn, filas: list[Fila], tenant: int, now) -> None:
    """What the file says about consent moves the number on or off the tenant's own list (a
    default "acepta" of a new client takes no number off it: only the file's own Sí does)."""
    numeros = {}
    for fila in filas:
        if numero := fila.valores["telefono_e164"]:
            numeros[numero] = bool(fila.valores["acepta_sms"])
    if not numeros:
        return
    table = NumeroExcluidoPropio.__table__
    for start in range(0, len(numeros), 500):
        chunk = list(numeros)[start : start + 500]
        conn.execute(table.delete().where(table.c.id_propietario == tenant, table.c.numero.in_(chunk)))
    excluded = [n for n, acepta in numeros.items() if not acepta]
    if excluded:
        values = {"id_propietario": tenant, "motivo": f"Baja ({FUENTE})", "creado": now}
        conn.execute(table.insert(), [values | {"numero": n} for n in excluded])
