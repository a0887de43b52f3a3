"""An import from upload to result: store the file, preview it, run it (in the background or
from the CLI). Every step runs in the scope of the tenant that receives the rows."""

from dataclasses import dataclass

from .. import audit, campos, formatting, identificacion, tenancy
from ..clock import utcnow
from ..extensions import db
from ..models import ImportacionClientes
from . import columns, reading, writing
from .notas import Notas, empresa_mostrada
from .opciones import Opciones
from .rechazos import Rechazos
from .rows import Fila, Lector

MUESTRA = 20  # rows shown as they will be saved
MAX_ERRORES = 1000  # errors listed on the preview page (all of them are in the CSV)


def create(data: bytes, nombre: str, tenant: int, usuario_id: int | None, **opciones) -> ImportacionClientes:
    """Store an uploaded file with the mapping its headers suggest; refuses an unreadable one."""
    tabla = reading.open_table(data, nombre)  # raises ArchivoIlegible with the reason
    job = ImportacionClientes(
        archivo_nombre=nombre[:255],
        archivo=data,
        mapeo=columns.to_json(columns.guess(tabla.encabezados)),
        id_usuario=usuario_id,
        id_propietario=tenant,
        **opciones,
    )
    with tenancy.using(tenant):
        db.session.add(job)
        db.session.commit()
    return job


def table_of(job: ImportacionClientes) -> reading.Tabla:
    return reading.open_table(job.archivo, job.archivo_nombre)


@dataclass
class Resumen:
    """What a pass over the file found (the preview) or did (the run)."""

    total: int = 0
    nuevos: int = 0
    actualizados: int = 0
    con_errores: int = 0

    def linea(self) -> str:
        return f"nuevos {self.nuevos}, actualizados {self.actualizados}, con errores {self.con_errores}"


def _delimiter(tabla: reading.Tabla) -> str:
    return ";" if tabla.formato == "CSV (;)" else ","


def preview(job: ImportacionClientes) -> dict:
    """Validate every row (nothing is written) and keep the summary, the first rows as they will
    be saved, the first errors and the CSV of the rejected rows on the job."""
    with tenancy.using(job.id_propietario):
        tabla = table_of(job)
        mapping = columns.from_json(job.mapeo)
        vista = {"encabezados": tabla.encabezados, "formato": tabla.formato}
        problemas = columns.problems(mapping, tabla.encabezados)
        if problemas:
            job.vista_previa = vista | {"problemas": problemas}
            db.session.commit()
            return job.vista_previa
        lector = Lector(tabla, mapping, job.actualizar, opciones=Opciones.de(job))
        notas = Notas(lector)  # warnings, defaults and new empresas, beside the errors
        resumen, muestra, errores, rechazos = (
            Resumen(),
            [],
            [],
            Rechazos(tabla.encabezados, _delimiter(tabla)),
        )
        try:
            for filas in lector.chunks():
                _tally(resumen, filas, rechazos)
                notas.add(filas)
                muestra.extend(sample(lector, f) for f in filas if f.valores and len(muestra) < MUESTRA)
                errores.extend(
                    [f.numero, c, m] for f in filas for c, m in f.errores if len(errores) < MAX_ERRORES
                )
        except reading.ArchivoIlegible as exc:
            vista["problemas"] = [str(exc)]
        job.vista_previa = vista | {"muestra": muestra[:MUESTRA], "errores": errores[:MAX_ERRORES]}
        job.vista_previa |= vars(resumen) | notas.vista()
        job.total, job.con_errores, job.rechazos = resumen.total, resumen.con_errores, rechazos.content()
        db.session.commit()
        return job.vista_previa


def _tally(resumen: Resumen, filas: list[Fila], rechazos: Rechazos) -> None:
    for fila in filas:
        resumen.total += 1
        if fila.errores:
            resumen.con_errores += 1
            rechazos.add(fila)
        elif fila.id_cliente is None:
            resumen.nuevos += 1
        else:
            resumen.actualizados += 1


def sample(lector: Lector, fila: Fila) -> dict:
    """A row as it will be saved, in the words of the screen."""
    v, cat, L = fila.valores, lector.catalogo, campos.ETIQUETAS
    return {
        "fila": fila.numero,
        "accion": "Actualiza" if fila.id_cliente else "Nuevo",
        L["tipo_documento"]: v["tipo_documento"],
        L["cedula_cliente"]: identificacion.mostrado(v["tipo_documento"], v["cedula_cliente"]),
        L["nombre_cliente"]: v["nombre_cliente"],
        L["apellido_cliente"]: v["apellido_cliente"] or "",
        L["telefono"]: v["telefono"] or "",
        L["email"]: v["email"] or "",
        L["fecha_nacimiento"]: formatting.day(v["fecha_nacimiento"]),
        L["genero"]: formatting.label("genero", v["genero"]),
        L["ciudad"]: cat.ciudad_label(v["id_ciudad"]),
        L["pais"]: cat.paises.get(v["id_pais"], ("", ""))[0],
        L["empresa"]: empresa_mostrada(cat, fila),
        L["campana"]: cat.campanas.get(v["id_campana"], ""),
        L["estado"]: formatting.label("estado_cliente", v["estado"]),
        L["acepta_sms"]: formatting.yes_no(v["acepta_sms"]),
    }


