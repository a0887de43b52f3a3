"""B5: scale-out. Two gunicorn workers and two RQ workers; 20 simulated staff browse and filter
the list for a fixed time while a campaign sends to the fake Twilio (100 ms). Each request goes
at random to our list or to the standalone baseline (bench/baseline_app.py, served the same way
by a gunicorn of its own with 2 workers), so both are measured under the same load."""

import random
import threading
import time
import uuid

import sqlalchemy as sa

from panel import create_app
from panel.sms import lifecycle, runners

from . import baseline_app
from .b3_outbox import drop
from .b4_sending import REDIS_URL, campaign, start_workers, wait_all
from .common import bench_config, emit, machine_info, ms, ratio, size, stats, table
from .fake import fake_twilio
from .generate import admin_email, ensure, tenant_ids
from .served import BASELINE, gunicorn, session

THINK = (0.2, 1.0)  # seconds between two clicks of one person


def browse(people: dict, until: float, out: dict, seed: int, filters: dict) -> None:
    """One member of staff: list, filter, search and page until the time is up, thinking
    THINK seconds between clicks; ``people`` is {view: (session, base URL)}."""
    rng = random.Random(seed)
    while time.monotonic() < until:
        time.sleep(rng.uniform(*THINK))
        view = rng.choice(("clientes", "baseline"))
        http, base = people[view]
        query = rng.choice(
            [
                "",
                "?" + filters[view].replace("CIUDAD", str(rng.randint(1, 20))),
                f"?page={rng.randint(0, 50)}",
                f"?search=100{rng.randint(0, 999):03d}",
            ]
        )
        start = time.perf_counter()
        try:
            ok = http.get(f"{base}/admin/clientes/{query}", timeout=30).status_code == 200
        except Exception:  # noqa: BLE001 — any failure is an error of the run
            ok = False
        out[view].append((time.perf_counter() - start, ok))


def sending(app, campana_id: int, limit: float = 30) -> None:
    """Wait (bounded) until the workers are sending: the first message is out."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with app.app_context():
            counts = lifecycle.counts(campana_id)
        if counts["enviado"] or not counts["pendiente"]:
            return
        time.sleep(0.1)


def run(s=None) -> str:
    s = s or size()
    url = ensure(s)
    ids = tenant_ids(url)
    engine = sa.create_engine(url)
    info = machine_info(engine) + (
        f"\ngunicorn 2 workers por app, 2 rq workers, Redis; {s.staff} usuarios durante "
        f"{s.browse_seconds:.0f} s (pausa {THINK[0]}–{THINK[1]} s entre clics); "
        f"falso Twilio 100 ms; tamaño {s.name}"
    )
    engine.dispose()
    results = {"clientes": [], "baseline": []}
    queue = f"bench-b5-{uuid.uuid4().hex[:8]}"
    with fake_twilio(0.1) as (_, fake_config):
        config = {
            **fake_config,
            "REDIS_URL": REDIS_URL,
            "SMS_QUEUE": queue,
            "SMS_RATE_PER_SECOND": 0,
            "SMS_RATE_KEY": f"bench:{queue}",
            "SMS_CONCURRENCY": 16,
            "SMS_BATCH_SIZE": 32,
        }
        app = create_app(bench_config(url, **config))
        campana_id = campaign(app, ids["admins"][-1], s.messages)
        filters = {
            "clientes": "flt0_estado=1&flt1_ciudad=CIUDAD",
            "baseline": baseline_app.filter_args(
                baseline_app.create(url), {"estado": 1, "id_ciudad": "CIUDAD"}
            ),
        }
        with gunicorn(url, workers=2) as (base, _), gunicorn(url, workers=2, app=BASELINE) as (plain, _):
            people = [
                {
                    "clientes": (session(base, admin_email(i % len(ids["admins"]))), base),
                    "baseline": (session(plain, admin_email(i % len(ids["admins"]))), plain),
                }
                for i in range(s.staff)
            ]
            for person in people:  # warm every gunicorn worker (first render compiles the templates)
                for http, served in person.values():
                    http.get(f"{served}/admin/clientes/", timeout=60)
            runners.enqueue(campana_id, app)
            started = time.monotonic()
            workers = start_workers(url, queue, config)
            sending(app, campana_id)  # the workers have booted: browsing starts with the campaign running
            with app.app_context():
                before = lifecycle.counts(campana_id)["enviado"]
            until = time.monotonic() + s.browse_seconds
            staff = [
                threading.Thread(target=browse, args=(person, until, results, i, filters))
                for i, person in enumerate(people)
            ]
            for t in staff:
                t.start()
            for t in staff:
                t.join(s.browse_seconds + 60)
            with app.app_context():
                during = lifecycle.counts(campana_id)["enviado"] - before
            wait_all(workers, limit=s.messages / 20 + 60)
            elapsed = time.monotonic() - started
        with app.app_context():
            final = lifecycle.counts(campana_id)
            drop(campana_id)
    rows = []
    for label, n in (("mediana", 0.5), ("p95", 0.95)):
        o = stats([d for d, _ in results["clientes"]])[0 if n == 0.5 else 1]
        b = stats([d for d, _ in results["baseline"]])[0 if n == 0.5 else 1]
        rows.append((f"lista bajo carga: {label}", ms(o), ms(b), ratio(o, b)))
    rows += [
        ("peticiones / errores", *(f"{len(r)} / {sum(not ok for _, ok in r)}" for r in results.values()), ""),
        ("campaña: enviados durante la navegación (msj/s)", f"{during / s.browse_seconds:.1f}", "", ""),
        (
            f"campaña: {final['enviado']:,} enviados, pendientes {final['pendiente'] + final['enviando']}",
            f"{final['enviado'] / elapsed:.1f}/s",
            "",
            "",
        ),
    ]
    errors = sum(not ok for r in results.values() for _, ok in r)
    text = table("B5 escalado (2 gunicorn + 2 rq workers)", rows, info)
    text += (
        f"\nmetas: cero errores mientras se envía: {'cumplido' if not errors else 'no cumplido'} ({errors})\n"
    )
    emit(text)
    return text


if __name__ == "__main__":
    run()
