"""B8: a web worker's memory. One gunicorn sync worker of ours and one of the standalone baseline
(bench/baseline_app.py), each serving the same mixed sequence of requests (list pages with
filters, searches, record pages, the API, one export, the dashboard); the worker's resident
memory (RSS) is read from the OS after its first page, after the whole sequence, and its peak.

The baseline has no API and no dashboard: it gets its list's page 1 or a later page in their
place, its edit form for our record pages, so both serve as many requests of the same kinds."""

import os
import time

import sqlalchemy as sa

from . import baseline_app
from .b1_list import DEPARTAMENTO, departamento_id
from .common import emit, machine_info, ms, ratio, size, table
from .generate import SUPERADMIN, admin_email, ensure, tenant_ids
from .served import BASELINE, gunicorn, memory_kb, session, workers_of

GOAL_MB = 150  # RSS of our worker after the sequence (issue #31)
RECORDS = 50  # the tenant's clients whose record pages are asked for
LISTA = "/admin/clientes/"


def _met(ok: bool) -> str:
    return "cumplido" if ok else "no cumplido"


def client_ids(url: str, owner: int) -> list[int]:
    """The first RECORDS clients of a tenant (ids for the record pages and the API)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT set_config('app.tenant', '*', false)"))
        ids = list(
            conn.scalars(
                sa.text(
                    "SELECT id_cliente FROM cliente WHERE id_propietario = :o ORDER BY id_cliente LIMIT :n"
                ),
                {"o": owner, "n": RECORDS},
            )
        )
    engine.dispose()
    return ids


def sequences(n: int, ids: list[int], ours_filters: dict, plain_filters: dict) -> dict[str, list]:
    """The two apps' request sequences: ``n`` (role, path) each, step for step of the same kind;
    one export halfway. Role "super" is one request in ten (the superadmin's list)."""
    ours, plain = [], []
    for i in range(n):
        cid, page = ids[i % len(ids)], i % 40 + 2
        kinds = [
            (LISTA, LISTA),
            (f"{LISTA}?{ours_filters['estado']}", f"{LISTA}?{plain_filters['estado']}"),
            (f"{LISTA}?{ours_filters['departamento']}", f"{LISTA}?{plain_filters['departamento']}"),
            (f"{LISTA}?page={page}", f"{LISTA}?page={page}"),
            (f"{LISTA}?search={10_000_000 + i * 7}", f"{LISTA}?search={10_000_000 + i * 7}"),
            (f"{LISTA}?search=maria", f"{LISTA}?search=María"),
            (f"{LISTA}details/?id={cid}", f"{LISTA}edit/?id={cid}"),
            (f"{LISTA}edit/?id={cid}", f"{LISTA}edit/?id={cid}"),
            (f"/Database/Database/clientes/?page_size={i % 50 + 1}", f"{LISTA}?page={page}"),
            (f"/Database/Database/clientes/{cid}/", f"{LISTA}edit/?id={cid}"),
            ("/admin/", LISTA),
        ]
        role = "super" if i % 10 == 9 else "admin"
        if i == n // 2:
            pair = (f"{LISTA}export/csv/", f"{LISTA}export/csv/")
        elif role == "super":
            pair = kinds[i % 4]  # list pages: what a superadmin browses
        else:
            pair = kinds[i % len(kinds)]
        ours.append((role, pair[0]))
        plain.append((role, pair[1]))
    return {"ours": ours, "baseline": plain}


def serve(url: str, app: str, sequence: list) -> dict:
    """Run ``sequence`` on a fresh worker of ``app``; its RSS after the first page, after the
    sequence and at its peak (MB), and the time the sequence took."""
    with gunicorn(url, app=app) as (base, proc):
        http = {"admin": session(base, admin_email(0)), "super": session(base, SUPERADMIN)}
        assert http["admin"].get(base + LISTA, timeout=120).status_code == 200
        worker = workers_of(proc)[0]
        first = memory_kb(worker)["VmRSS"]
        cpu_before = _cpu_seconds(worker)
        start = time.perf_counter()
        for role, path in sequence:
            answer = http[role].get(base + path, timeout=900)
            assert answer.status_code == 200 and "/login" not in answer.url, f"{path}: {answer.status_code}"
        elapsed = time.perf_counter() - start
        after = memory_kb(worker)
        cpu = _cpu_seconds(worker) - cpu_before
    return {
        "first": first / 1024,
        "after": after["VmRSS"] / 1024,
        "peak": after["VmHWM"] / 1024,
        "seconds": elapsed,
        "cpu": cpu,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (the machine is shared: wall-clock time is not ours)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def filters(url: str) -> tuple[dict, dict]:
    """The estado and departamento filters' query strings in each app."""
    from panel.extensions import db

    from .b1_list import _ours_filters
    from .server import create

    ours_app, plain_app = create(), baseline_app.create(url)
    with ours_app.app_context():
        depto = departamento_id(db.engine, DEPARTAMENTO)
    ours = {
        "estado": _ours_filters(ours_app, {"estado": 1}),
        "departamento": _ours_filters(ours_app, {"departamento": depto}),
    }
    plain = {
        "estado": baseline_app.filter_args(plain_app, {"estado": 1}),
        "departamento": baseline_app.filter_args(plain_app, {"id_departamento": depto}),
    }
    return ours, plain


def run(s=None) -> str:
    s = s or size()
    url = ensure(s)
    engine = sa.create_engine(url)
    info = machine_info(engine)
    engine.dispose()
    ids = client_ids(url, tenant_ids(url)["admins"][0])
    seqs = sequences(s.memory_requests, ids, *filters(url))
    o = serve(url, "bench.server:create()", seqs["ours"])
    b = serve(url, BASELINE, seqs["baseline"])
    n = s.memory_requests
    rows = [
        ("RSS tras la primera página", f"{o['first']:.1f} MB", f"{b['first']:.1f} MB", ""),
        (
            f"RSS tras {n:,} peticiones",
            f"{o['after']:.1f} MB",
            f"{b['after']:.1f} MB",
            ratio(o["after"], b["after"]),
        ),
        ("RSS pico (VmHWM)", f"{o['peak']:.1f} MB", f"{b['peak']:.1f} MB", ratio(o["peak"], b["peak"])),
        ("crecimiento", f"{o['after'] - o['first']:+.1f} MB", f"{b['after'] - b['first']:+.1f} MB", ""),
        (f"tiempo de las {n:,} peticiones", f"{o['seconds']:.1f} s", f"{b['seconds']:.1f} s", ""),
        ("CPU del worker", f"{o['cpu']:.1f} s", f"{b['cpu']:.1f} s", ratio(o["cpu"], b["cpu"])),
        ("por petición (CPU)", ms(o["cpu"] / n), ms(b["cpu"] / n), ""),
    ]
    head = (
        f"gunicorn, 1 worker síncrono nuevo por app; {n:,} peticiones mezcladas (listas con filtros, "
        f"búsquedas, fichas, API, el tablero, una exportación a la mitad), 1 de cada 10 como "
        f"superadmin; tamaño {s.name}"
    )
    text = table("B8 memoria del worker web", rows, info + "\n" + head)
    text += (
        f"\nmetas: RSS tras {n:,} peticiones ≤ {GOAL_MB} MB: {_met(o['after'] <= GOAL_MB)} "
        f"({o['after']:.1f} MB; base {b['after']:.1f} MB)"
        + ("" if n == 1000 else " (meta para 1.000 peticiones)")
        + "\n"
    )
    emit(text)
    return text


if __name__ == "__main__":
    run()
