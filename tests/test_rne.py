"""The Registro de Números Excluidos: loaded from a file, swapped in whole, looked up by number;
one load at a time, an empty or halved list only when confirmed, in the background in the panel."""

import io
import os
import secrets
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from redis import Redis
from rq import Queue, SimpleWorker

from panel import jobs
from panel.clock import now
from panel.extensions import db
from panel.models import CargaExcluidos, Historial, ListaExcluidos, NumeroExcluido
from panel.sms import rne

from .helpers import csrf_of, login
from .services import REDIS_URL, require_redis
from .support.pages import poll_progress

URL = "/admin/rne/"


def _numbers(n: int, first: int = 3_000_000_000) -> list[str]:
    return [f"{first + i}\n" for i in range(n)]


def _in_force() -> list[tuple[str, int]]:
    """(archivo, total) of the lists in force, and every stored number belongs to one of them."""
    rows = db.session.execute(sa.select(ListaExcluidos.archivo, ListaExcluidos.total, ListaExcluidos.activa))
    return [(archivo, total) for archivo, total, activa in rows if activa]


def _stored() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(NumeroExcluido))


def _file(tmp_path, text: str):
    path = tmp_path / "rne.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_flask_rne_import_loads_national_and_e164_numbers_and_counts_bad_lines(runner, tmp_path):
    path = _file(tmp_path, "3001234567\n+573109876543\n\n300 555 1234\nno es un número\n12\n3001234567\n")
    result = runner.invoke(args=["rne-import", path])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "3 números cargados, 2 líneas inválidas ignoradas"
    assert rne.excluded(["+573001234567", "+573109876543", "+573005551234", "+573000000000"]) == {
        "+573001234567",
        "+573109876543",
        "+573005551234",
    }


@pytest.mark.parametrize(
    "text",
    ["numero,fuente\n3001234567,crc\n+573109876543,crc\n", '"id";"numero"\n1;"3001234567"\n2;"3109876543"\n'],
)
def test_a_csv_with_a_numero_column_is_read_by_its_header(app, text):
    carga = rne.load(text.splitlines(keepends=True), archivo="crc.csv")
    assert (carga.cargados, carga.invalidas) == (2, 0)
    assert rne.excluded(["+573001234567", "+573109876543"]) == {"+573001234567", "+573109876543"}


def test_a_new_list_replaces_the_old_one_whole(app):
    rne.load(["3001234567\n", "3001111111\n"], archivo="vieja.csv")
    rne.load(["3002222222\n"], archivo="nueva.csv")
    assert rne.excluded(["+573001234567", "+573001111111", "+573002222222"]) == {"+573002222222"}
    listas = db.session.scalars(sa.select(ListaExcluidos)).all()
    assert [(lista.archivo, lista.activa, lista.total) for lista in listas] == [("nueva.csv", True, 1)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NumeroExcluido)) == 1


def test_readers_see_the_old_list_until_the_new_one_is_swapped_in(app):
    """The steps of a load, one by one: written beside the list in force, then swapped in."""
    rne.load(["3001234567\n"], archivo="vieja.csv")
    nueva = ListaExcluidos(archivo="nueva.csv", total=1)
    db.session.add(nueva)
    db.session.commit()
    rne._insert(nueva.id, ["+573009999999"])
    assert rne.excluded(["+573001234567", "+573009999999"]) == {"+573001234567"}
    rne._swap(nueva.id)
    assert rne.excluded(["+573001234567", "+573009999999"]) == {"+573009999999"}


def test_without_a_list_nothing_is_excluded(app):
    assert rne.excluded(["+573001234567"]) == set()


def test_only_the_superadmin_loads_the_registry(client, tenants):
    from .helpers import login

    login(client, "admin.a@test.co")
    assert client.get("/admin/rne/").status_code == 403


# --- one load at a time (SPEC §18) -----------------------------------------------------------


def test_two_concurrent_loads_of_the_same_file_keep_one_full_list(app):
    """Before the lock, each load's clean-up removed the other's list mid-write and the second
    swap put in force a list already gone: the registry ended empty."""
    lines = _numbers(50_000)  # three batches each: the two loads interleave
    rne.load(_numbers(40_000, 3_100_000_000), archivo="vieja.csv")
    barrier, outcomes = threading.Barrier(2), []

    def upload() -> None:
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(rne.load(lines, archivo="crc.csv").cargados)
            except rne.CargaEnCurso as exc:
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert 50_000 in outcomes and len(outcomes) == 2
    assert all(o == 50_000 or o.startswith("Ya se está cargando una lista") for o in outcomes), outcomes
    assert _in_force() == [("crc.csv", 50_000)] and _stored() == 50_000
    assert rne.excluded(["+573000049999", "+573100000001"]) == {"+573000049999"}


