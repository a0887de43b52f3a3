"""An import from upload to result: store the file, preview it, run it (in the background or
from the CLI). Every step runs in the scope of the tenant that receives the rows."""

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

from .. import ahead, audit, campos, formatting, identificacion, tenancy
from ..extensions import db
from ..models import ImportacionClientes
from . import columns, estado, paralelo, reading, validadas, writing
from .notas import Notas, empresa_mostrada
from .opciones import Opciones
from .rechazos import Rechazos
from .rows import Fila, Lector

MUESTRA = 20  # rows shown as they will be saved
MAX_ERRORES = 1000  # errors listed on the preview page (all of them are in the CSV)
# Tests pause a run between two chunks (job id, rows written so far), as preparacion.after_chunk.
after_chunk: Callable[[int, int], None] | None = None


def create(
    data: bytes, nombre: str, tenant: int, usuario_id: int | None, confirmada: bool = False, **opciones
):
    """Store an uploaded file, its preview queued (or, ``confirmada``, its import: the CLI has
    validated it itself). Nothing is read here: the upload answers at once, and the preview
    (in the background) says what is wrong with a file it cannot read."""
    job = ImportacionClientes(
        archivo_nombre=nombre[:255], archivo=data, id_usuario=usuario_id, id_propietario=tenant, **opciones
    )
    (estado.pending if confirmada else estado.received)(job)
    with tenancy.using(tenant):
        db.session.add(job)
        db.session.commit()
    return job


def mapping_of(job: ImportacionClientes, tabla: reading.Tabla) -> dict[int, str]:
    """The mapping the user corrected, else the one the file's headers suggest."""
    return columns.guess(tabla.encabezados) if job.mapeo is None else columns.from_json(job.mapeo)


def table_of(job: ImportacionClientes, survey: bool = True) -> reading.Tabla:
    return reading.open_table(job.archivo, job.archivo_nombre, survey)


Resumen = estado.Resumen  # the tally is estado's; kept here for the callers that name it so


def _delimiter(tabla: reading.Tabla) -> str:
    return ";" if tabla.formato == "CSV (;)" else ","


def _count(resumen: Resumen, filas: list[Fila], rechazos: Rechazos) -> None:
    for fila in filas:
        estado.count(resumen, fila)
        if fila.errores:
            rechazos.add(fila)


def preview(job: ImportacionClientes, intento: str | None = None) -> dict:
    """Validate every row (nothing is written) and keep the summary, the first rows as they will
    be saved, the first errors and the CSV of the rejected rows on the job. The background worker
    passes the attempt it claimed; a direct call (tests, the benchmark) takes the job as it is."""
    intento = intento or estado.restart_preview(job.id)
    if intento is None:
        raise estado.Abandonada(job.id)
    with tenancy.using(job.id_propietario):
        vista, resumen, rechazos, mapping, kept = _preview(job, intento)
        mapeo = columns.to_json(mapping)
        estado.previewed(job, intento, vista, resumen, rechazos, mapeo=mapeo, validadas=kept)
        return vista


def _preview(job: ImportacionClientes, intento: str):
    try:
        tabla = table_of(job)
    except reading.ArchivoIlegible as exc:  # the upload stored it; here it says why it is unreadable
        return {"encabezados": [], "formato": "", "problemas": [str(exc)]}, Resumen(), None, {}, None
    mapping = mapping_of(job, tabla)
    vista = {"encabezados": tabla.encabezados, "formato": tabla.formato}
    if problemas := columns.problems(mapping, tabla.encabezados):
        return vista | {"problemas": problemas}, Resumen(), None, mapping, None
    lector = Lector(tabla, mapping, job.actualizar, opciones=Opciones.de(job))
    notas = Notas(lector)  # warnings, defaults and new empresas, beside the errors
    resumen, muestra, errores = Resumen(), [], []
    rechazos = Rechazos(tabla.encabezados, _delimiter(tabla))
    kept = None if job.actualizar else validadas.Registro()  # an update validates again (see there)
    try:
        for filas in paralelo.chunks(lector):  # in two processes for a large file
            _count(resumen, filas, rechazos)
            notas.add(filas)
            if kept is not None:
                kept.add(filas)
            muestra.extend(sample(lector, f) for f in filas if f.valores and len(muestra) < MUESTRA)
            errores.extend(
                [f.numero, c, m] for f in filas for c, m in f.errores if len(errores) < MAX_ERRORES
            )
            estado.beat(job, intento, resumen)  # the progress bar, and the heartbeat
            db.session.commit()
    except reading.ArchivoIlegible as exc:
        vista["problemas"] = [str(exc)]
        kept = None
    vista |= {"muestra": muestra[:MUESTRA], "errores": errores[:MAX_ERRORES]} | vars(resumen)
    vista |= notas.vista()
    if kept is not None:
        kept = kept.content(validadas.huella(mapping, job.actualizar, lector.opciones, lector.orden_fechas))
    return vista, resumen, rechazos.content(), mapping, kept


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


