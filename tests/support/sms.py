"""Campaigns for tests: the sender pointed at the fake Twilio, campaigns made through the real
outbox, their rows and totals read back."""

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.formatting import BOGOTA
from panel.models import CampanaSMS, Cliente, SMSLog
from panel.sms import lifecycle, outbox, sender

from .. import factories

ROOT = Path(__file__).resolve().parent.parent.parent


def configure(app, twilio_app_config, **extra):
    """Point the app's sender at the fake, with fast retries and a private rate-limit key."""
    settings = {
        "SMS_RETRY_BACKOFF": 0.01,
        "SMS_RATE_PER_SECOND": 0,
        "SMS_RATE_KEY": f"test:sms:{secrets.token_hex(4)}",  # its own, whatever runs beside it
    }
    app.config.update({**twilio_app_config, **settings, **extra})


def campaign(owner, n: int = 3, mensaje: str = "Hola {nombre}", tipo: str = "transaccional", **fields) -> int:
    """A pending campaign of ``n`` sendable clients of ``owner``; returns its id.

    Transactional by default: these tests are about the sending machinery (retries, crashes, the
    rate limit, RQ worker processes the test's clock cannot reach), which must behave the same
    whatever hour CI runs at; the contact window and the cap have their own tests
    (tests/test_ley_envio.py), with the clock under control."""
    ids = [
        factories.cliente(owner, telefono=f"3002{i:06d}{n % 10}"[:10], **fields).id_cliente for i in range(n)
    ]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        campana = outbox.create_campaign(
            user_id=owner.id, cliente_query=query, mensaje=mensaje, nombre="Prueba", tipo=tipo
        )
    return campana.id


def wait_prepared(campana_id: int, seconds: float = 60.0) -> str:
    """Wait (bounded) until the campaign leaves ``preparando``: its outbox is whole (or it was
    cancelled); the estado it moved to."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot: see what the preparer committed
        estado = db.session.scalar(sa.select(CampanaSMS.estado).where(CampanaSMS.id == campana_id))
        if estado != lifecycle.PREPARING:
            return estado
        time.sleep(0.05)
    raise AssertionError(f"la campaña {campana_id} sigue preparándose")


def rows(campana_id: int) -> list[SMSLog]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(SMSLog).where(SMSLog.id_campana == campana_id).order_by(SMSLog.id))
    )


def assert_aggregates_match_rows(campana_id: int) -> CampanaSMS:
    """The campaign's totals equal the counts of its log rows."""
    db.session.expire_all()
    campana = db.session.get(CampanaSMS, campana_id)
    logs = rows(campana_id)
    assert campana.total_clientes == len(logs)
    assert campana.enviados_exitosos == sum(r.estado == "enviado" for r in logs)
    assert campana.enviados_fallidos == sum(r.estado == "fallido" for r in logs)
    return campana


def scheduled(owner, n: int, at: datetime, tipo: str = "transaccional") -> int:
    """A campaign of ``n`` clients scheduled for ``at`` (naive UTC); transactional, so that the
    time asked is the time it starts whatever the hour (the window has its own tests)."""
    ids = [factories.cliente(owner, telefono=f"3003{i:06d}").id_cliente for i in range(n)]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        return outbox.create_campaign(
            user_id=owner.id, cliente_query=query, mensaje="Hola {nombre}", programada_para=at, tipo=tipo
        ).id


# --- lawful sending (tests/test_ley_envio.py and the departure gate) ---------------------------


def bogota(text: str) -> datetime:
    """A Bogotá wall-clock time as stored: naive UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=BOGOTA).astimezone(UTC).replace(tzinfo=None)


def clientes(owner, n: int, start: int = 0) -> list[int]:
    return [factories.cliente(owner, telefono=f"3104{start + i:06d}").id_cliente for i in range(n)]


def commercial(owner, ids: list[int], mensaje: str = "Oferta para {nombre}", **extra) -> int:
    """A commercial campaign (the default tipo) to these clients; returns its id."""
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        return outbox.create_campaign(user_id=owner.id, cliente_query=query, mensaje=mensaje, **extra).id


def campana(cid: int) -> CampanaSMS:
    db.session.expire_all()
    return db.session.get(CampanaSMS, cid)


def poll_and_send() -> list[int]:
    """What a sender's poll does: start the due campaigns and run every active one."""
    active = lifecycle.campaigns_with_work()
    for cid in active:
        sender.run_campaign(cid)
    return active
