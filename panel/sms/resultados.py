"""What a campaign achieved (SPEC §20 "Campaign results"): sent, delivered, failed, skipped, unique
clicks and the click rate over delivered, opt-outs within 72 h, the real cost (Twilio's prices from
its status callbacks) beside the estimate. One definition, in SQL, for the campaign's page, the
API's campaign JSON, the campaigns' export and the dashboard's comparison.

The figures are aggregates of the campaign's ``sms_log`` rows, one grouped statement for any
number of campaigns, read through the ORM so the tenancy hook scopes it; a row always belongs to
its campaign's tenant (the composite key), and the opt-outs are matched within the row's own
tenant, so a superadmin's view mixes no tenant's evidence into another's figures.

- **enviados**: rows Twilio accepted (``estado`` enviado); **fallidos**: rows it never got or
  refused (``fallido``); **omitidos**: recipients the law or the lists skipped.
- **entregados** / **no_entregados**: what the carriers reported in the status callbacks
  (``estado_entrega`` delivered or read / undelivered or failed).
- **bajas_72h**: sent recipients who withdrew consent (``consent.py``'s evidence for the client,
  or the number put on the tenant's exclusion list) in the 72 hours after their message left.
- **costo_real**: the sum of Twilio's prices (``sms_log.precio``, webhooks.py); None until
  Twilio priced a message, or when the prices came in more than one currency.
- **costo_estimado**: the segments sent × SMS_PRICE_PER_SEGMENT, as the review estimated them.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from .. import formatting
from ..extensions import db
from ..models import CampanaSMS, ConsentimientoSMS, NumeroExcluidoPropio, SMSLog
from . import enlaces

PLAZO_BAJAS = timedelta(hours=72)
ENTREGADO = ("delivered", "read")
NO_ENTREGADO = ("undelivered", "failed")
DINERO = sa.Numeric(16, 5)
TASA = sa.Numeric(14, 1)  # a percentage with one decimal (clicks may outnumber deliveries reported)


# --- a moment plus the opt-out period, on both engines ----------------------------------------


class _MasPlazo(FunctionElement):
    """``moment + PLAZO_BAJAS`` in SQL (SQLite has no interval type)."""

    type = sa.DateTime()
    inherit_cache = True
    name = "mas_plazo"


@compiles(_MasPlazo)
def _mas_plazo_postgresql(element, compiler, **kw):
    hours = int(PLAZO_BAJAS.total_seconds() // 3600)
    return f"({compiler.process(element.clauses, **kw)} + INTERVAL '{hours} hours')"


@compiles(_MasPlazo, "sqlite")
def _mas_plazo_sqlite(element, compiler, **kw):
    # The stored text is 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime's %f keeps the milliseconds, so
    # text comparison with the stored moments stays right to the millisecond.
    hours = int(PLAZO_BAJAS.total_seconds() // 3600)
    return f"strftime('%Y-%m-%d %H:%M:%f', {compiler.process(element.clauses, **kw)}, '+{hours} hours')"


# --- the figures as SQL ------------------------------------------------------------------------


def _bajas(campanas) -> sa.Subquery:
    """The sent rows whose recipient opted out within PLAZO_BAJAS after the message left, counted
    by campaign. Driven from the evidence (few rows) to the log by the client or the number (both
    indexed): an EXISTS per log row cost 5 s on a 100,000-row campaign, this a join."""
    desde, hasta = SMSLog.enviado_en, _MasPlazo(SMSLog.enviado_en)
    sent = [SMSLog.estado == "enviado", SMSLog.enviado_en.is_not(None)]
    if campanas is not None:
        sent.append(SMSLog.id_campana.in_(campanas))
    por_cliente = (
        sa.select(SMSLog.id, SMSLog.id_campana)
        .join(
            ConsentimientoSMS,
            sa.and_(
                ConsentimientoSMS.id_cliente == SMSLog.id_cliente,
                ConsentimientoSMS.id_propietario == SMSLog.id_propietario,
                ConsentimientoSMS.acepta.is_(False),
                ConsentimientoSMS.fecha >= desde,
                ConsentimientoSMS.fecha < hasta,
            ),
        )
        .where(*sent)
    )
    por_numero = (
        sa.select(SMSLog.id, SMSLog.id_campana)
        .join(
            NumeroExcluidoPropio,
            sa.and_(
                NumeroExcluidoPropio.numero == SMSLog.telefono,
                NumeroExcluidoPropio.id_propietario == SMSLog.id_propietario,
                NumeroExcluidoPropio.creado >= desde,
                NumeroExcluidoPropio.creado < hasta,
            ),
        )
        .where(*sent)
    )
    filas = sa.union(por_cliente, por_numero).subquery()  # UNION: a row with both counts once
    return (
        sa.select(filas.c.id_campana, sa.func.count().label("n"))
        .group_by(filas.c.id_campana)
        .subquery("bajas")
    )


def _contar(condicion) -> ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((condicion, 1), else_=0)), 0)


def agregados(campanas=None) -> sa.Subquery:
    """The log's figures grouped by campaign (``campanas``: an id list or a SELECT of ids; None:
    every campaign in scope), to outer-join on ``CampanaSMS.id``."""
    enviado = SMSLog.estado == "enviado"
    stmt = sa.select(
        SMSLog.id_campana.label("id_campana"),
        _contar(enviado).label("enviados"),
        _contar(SMSLog.estado_entrega.in_(ENTREGADO)).label("entregados"),
        _contar(SMSLog.estado_entrega.in_(NO_ENTREGADO)).label("no_entregados"),
        _contar(SMSLog.estado == "fallido").label("fallidos"),
        _contar(SMSLog.estado == "omitido").label("omitidos"),
        sa.func.coalesce(sa.func.sum(sa.case((enviado, SMSLog.segmentos), else_=0)), 0).label("segmentos"),
        sa.cast(sa.func.sum(SMSLog.precio), DINERO).label("precio"),
        sa.func.min(SMSLog.precio_unidad).label("unidad_min"),
        sa.func.max(SMSLog.precio_unidad).label("unidad_max"),
    ).group_by(SMSLog.id_campana)
    if campanas is not None:
        stmt = stmt.where(SMSLog.id_campana.in_(campanas))
    logs, bajas = stmt.subquery("logs"), _bajas(campanas)
    return (
        sa.select(*logs.c, sa.func.coalesce(bajas.c.n, 0).label("bajas_72h"))
        .outerjoin(bajas, bajas.c.id_campana == logs.c.id_campana)
        .subquery("resultados")
    )


def columnas(agg: sa.Subquery, campana_id=CampanaSMS.id) -> dict[str, ColumnElement]:
    """Each figure as an expression over ``agg`` (outer-joined: a campaign without rows reads 0),
    by its name in the API."""
    n = lambda name: sa.func.coalesce(agg.c[name], 0)  # noqa: E731
    clics = enlaces.clics_unicos(campana_id)
    una_moneda = agg.c.unidad_min == agg.c.unidad_max
    # A numeric (a decimal literal): PostgreSQL's round(x, 1) takes no double, SQLite's
    # integer division would drop the decimals.
    cien = sa.literal(Decimal("100.0"), sa.Numeric(4, 1))
    por_ciento = sa.func.round(clics * cien / sa.func.nullif(n("entregados"), 0), 1)
    precio = current_app.config["SMS_PRICE_PER_SEGMENT"]
    return {
        "enviados": n("enviados").label("enviados"),
        "entregados": n("entregados").label("entregados"),
        "no_entregados": n("no_entregados").label("no_entregados"),
        "fallidos": n("fallidos").label("fallidos"),
        "omitidos": n("omitidos").label("omitidos"),
        "clics_unicos": clics.label("clics_unicos"),
        "tasa_clics": sa.cast(por_ciento, TASA).label("tasa_clics"),
        "bajas_72h": n("bajas_72h").label("bajas_72h"),
        "segmentos": n("segmentos").label("segmentos"),
        "costo_real": sa.case((una_moneda, agg.c.precio)).label("costo_real"),
        "moneda_real": sa.case((una_moneda, agg.c.unidad_max)).label("moneda_real"),
        "costo_estimado": sa.cast(n("segmentos") * sa.literal(precio, DINERO), DINERO).label(
            "costo_estimado"
        ),
    }


# --- the figures as values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Resultados:
    """One campaign's figures (see the module docstring for what each counts)."""

    campana_id: int
    nombre: str
    enviados: int
    entregados: int
    no_entregados: int
    fallidos: int
    omitidos: int
    clics_unicos: int | None  # None: the campaign had no tracked links
    bajas_72h: int
    segmentos: int
    costo_real: Decimal | None
    moneda_real: str | None
    costo_estimado: Decimal
    moneda_estimado: str

    @property
    def tasa_entrega(self) -> float | None:
        """Delivered over sent, 0–1; None before anything was sent."""
        return self.entregados / self.enviados if self.enviados else None

    @property
    def tasa_clics(self) -> float | None:
        """Unique clicks over delivered, 0–1 (SPEC §20); None without links or deliveries."""
        if self.clics_unicos is None or not self.entregados:
            return None
        return self.clics_unicos / self.entregados

    def api(self) -> dict:
        """The API's ``resultados`` object (SPEC §20): money as decimal strings."""
        tasa = self.tasa_clics
        return {
            "enviados": self.enviados,
            "entregados": self.entregados,
            "no_entregados": self.no_entregados,
            "fallidos": self.fallidos,
            "omitidos": self.omitidos,
            "clics_unicos": self.clics_unicos,
            "tasa_clics": None if tasa is None else round(tasa, 4),
            "bajas_72h": self.bajas_72h,
            "costo_real": None if self.costo_real is None else _plain(self.costo_real),
            "moneda_costo_real": self.moneda_real,
            "costo_estimado": _plain(self.costo_estimado),
            "moneda_costo_estimado": self.moneda_estimado,
        }

    def pantalla(self) -> dict:
        """The figures as people read them (panel/formatting.py): the page, the dashboard, the
        chart's data (counts stay numbers)."""
        guion = "—"
        return {
            "enviados": self.enviados,
            "entregados": self.entregados,
            "no_entregados": self.no_entregados,
            "fallidos": self.fallidos,
            "omitidos": self.omitidos,
            "clics_unicos": guion if self.clics_unicos is None else formatting.number(self.clics_unicos),
            "tasa_entrega": formatting.percent(self.tasa_entrega),
            "tasa_clics": formatting.percent(self.tasa_clics),
            "bajas_72h": self.bajas_72h,
            "costo_real": guion
            if self.costo_real is None
            else formatting.cost(self.costo_real.normalize(), self.moneda_real),
            "costo_estimado": formatting.cost(self.costo_estimado.normalize(), self.moneda_estimado),
        }