def test_two_flask_rne_import_processes_at_once_keep_one_full_list(app, tmp_path):
    """The lock is the database's: it holds across processes (two operators, two shells)."""
    path = _file(tmp_path, "".join(_numbers(50_000)))
    env = os.environ | {"PANEL_ENV": "testing", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "rne-import", path]
    procesos = [
        subprocess.Popen(flask, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    salidas = [(p.communicate(timeout=180)[0], p.returncode) for p in procesos]
    ok = [out for out, code in salidas if code == 0]
    assert ok and ok[0].strip().splitlines()[-1] == "50000 números cargados, 0 líneas inválidas ignoradas"
    assert all(code == 0 or "Ya se está cargando una lista" in out for out, code in salidas), salidas
    db.session.expire_all()
    assert _in_force() == [(path, 50_000)] and _stored() == 50_000


def test_a_second_load_while_one_runs_is_refused_everywhere(app, runner, client, tenants, tmp_path):
    rne.load(["3001234567\n"], archivo="vieja.csv")
    running = rne.start("larga.csv")  # a load holds the lock (its process is busy writing)
    with pytest.raises(rne.CargaEnCurso, match="Ya se está cargando una lista"):
        rne.load(["3002222222\n"], archivo="otra.csv")
    result = runner.invoke(args=["rne-import", _file(tmp_path, "3002222222\n")])
    assert result.exit_code == 1 and "Ya se está cargando una lista" in result.output
    login(client, "super@test.co")
    page = _upload(client, b"3002222222\n", "otra.csv")
    assert page.status_code == 200 and "Ya se está cargando una lista" in page.get_data(as_text=True)
    assert _in_force() == [("vieja.csv", 1)]
    # once the running load ends, the next one may start
    rne.run(running, ["3003333333\n"])
    assert rne.load(["3004444444\n"], archivo="otra.csv").cargados == 1
    assert _in_force() == [("otra.csv", 1)] and _stored() == 1


def test_a_load_silent_past_the_timeout_loses_its_turn_and_never_swaps_its_list(app):
    rne.load(["3001234567\n"], archivo="vieja.csv")
    crashed = rne.start("colgada.csv")
    with pytest.raises(rne.CargaEnCurso):
        rne.load(["3002222222\n"], archivo="nueva.csv")
    with time_machine.travel(now() + rne.STALE + timedelta(seconds=1), tick=False):
        assert rne.load(["3002222222\n", "3003333333\n"], archivo="nueva.csv").cargados == 2
    assert db.session.get(CargaExcluidos, crashed).estado == "error"
    with pytest.raises(rne.CargaPerdida):  # it wakes up: its list is never put in force
        rne.run(crashed, ["3009999999\n"] * 3)
    assert _in_force() == [("nueva.csv", 2)] and _stored() == 2


def test_a_load_that_fails_midway_keeps_the_list_in_force_and_frees_the_lock(app):
    rne.load(_numbers(10), archivo="vieja.csv")

    def cut_file():
        yield from _numbers(8, 3_200_000_000)
        raise OSError("se cortó la lectura")

    with pytest.raises(OSError):
        rne.load(cut_file(), archivo="cortada.csv")
    failed = db.session.scalars(sa.select(CargaExcluidos).where(CargaExcluidos.estado == "error")).one()
    assert failed.en_curso is None and "la lista vigente sigue" in failed.mensaje
    assert _in_force() == [("vieja.csv", 10)] and _stored() == 10
    assert rne.load(_numbers(6), archivo="nueva.csv").cargados == 6  # the lock is free


# --- empty or halved lists need a confirmation ----------------------------------------------


def test_a_file_without_a_valid_number_is_refused_unless_confirmed(app, runner, tmp_path):
    rne.load(_numbers(10), archivo="vieja.csv")
    junk = _file(tmp_path, "nombre,telefono\nAna,no tiene\nx\n")
    result = runner.invoke(args=["rne-import", junk])
    assert result.exit_code == 1 and "no tiene ningún número válido" in result.output
    assert "--confirmar" in result.output
    assert _in_force() == [("vieja.csv", 10)] and _stored() == 10
    result = runner.invoke(args=["rne-import", junk, "--confirmar"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "0 números cargados, 3 líneas inválidas ignoradas"
    assert _in_force() == [(junk, 0)] and _stored() == 0


def test_a_list_under_half_of_the_one_in_force_is_refused_unless_confirmed(app):
    rne.load(_numbers(10), archivo="vieja.csv")
    assert rne.load(_numbers(5), archivo="mitad.csv").cargados == 5  # half: not less than half
    with pytest.raises(rne.CargaRechazada, match="menos de la mitad de los 5"):
        rne.load(_numbers(2), archivo="corta.csv")
    assert _in_force() == [("mitad.csv", 5)] and _stored() == 5
    assert rne.load(_numbers(2), archivo="corta.csv", confirmado=True).cargados == 2
    assert _in_force() == [("corta.csv", 2)] and _stored() == 2
    refused = db.session.scalars(sa.select(CargaExcluidos).where(CargaExcluidos.estado == "rechazada")).all()
    assert [(c.archivo_nombre, c.en_curso) for c in refused] == [("corta.csv", None)]


# --- the panel: in the background, with progress, in the Historial ---------------------------


def _upload(client, data: bytes, name: str, confirmar: bool = False):
    fields = {"csrf_token": csrf_of(client, URL), "archivo": (io.BytesIO(data), name)}
    if confirmar:
        fields["confirmar"] = "y"
    return client.post(URL, data=fields, content_type="multipart/form-data")


def _last_load() -> int:
    return db.session.scalar(sa.select(sa.func.max(CargaExcluidos.id)))


def _wait_until_done(
    client, carga_id: int | None = None, seen: list | None = None, timeout: float = 120
) -> dict:
    """Poll a load's progress JSON (bounded) until it ends; every answer goes to ``seen``."""
    return poll_progress(client, f"{URL}{carga_id or _last_load()}/progreso.json", seen, timeout)


def test_the_superadmin_uploads_a_new_list_and_it_loads_in_the_background(client, tenants):
    login(client, "super@test.co")
    page = client.get(URL)
    assert page.status_code == 200 and "Todavía no se ha cargado" in page.get_data(as_text=True)
    response = _upload(client, b"numero\n3001234567\nx\n", "crc.csv")
    assert response.status_code == 302
    p = _wait_until_done(client)
    assert (p["estado"], p["procesadas"], p["invalidas"]) == ("completada", 1, 1)
    html = client.get(URL).get_data(as_text=True)
    assert "1 número cargado, 1 línea inválida ignorada" in html
    assert rne.excluded(["+573001234567"]) == {"+573001234567"}
    entry = db.session.scalars(sa.select(Historial).where(Historial.modelo == "ListaExcluidos")).one()
    assert entry.id_usuario == tenants.superadmin.id and "crc.csv" in entry.resumen
    assert (entry.detalle["archivo"], entry.detalle["cargados"], entry.detalle["invalidas"]) == (
        "crc.csv",
        1,
        1,
    )


def test_in_the_panel_a_halved_list_needs_the_confirmation_box(client, tenants):
    rne.load(_numbers(10), archivo="vieja.csv")
    login(client, "super@test.co")
    assert _upload(client, b"3001234567\n", "corta.csv").status_code == 302
    p = _wait_until_done(client)
    assert p["estado"] == "rechazada" and "menos de la mitad" in p["mensaje"]
    assert "Confirmo que la lista nueva reemplaza" in client.get(URL).get_data(as_text=True)
    assert _in_force() == [("vieja.csv", 10)]
    assert _upload(client, b"3001234567\n", "corta.csv", confirmar=True).status_code == 302
    assert _wait_until_done(client)["estado"] == "completada"
    assert _in_force() == [("corta.csv", 1)]
    estados = db.session.scalars(
        sa.select(Historial.detalle).where(Historial.modelo == "ListaExcluidos").order_by(Historial.id)
    ).all()
    assert [d["estado"] for d in estados] == ["completada", "rechazada", "completada"]


def test_an_upload_over_the_size_limit_is_refused(client, tenants):
    login(client, "super@test.co")
    big = b"3001234567\n" * (rne.MAX_BYTES // 11 + 1)
    page = _upload(client, big, "enorme.csv")
    assert page.status_code == 200 and "El archivo pasa de" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CargaExcluidos)) == 0


@pytest.fixture
def import_queue(app):
    require_redis()
    name = f"rne-test-{secrets.token_hex(4)}"
    app.config.update(REDIS_URL=REDIS_URL, IMPORT_QUEUE=name)
    jobs.use_app(app)
    yield Queue(name, connection=Redis.from_url(REDIS_URL))
    jobs.use_app(None)
    Queue(name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


def test_with_redis_the_load_runs_on_rq_and_reports_its_progress(app, client, tenants, import_queue):
    login(client, "super@test.co")
    data = "".join(_numbers(45_000)).encode() + b"basura\n"
    assert _upload(client, data, "crc.csv").status_code == 302
    assert [j.func_name for j in import_queue.jobs] == ["panel.jobs.run_rne_load"]  # by name, on its queue
    assert _in_force() == []  # nothing loaded until a worker runs it
    html = client.get(URL).get_data(as_text=True)
    assert 'data-estado="pendiente"' in html and "/progreso.json" in html
    seen: list[dict] = []
    poller_client = app.test_client()  # reads the progress while this thread is the worker
    login(poller_client, "super@test.co")
    poller = threading.Thread(target=_wait_until_done, args=(poller_client, _last_load(), seen))
    poller.start()
    SimpleWorker([import_queue], connection=import_queue.connection).work(burst=True)
    poller.join(timeout=120)
    done = [p["procesadas"] for p in seen]
    assert done == sorted(done) and seen[-1]["mensaje"] == "45000 números cargados, 1 línea inválida ignorada"
    assert _in_force() == [("crc.csv", 45_000)]
