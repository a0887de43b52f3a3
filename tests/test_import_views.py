"""The Importar clientes pages: upload → preview (with the mapping corrected) → confirm → live
progress → result, for admins only and within their tenant; the run in the background, on the
thread runner and on RQ (a burst worker in this process)."""

import io
import re
import secrets
import threading

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from panel import jobs, tenancy
from panel.extensions import db
from panel.models import ImportacionClientes

from .helpers import csrf_from, login
from .import_support import clientes, csv_bytes, row, wait_until_done
from .services import REDIS_URL, require_redis

URL = "/admin/clientes/importar/"


def _upload(client, data: bytes, name: str = "clientes.csv", **fields):
    page = client.get(URL)
    assert page.status_code == 200 and b'data-testid="importar"' in page.data
    form = {"csrf_token": csrf_from(page.data), "modo": "crear", "errores": "omitir", **fields}
    form["archivo"] = (io.BytesIO(data), name)
    return client.post(URL, data=form, content_type="multipart/form-data")


def _job_id(response) -> int:
    assert response.status_code == 302, response.data[:2000]
    return int(re.search(r"/importar/(\d+)/", response.headers["Location"]).group(1))


def _uploaded(client, data: bytes, name: str = "clientes.csv", **fields) -> int:
    """Upload a file and wait for its preview (computed in the background); the job's id."""
    job_id = _job_id(_upload(client, data, name, **fields))
    wait_until_done(client, job_id)
    return job_id


def _confirm(client, job_id: int):
    page = client.get(f"{URL}{job_id}/")
    assert b'data-testid="vista-previa"' in page.data
    return client.post(f"{URL}{job_id}/confirmar/", data={"csrf_token": csrf_from(page.data)})


def test_the_clientes_list_links_to_the_import_for_admins_only(client, tenants):
    login(client, tenants.admin_a.email)
    page = client.get("/admin/clientes/")
    assert page.status_code == 200 and b'data-testid="total-clientes"' in page.data
    assert f'href="{URL}"'.encode() in page.data
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/logout").data)})
    login(client, tenants.vendedor_a.email)
    page = client.get("/admin/clientes/")
    assert page.status_code == 200 and b'data-testid="total-clientes"' in page.data
    assert f'href="{URL}"'.encode() not in page.data


@pytest.mark.parametrize("who, status", [("vendedor_a", 403), (None, 302)])
def test_only_admins_may_import(client, tenants, who, status):
    if who:
        login(client, getattr(tenants, who).email)
    assert client.get(URL).status_code == status


def test_upload_preview_correct_the_mapping_confirm_and_result(app, client, tenants):
    login(client, tenants.admin_a.email)
    header = ["Doc", "Nombres", "Celular"]
    data = csv_bytes(
        [["1.020.000.001", "Ana", "3001234567"], ["x", "Luis", "3007654321"]], header=header, delimiter=";"
    )
    job_id = _uploaded(client, data)
    page = client.get(f"{URL}{job_id}/").get_data(as_text=True)
    assert "Falta la columna «Cédula» (obligatoria)." in page  # "Doc" is not a name it knows
    token = csrf_from(page)
    fixed = {"csrf_token": token, "col-0": "cedula_cliente", "col-1": "nombre_cliente", "col-2": "telefono"}
    assert (
        client.post(f"{URL}{job_id}/mapeo/", data=fixed | {"modo": "crear", "errores": "omitir"}).status_code
        == 302
    )
    assert wait_until_done(client, job_id)["estado"] == "previsualizada"  # the preview again
    page = client.get(f"{URL}{job_id}/").get_data(as_text=True)
    assert 'data-campo="nuevos">1<' in page and 'data-campo="con_errores">1<' in page
    assert "La cédula solo puede tener dígitos." in page and "<td>1020000001</td>" in page
    assert page.count(" selected>") == 3 and '<option value="telefono" selected>' in page  # kept as corrected
    assert _confirm(client, job_id).status_code == 302
    p = wait_until_done(client, job_id)
    assert (p["estado"], p["nuevos"], p["con_errores"], p["porcentaje"]) == ("completado", 1, 1, 100)
    result = client.get(f"{URL}{job_id}/").get_data(as_text=True)
    assert 'data-estado="completado"' in result and "Descargar las filas rechazadas" in result
    rejected = client.get(f"{URL}{job_id}/rechazos.csv")
    assert rejected.status_code == 200 and rejected.mimetype == "text/csv"
    assert rejected.data.decode("utf-8-sig").splitlines() == [
        "Doc;Nombres;Celular;fila;error",
        "x;Luis;3007654321;3;Doc: La cédula solo puede tener dígitos.",
    ]
    assert list(clientes(tenants.admin_a.id)) == ["1020000001"]
    # A second click on "Importar" does not run it again.
    assert client.post(f"{URL}{job_id}/confirmar/", data={"csrf_token": token}).status_code == 302
    assert len(clientes(tenants.admin_a.id)) == 1