def run(job_id: int, intento: str | None = None) -> Resumen:
    """Validate again and write, a chunk per transaction with the progress in it; a refused file
    (todo o nada with errors) writes nothing. Ends with one Historial entry. The background worker
    passes the attempt it was handed; without one (the CLI, tests) a queued job is claimed."""
    intento = estado.claim(job_id, intento)
    if intento is None:  # another worker has it, it already ran, or it was retried since
        return Resumen()
    with tenancy.using(tenancy.EVERY_TENANT):
        job = db.session.get(ImportacionClientes, job_id)
    with tenancy.using(job.id_propietario):
        try:
            return _run(job, intento)
        except reading.ArchivoIlegible as exc:
            db.session.rollback()
            return _finish(job, intento, Resumen.stored(job), estado.RECHAZADO, str(exc))


def _run(job: ImportacionClientes, intento: str) -> Resumen:
    # Surveyed whole by its preview (or by the CLI before it created the job): read here with
    # the same limits row by row, not read whole once more first.
    tabla = table_of(job, survey=False)
    mapping = mapping_of(job, tabla)
    if problemas := columns.problems(mapping, tabla.encabezados):
        return _finish(job, intento, Resumen(), estado.RECHAZADO, " ".join(problemas))
    desde = job.escritas  # > 0: a retried run, resumed after the rows its last checkpoint committed
    if job.todo_o_nada and not desde:
        found = _validate_only(job, intento, tabla, mapping)
        if found.con_errores:
            mensaje = "El archivo tiene filas con errores: no se importó ninguna."
            return _finish(job, intento, found.unwritten(), estado.RECHAZADO, mensaje)
    lector = _lector(job, tabla, mapping)
    resumen = Resumen.stored(job) if desde else Resumen()
    rechazos = Rechazos(tabla.encabezados, _delimiter(tabla), job.rechazos if desde else None)
    leidas = 0
    chunks = _chunks(job, lector)
    with _kept_on_commit(), closing(chunks):
        for filas in chunks:
            leidas += len(filas)
            if leidas <= desde:  # written and counted by the attempt before
                continue
            _write_chunk(lector, filas, job.id_propietario, job.id_usuario)
            antes = rechazos.filas
            _count(resumen, filas, rechazos)
            checkpoint = {"escritas": leidas, "total": max(job.total or 0, resumen.total)}
            if rechazos.filas > antes:  # the rejected rows so far survive a dead worker too
                checkpoint["rechazos"] = rechazos.content()
            estado.beat(job, intento, resumen, **checkpoint)
            db.session.commit()
            if after_chunk is not None:
                after_chunk(job.id, leidas)
    return _finish(job, intento, resumen, estado.COMPLETADO, "", rechazos=rechazos.content())


def _chunks(job: ImportacionClientes, lector: Lector) -> Iterator[list[Fila]]:
    """The run's chunks, in the file's order. On PostgreSQL a create-only run reads and checks
    the next chunk in a thread (ahead.py) while this one is written: the insert is the
    database's work, the reading Python's, and one after the other they added up (issue #27).
    The checks of a create-only row read nothing from the database (the catalogue was loaded
    once; a document written meanwhile is caught by the unique index, row by row), so the
    thread only reads the file. An update reads the stored clients per chunk: it stays in turn."""
    if job.actualizar or db.session.get_bind().dialect.name != "postgresql":
        return lector.chunks()
    # The reader's own chunks, advanced in the thread: each item is already the work done.
    return ahead.ahead(lambda filas: filas, lector.chunks(), name="importa-lectura")


@contextmanager
def _kept_on_commit():
    """A chunk's commit keeps the session's objects as they were read: the job (its progress
    is written by UPDATEs that name their attempt, never read back) and the catalogue's rows.
    Expired at each commit, the next chunk read the job again — a SELECT of its preview, up to
    1,000 errors as JSON — and expired ~1,000 objects, a chunk at a time (issue #27)."""
    session = db.session()
    before, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = before


def _lector(job: ImportacionClientes, tabla, mapping) -> Lector:
    """The run's reader, with the rows its preview kept (validadas.py) when they still apply."""
    opciones = Opciones.confirmadas(job)
    firma = validadas.huella(mapping, job.actualizar, opciones, opciones.fechas)
    previas = None if job.actualizar else validadas.leer(job.validadas, firma)
    return Lector(tabla, mapping, job.actualizar, opciones=opciones, previas=previas)


def _validate_only(job, intento: str, tabla, mapping) -> Resumen:
    found = Resumen()
    rechazos = Rechazos(tabla.encabezados, _delimiter(tabla))
    for filas in _lector(job, tabla, mapping).chunks():
        _count(found, filas, rechazos)
        estado.beat(job, intento, Resumen(total=found.total))
        db.session.commit()
    estado.beat(job, intento, Resumen(), rechazos=rechazos.content())  # the write pass counts anew
    db.session.commit()
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


def _finish(
    job: ImportacionClientes, intento: str, resumen: Resumen, final: str, mensaje: str, **extra
) -> Resumen:
    """The job's last state, and its one Historial entry (file, counts, who), committed together."""
    estado.finish(job, intento, resumen, final, mensaje, **extra)
    audit.record(
        "accion",
        "Cliente",
        filas=resumen.nuevos + resumen.actualizados,
        resumen=f"Importación de clientes «{job.archivo_nombre}»: {resumen.linea()}"
        + ("" if final == estado.COMPLETADO else f" ({final})"),
        detalle={"archivo": job.archivo_nombre, "importacion": job.id, "estado": final} | vars(resumen),
        id_propietario=job.id_propietario,
        usuario_id=job.id_usuario,
    )
    db.session.commit()
    db.session.expire(job)
    return resumen