def _plain(amount: Decimal) -> str:
    """'0.0225', '75': no trailing zeros, never an exponent ('1E+2')."""
    return format(amount.normalize(), "f")


def _leer(filas) -> list[Resultados]:
    moneda = current_app.config["SMS_PRICE_CURRENCY"]
    out = []
    for f in filas:
        real = None if f.costo_real is None else Decimal(f.costo_real)
        out.append(
            Resultados(
                campana_id=f.id,
                nombre=f.nombre,
                enviados=f.enviados,
                entregados=f.entregados,
                no_entregados=f.no_entregados,
                fallidos=f.fallidos,
                omitidos=f.omitidos,
                clics_unicos=f.clics_unicos,
                bajas_72h=f.bajas_72h,
                segmentos=f.segmentos,
                costo_real=real,
                moneda_real=f.moneda_real,
                costo_estimado=Decimal(f.costo_estimado),
                moneda_estimado=moneda,
            )
        )
    return out


def _consulta(campanas):
    agg = agregados(campanas)
    figuras = columnas(agg)
    stmt = sa.select(CampanaSMS.id, CampanaSMS.nombre, *figuras.values())
    return stmt.outerjoin(agg, agg.c.id_campana == CampanaSMS.id)


def de_campanas(ids: list[int]) -> dict[int, Resultados]:
    """The figures of these campaigns (those in scope), in one statement."""
    if not ids:
        return {}
    filas = db.session.execute(_consulta(ids).where(CampanaSMS.id.in_(ids)))
    return {r.campana_id: r for r in _leer(filas)}


def de_campana(campana_id: int) -> Resultados | None:
    """One campaign's figures; None when it is not in scope."""
    return de_campanas([campana_id]).get(campana_id)


def ultimas(n: int) -> list[Resultados]:
    """The last ``n`` real campaigns (test sends left out), newest first, in one statement."""
    recientes = (
        sa.select(CampanaSMS.id)
        .where(CampanaSMS.prueba.is_(False))
        .order_by(CampanaSMS.creado.desc(), CampanaSMS.id.desc())
        .limit(n)
    )
    ids = recientes.subquery()
    stmt = _consulta(sa.select(ids.c.id)).where(CampanaSMS.id.in_(sa.select(ids.c.id)))
    filas = db.session.execute(stmt.order_by(CampanaSMS.creado.desc(), CampanaSMS.id.desc()))
    return _leer(filas)