def test_an_unreadable_upload_says_why_on_its_preview(client, tenants):
    login(client, tenants.admin_a.email)
    job_id = _uploaded(client, b"", "vacio.csv")
    page = client.get(f"{URL}{job_id}/").get_data(as_text=True)
    assert 'data-testid="vista-previa"' in page and "El archivo está vacío." in page
    token = csrf_from(page)
    assert client.post(f"{URL}{job_id}/confirmar/", data={"csrf_token": token}).status_code == 302
    assert 'data-testid="vista-previa"' in client.get(f"{URL}{job_id}/").get_data(as_text=True)  # not run


def test_another_tenants_import_is_404(app, client, tenants):
    login(client, tenants.admin_b.email)
    job_id = _uploaded(client, csv_bytes([row(1, Cédula="x")]))
    assert client.get(f"{URL}{job_id}/progreso.json").get_json()["estado"] == "previsualizada"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/logout").data)})
    login(client, tenants.admin_a.email)
    assert client.get(URL).status_code == 200  # logged in, on the import pages
    token = csrf_from(client.get(URL).data)
    for path in ("", "progreso.json", "rechazos.csv"):
        assert client.get(f"{URL}{job_id}/{path}").status_code == 404
    for path in ("confirmar/", "reintentar/"):
        assert client.post(f"{URL}{job_id}/{path}", data={"csrf_token": token}).status_code == 404


def test_the_superadmin_picks_the_tenant_that_receives_the_clients(app, client, tenants):
    login(client, tenants.superadmin.email)
    job_id = _uploaded(client, csv_bytes([row(1)]), propietario=str(tenants.admin_b.id))
    _confirm(client, job_id)
    assert wait_until_done(client, job_id)["nuevos"] == 1
    assert list(clientes(tenants.admin_b.id)) == ["1020000001"] and clientes(tenants.admin_a.id) == {}


BIG = 5000


def _big_file() -> bytes:
    return csv_bytes([row(n) for n in range(1, BIG + 1)], delimiter=";", bom=True)


def _assert_progress_was_live(seen: list[dict]) -> None:
    done = [p["procesadas"] for p in seen]
    assert done == sorted(done)  # it only moves forward
    running = [p for p in seen if p["estado"] == "importando"]
    assert running and any(0 < p["procesadas"] < BIG for p in running), done
    assert seen[-1]["estado"] == "completado" and seen[-1]["nuevos"] == BIG


def test_a_5000_row_import_runs_in_a_thread_with_live_progress(app, client, tenants):
    login(client, tenants.admin_a.email)
    job_id = _uploaded(client, _big_file())
    _confirm(client, job_id)
    seen: list[dict] = []
    wait_until_done(client, job_id, seen)
    _assert_progress_was_live(seen)
    assert len(clientes(tenants.admin_a.id)) == BIG


@pytest.fixture
def import_queue(app):
    require_redis()
    name = f"import-test-{secrets.token_hex(4)}"
    app.config.update(REDIS_URL=REDIS_URL, IMPORT_QUEUE=name)
    jobs.use_app(app)
    yield Queue(name, connection=Redis.from_url(REDIS_URL))
    jobs.use_app(None)
    Queue(name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


def test_a_5000_row_import_runs_on_rq_with_live_progress(app, client, tenants, import_queue):
    login(client, tenants.admin_a.email)
    job_id = _job_id(_upload(client, _big_file()))  # its preview waits for the worker below
    assert [j.func_name for j in import_queue.jobs] == ["panel.jobs.run_import_preview"]
    SimpleWorker([import_queue], connection=import_queue.connection).work(burst=True)
    _confirm(client, job_id)
    assert [j.func_name for j in import_queue.jobs] == ["panel.jobs.run_import"]  # by name, on its queue
    with tenancy.using(tenants.admin_a.id):
        assert db.session.get(ImportacionClientes, job_id).estado == "pendiente"
    seen: list[dict] = []
    poller_client = app.test_client()  # reads the progress while this thread is the worker
    login(poller_client, tenants.admin_a.email)
    poller = threading.Thread(target=wait_until_done, args=(poller_client, job_id, seen))
    poller.start()
    SimpleWorker([import_queue], connection=import_queue.connection).work(burst=True)
    poller.join(timeout=120)
    _assert_progress_was_live(seen)
    assert len(clientes(tenants.admin_a.id)) == BIG


def test_an_admin_sees_its_own_import_in_historial_once(app, client, tenants):
    login(client, tenants.admin_a.email)
    job_id = _uploaded(client, csv_bytes([row(1), row(2)]), "lote.csv")
    _confirm(client, job_id)
    wait_until_done(client, job_id)
    page = client.get("/admin/historial/").get_data(as_text=True)
    assert page.count("Importación de clientes «lote.csv»: nuevos 2, actualizados 0, con errores 0") == 1
