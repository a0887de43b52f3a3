"""B7: loading the Registro de Números Excluidos (SPEC §10: a 1,000,000-number list loads in under
a minute, lookups stay indexed), ours (``rne.load``: parse, batched inserts beside the list in
force, one swap) against one ORM object per number in one transaction (run on a sample and
extrapolated), and the sender's lookup of 10,000 numbers against one query per number."""

import io
import os
import random

import sqlalchemy as sa

from panel.extensions import db
from panel.models import ListaExcluidos, NumeroExcluido
from panel.sms import rne

from .common import bench_config, emit, machine_info, ratio, size, table, timer
from .generate import ensure

NUMBERS = {"full": 1_000_000, "quick": 200_000, "smoke": 2_000}  # BENCH_RNE_NUMBERS overrides
LOOKUPS = 10_000
GOAL_SECONDS = 60.0  # for 1,000,000 numbers


def numbers(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct Colombian mobiles, half national and half E.164, plus 1 % bad lines."""
    rng = random.Random(seed)
    picked = rng.sample(range(3_000_000_000, 3_250_000_000), n)
    lines = [f"{p}" if i % 2 else f"+57{p}" for i, p in enumerate(picked)]
    lines += ["no-es-un-numero"] * (n // 100)
    return lines


def baseline(lines: list[str]) -> float:
    """One ORM object per number, one transaction, then the swap (the obvious importer)."""
    with timer() as t:
        lista = ListaExcluidos(archivo="bench-base", total=0, invalidas=0)
        db.session.add(lista)
        db.session.flush()
        for line in lines:
            normal = rne._normalise(line)
            if normal:
                db.session.add(NumeroExcluido(id_lista=lista.id, numero=normal))
        db.session.commit()
    return t[0]


def lookups(sample: list[str]) -> tuple[float, float, int]:
    """Ours (chunks of 1,000 by primary key) against one SELECT per number, for the same numbers."""
    with timer() as t_ours:
        found = rne.excluded(sample)
    few = sample[:1000]
    lista = rne.active_list().id
    with timer() as t_base:
        for n in few:
            db.session.scalar(
                sa.select(NumeroExcluido.numero).where(
                    NumeroExcluido.id_lista == lista, NumeroExcluido.numero == n
                )
            )
    return t_ours[0], t_base[0] * len(sample) / len(few), len(found)


def clear() -> None:
    """No list in force: the data set as generated (and the baseline's rows out of our way)."""
    with db.engine.begin() as conn:
        conn.execute(NumeroExcluido.__table__.delete())
        conn.execute(ListaExcluidos.__table__.delete())


def run(s=None) -> str:
    s = s or size()
    url = ensure(s)
    from panel import create_app

    n = int(os.environ.get("BENCH_RNE_NUMBERS", NUMBERS[s.name]))
    lines = numbers(n)
    app = create_app(bench_config(url))
    with app.app_context():
        info = machine_info(db.engine) + f"\nen proceso, tamaño {s.name}"
        sample = max(500, min(20_000, n // 50))
        t_base = baseline(lines[:sample]) * n / sample
        db.session.remove()
        clear()
        with timer() as t:
            carga = rne.load(io.StringIO("\n".join(lines)), archivo="bench")
        t_ours = t[0]
        listed = min(LOOKUPS // 2, n)  # half in the list (all of it, at smoke size), half not
        wanted = [rne._normalise(x) for x in lines[:listed]] + [
            f"+57{x}" for x in range(3_300_000_000, 3_300_000_000 + LOOKUPS - listed)
        ]
        l_ours, l_base, found = lookups(wanted)
        db.session.remove()
        clear()
        db.engine.dispose()
    assert carga.cargados == n and found == listed, (carga, found)
    goal = GOAL_SECONDS * n / 1_000_000
    met = "cumplida" if t_ours <= goal else "NO cumplida"
    rows = [
        (
            f"carga de {n:,} números ({carga.invalidas:,} líneas inválidas)",
            f"{t_ours:.1f} s",
            f"{t_base:.1f} s*",
            ratio(t_ours, t_base),
        ),
        ("números/s", f"{n / t_ours:,.0f}", f"{n / t_base:,.0f}*", ratio(n / t_ours, n / t_base, True)),
        (
            f"búsqueda de {LOOKUPS:,} números",
            f"{l_ours * 1000:.0f} ms",
            f"{l_base * 1000:.0f} ms*",
            ratio(l_ours, l_base),
        ),
        (f"meta: {n:,} en ≤ {goal:.1f} s ({GOAL_SECONDS:.0f} s por millón)", met, "", ""),
    ]
    text = table(
        "B7 Registro de Números Excluidos", rows, info + "\n* línea base medida en una muestra y extrapolada"
    )
    verdict = "cumplido" if t_ours <= goal else "no cumplido"
    text += f"\nmetas: carga de {n:,} números en ≤ {goal:.1f} s: {verdict}\n"
    emit(text)
    return text


if __name__ == "__main__":
    run()
