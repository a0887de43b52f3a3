"""Inicio: the admin index and its dashboard, aggregate queries only, scoped by the tenancy hook."""

import sqlalchemy as sa
from flask_admin import AdminIndexView, expose

from .. import formatting
from ..extensions import db
from ..models import ESTADOS_CLIENTE, CampanaSMS, Ciudad, Cliente, Departamento
from ..sms import lifecycle, resultados
from .comun.acceso import PanelAccessMixin

RECENT_CAMPAIGNS = 8
COMPARED_CAMPAIGNS = 5  # "the dashboard compares the last campaigns" (SPEC §20)
REAL = CampanaSMS.prueba.is_(False)  # test sends ("Enviar prueba") are not the business's figures
TOP_CITIES = 10


def clients_per_estado() -> list[dict]:
    rows = db.session.execute(sa.select(Cliente.estado, sa.func.count()).group_by(Cliente.estado)).all()
    counts = dict(rows)
    return [
        {"estado": code, "nombre": name, "total": counts.get(code, 0)}
        for code, name in ESTADOS_CLIENTE.items()
    ]


FUERA = "Fuera de Colombia"  # foreign cities have no departamento


def clients_per_city() -> list[dict]:
    total = sa.func.count().label("total")
    rows = db.session.execute(
        sa.select(Ciudad.nombre, Departamento.nombre, Ciudad.nombre_repetido, total)
        .join(Cliente, Cliente.id_ciudad == Ciudad.id)
        .outerjoin(Departamento, Departamento.id == Ciudad.id_departamento)
        .group_by(Ciudad.id, Ciudad.nombre, Departamento.nombre, Ciudad.nombre_repetido)
        .order_by(total.desc(), Ciudad.nombre)
        .limit(TOP_CITIES)
    ).all()
    return [
        {"ciudad": formatting.city(nombre, dep, repetido), "total": n} for nombre, dep, repetido, n in rows
    ]


def clients_per_departamento() -> list[dict]:
    """Every departamento with clients, most first; clients in foreign cities as one row."""
    total = sa.func.count().label("total")
    rows = db.session.execute(
        sa.select(Departamento.nombre, total)
        .select_from(Cliente)
        .join(Ciudad, Ciudad.id == Cliente.id_ciudad)
        .outerjoin(Departamento, Departamento.id == Ciudad.id_departamento)
        .group_by(Departamento.nombre)
        .order_by(total.desc(), Departamento.nombre)
    ).all()
    return [{"departamento": nombre or FUERA, "total": n} for nombre, n in rows]


def _campaign(c: CampanaSMS) -> dict:
    """A campaign's figures, from lifecycle.progress (skipped recipients are not progress)."""
    p = lifecycle.progress(c.id)
    sent = p["enviados"] + p["fallidos"]
    return {
        "id": c.id,
        "nombre": c.nombre,
        "estado": p["estado"],
        "total": p["total"],
        "enviados": p["enviados"],
        "fallidos": p["fallidos"],
        "omitidos": p["omitidos"],
        "progreso": p["porcentaje"],
        "exito": round(100 * p["enviados"] / sent) if sent else None,
    }


def recent_campaigns() -> list[dict]:
    newest = sa.select(CampanaSMS).where(REAL).order_by(CampanaSMS.creado.desc()).limit(RECENT_CAMPAIGNS)
    rows = db.session.scalars(newest)
    return [_campaign(c) for c in rows]


def campaigns_in_progress() -> list[dict]:
    running = CampanaSMS.estado.in_(("preparando", "programada", "pendiente", "procesando", "pausada"))
    rows = db.session.scalars(sa.select(CampanaSMS).where(running, REAL).order_by(CampanaSMS.creado))
    return [_campaign(c) for c in rows]


def _percent(fraction: float | None) -> float | None:
    """A rate for the chart: a percentage with one decimal, None where there is none."""
    return None if fraction is None else round(100 * fraction, 1)


def compared_campaigns() -> list[dict]:
    """The last campaigns side by side (sms/resultados.py, one statement): delivered rate, click
    rate, opt-outs within 72 h, real and estimated cost; oldest first, as a chart reads."""
    out = []
    for r in reversed(resultados.ultimas(COMPARED_CAMPAIGNS)):
        out.append(
            {
                "id": r.campana_id,
                "nombre": r.nombre,
                "entrega": _percent(r.tasa_entrega),
                "clics": _percent(r.tasa_clics),
                "bajas": r.bajas_72h,
                "cifras": r.pantalla(),
            }
        )
    return out


def dashboard_data() -> dict:
    """Everything the index page shows, as plain data (also embedded as JSON for the charts)."""
    return {
        "por_estado": clients_per_estado(),
        "por_ciudad": clients_per_city(),
        "por_departamento": clients_per_departamento(),
        "campanas": recent_campaigns(),
        "en_curso": campaigns_in_progress(),
        "resultados": compared_campaigns(),
    }


class PanelIndexView(PanelAccessMixin, AdminIndexView):
    """The admin index (the dashboard lives here)."""

    @expose("/")
    def index(self):
        return self.render("admin/index.html", data=dashboard_data())