# --- the run ---------------------------------------------------------------------------------


def run(job_id: int) -> Resumen:
    """Validate again and write, a chunk per transaction with the progress in it; a refused file
    (todo o nada with errors) writes nothing. Ends with one Historial entry."""
    if not _claim(job_id):  # another worker has it, or it already ran
        return Resumen()
    job = db.session.get(ImportacionClientes, job_id)
    tenant, actor = job.id_propietario, job.id_usuario
    with tenancy.using(tenant):
        try:
            resumen = _run(job, tenant, actor)
        except reading.ArchivoIlegible as exc:
            db.session.rollback()
            return _finish(job, Resumen(), "error", str(exc))
    return resumen


def _claim(job_id: int) -> bool:
    """Move a confirmed job to "procesando" atomically: of two workers given it, one runs it."""
    table = ImportacionClientes.__table__
    with db.engine.begin() as conn:
        claimed = conn.execute(
            table.update()
            .where(table.c.id == job_id, table.c.estado.in_(("pendiente", "subido")))
            .values(estado="procesando", procesadas=0, mensaje="")
        )
    return claimed.rowcount == 1


def _run(job: ImportacionClientes, tenant: int, actor: int | None) -> Resumen:
    tabla, mapping = table_of(job), columns.from_json(job.mapeo)
    problemas = columns.problems(mapping, tabla.encabezados)
    if problemas:
        return _finish(job, Resumen(), "error", " ".join(problemas))
    if job.todo_o_nada:
        found = _validate_only(job, tabla, mapping)
        if found.con_errores:
            found.nuevos = found.actualizados = 0  # what was written: nothing
            return _finish(
                job, found, "rechazado", "El archivo tiene filas con errores: no se importó ninguna."
            )
    lector, resumen = Lector(tabla, mapping, job.actualizar, opciones=Opciones.confirmadas(job)), Resumen()
    rechazos = Rechazos(tabla.encabezados, _delimiter(tabla))
    for filas in lector.chunks():
        nuevos, actualizados = _write_chunk(lector, filas, tenant, actor)
        resumen.nuevos, resumen.actualizados = resumen.nuevos + nuevos, resumen.actualizados + actualizados
        for fila in filas:
            resumen.total += 1
            if fila.errores:
                resumen.con_errores += 1
                rechazos.add(fila)
        _progress(job, resumen)
        db.session.commit()
    job.rechazos = rechazos.content()
    return _finish(job, resumen, "completado", "")


def _validate_only(job, tabla, mapping) -> Resumen:
    found = Resumen()
    rechazos = Rechazos(tabla.encabezados, _delimiter(tabla))
    for filas in Lector(tabla, mapping, job.actualizar, opciones=Opciones.confirmadas(job)).chunks():
        _tally(found, filas, rechazos)
        job.procesadas = found.total
        db.session.commit()
    job.rechazos = rechazos.content()
    return found


def _write_chunk(lector: Lector, filas: list[Fila], tenant: int, actor) -> tuple[int, int]:
    """One chunk in the current transaction; a clash with a write made meanwhile (a cédula
    created by someone else since the check) is retried row by row, and only those rows fail."""
    from sqlalchemy.exc import IntegrityError

    try:
        return writing.write(db.session.connection(), lector, filas, tenant, actor)
    except IntegrityError:
        db.session.rollback()
    nuevos = actualizados = 0
    for fila in [f for f in filas if f.valores is not None]:
        try:
            n, a = writing.write(db.session.connection(), lector, [fila], tenant, actor)
            db.session.commit()
            nuevos, actualizados = nuevos + n, actualizados + a
        except IntegrityError:
            db.session.rollback()
            fila.valores = None
            fila.errores.append(
                ("", "No se pudo guardar: otro usuario cambió estos datos durante la importación.")
            )
    return nuevos, actualizados


def _progress(job: ImportacionClientes, resumen: Resumen) -> None:
    job.procesadas, job.nuevos, job.total = resumen.total, resumen.nuevos, max(job.total, resumen.total)
    job.actualizados, job.con_errores = resumen.actualizados, resumen.con_errores


def _finish(job: ImportacionClientes, resumen: Resumen, estado: str, mensaje: str) -> Resumen:
    """The job's last state, and its one Historial entry (file, counts, who)."""
    _progress(job, resumen)
    job.estado, job.mensaje, job.terminado = estado, mensaje[:255], utcnow()
    audit.record(
        "accion",
        "Cliente",
        filas=resumen.nuevos + resumen.actualizados,
        resumen=f"Importación de clientes «{job.archivo_nombre}»: {resumen.linea()}"
        + ("" if estado == "completado" else f" ({estado})"),
        detalle={"archivo": job.archivo_nombre, "importacion": job.id, "estado": estado} | vars(resumen),
        id_propietario=job.id_propietario,
        usuario_id=job.id_usuario,
    )
    db.session.commit()
    return resumen
