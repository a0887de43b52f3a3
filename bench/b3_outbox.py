"""B3: creating the outbox of a campaign to every client matching a filter (one tenant),
ours (``create_campaign``: set-based plan and batched Core inserts) against one ORM ``SMSLog``
object per recipient, as the SMS document's code would do it."""

import sqlalchemy as sa

from panel import tenancy
from panel.admin.clientes.filtros import matching_clientes
from panel.extensions import db
from panel.models import CampanaSMS, SMSLog, Usuario
from panel.sms.outbox import create_campaign, dry_run

from .common import bench_config, emit, machine_info, ratio, size, table, timer
from .generate import ensure, tenant_ids

FILTROS = "flt0_creado_desde=2000-01-01"  # every client of the tenant
# Issue #19: a 100,000-recipient outbox within these seconds, and this many times the baseline.
GOAL_SECONDS = {"postgresql": 2.0, "sqlite": 3.0}
GOAL_RATIO = 10.0
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
GOAL_ROWS = 100_000
MENSAJE = "Hola {nombre}, tenemos una oferta para usted. Responda STOP para no recibir más."


def ours(admin_id: int) -> tuple[float, int]:
    with timer() as t:
        campana = create_campaign(
            user_id=admin_id,
            cliente_query=matching_clientes(FILTROS),
            mensaje=MENSAJE,
            nombre="bench B3 ours",
            filtros=FILTROS,
        )
    return t[0], campana.id


def warm_up() -> None:
    """Read the tenant's clients once, untimed, before both ways: the database server's cache is
    shared with other databases, and whichever runs first would otherwise pay the cold reads."""
    dry_run(matching_clientes(FILTROS), MENSAJE)
    db.session.remove()


def baseline(admin_id: int) -> tuple[float, int]:
    """The document's way: a campaign, then for each client an SMSLog object, one commit at the end
    (kinder than a commit per row, which the document does)."""
    with timer() as t:
        admin = db.session.get(Usuario, admin_id)
        campana = CampanaSMS(
            nombre="bench B3 baseline",
            mensaje=MENSAJE,
            id_usuario=admin.id,
            id_propietario=admin.tenant_id,
            estado="pendiente",
        )
        db.session.add(campana)
        db.session.flush()
        n = 0
        for cliente in db.session.scalars(matching_clientes(FILTROS)):
            texto = MENSAJE.replace("{nombre}", cliente.nombre_cliente)
            db.session.add(
                SMSLog(
                    campana=campana,
                    cliente=cliente,
                    id_cliente=cliente.id_cliente,
                    telefono=cliente.telefono,
                    mensaje=texto,
                    estado="pendiente",
                )
            )
            n += 1
        campana.total_clientes = n
        db.session.commit()
    return t[0], campana.id


def rows_of(campana_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(SMSLog).where(SMSLog.id_campana == campana_id)
    )


def drop(*campana_ids: int) -> None:
    """Remove the benchmark's campaigns, so the data set stays as generated."""
    with db.engine.begin() as conn:
        conn.execute(SMSLog.__table__.delete().where(SMSLog.__table__.c.id_campana.in_(campana_ids)))
        conn.execute(CampanaSMS.__table__.delete().where(CampanaSMS.__table__.c.id.in_(campana_ids)))


def vacuum(url) -> None:
    """PostgreSQL: VACUUM the outbox tables once the process let go of its connections. The
    benchmark server runs without autovacuum: every run would leave its 200,000 dead rows in
    the table and its 7 indexes (5.3 million had piled up), and later runs insert into the bloat."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.exec_driver_sql("VACUUM sms_log, campana_sms")
    finally:
        engine.dispose()


def run(s=None) -> str:
    s = s or size()
    url = ensure(s)
    from panel import create_app

    app = create_app(bench_config(url))
    admin_id = tenant_ids(url)["admins"][0]
    with app.app_context():
        engine = db.engine.dialect.name
        info = machine_info(db.engine) + f"\nen proceso, tamaño {s.name}"
        admin = db.session.get(Usuario, admin_id)
        with tenancy.using(admin):
            warm_up()
            t_ours, c_ours = ours(admin_id)
            db.session.remove()
            t_base, c_base = baseline(admin_id)
            db.session.remove()
            n_ours, n_base = rows_of(c_ours), rows_of(c_base)
            drop(c_ours, c_base)
        db.session.remove()
        engine_url = db.engine.url  # with the driver the app chose
        db.engine.dispose()
    vacuum(engine_url)
    assert n_ours == n_base, f"filas distintas: {n_ours} vs {n_base}"
    rows = [
        (
            f"outbox de {n_ours:,} destinatarios: tiempo",
            f"{t_ours:.2f} s",
            f"{t_base:.2f} s",
            ratio(t_ours, t_base),
        ),
        (
            "filas/s",
            f"{n_ours / t_ours:,.0f}",
            f"{n_base / t_base:,.0f}",
            ratio(n_ours / t_ours, n_base / t_base, True),
        ),
    ]
    text = (
        table("B3 creación de campaña (outbox)", rows, info)
        + "\n"
        + goals(engine, n_ours, t_ours, t_base)
        + "\n"
    )
    emit(text)
    return text


def _met(ok: bool) -> str:
    return "cumplido" if ok else "no cumplido"


def goals(engine: str, n: int, t_ours: float, t_base: float) -> str:
    """The issue's two goals, met or not, for this engine (measured at GOAL_ROWS recipients)."""
    limit = GOAL_SECONDS[engine]
    return (
        f"metas ({ENGINE_NAMES[engine]}): "
        f"≤ {limit:.0f} s para {GOAL_ROWS:,} destinatarios: {_met(t_ours <= limit)}; "
        f"≥ {GOAL_RATIO:.0f}× la base: {_met(t_base >= GOAL_RATIO * t_ours)}"
        + ("" if n == GOAL_ROWS else f" (metas para {GOAL_ROWS:,} destinatarios; aquí {n:,})")
    )


if __name__ == "__main__":
    run()
