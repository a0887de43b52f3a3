"""Driving the SMS pages as a browser does: selections, progress, campaign URLs, test sends."""

import time

import sqlalchemy as sa
from flask import url_for

from panel.admin.comun.modelview import TenantModelView
from panel.extensions import db
from panel.models import CampanaSMS, Usuario
from panel.phones import e164

from ..helpers import csrf_of

TELEFONO = "3109998877"


def _ids(clientes) -> str:
    return ",".join(str(c.id_cliente) for c in clientes)


def wait_finished(client, campana_id: int, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progreso = client.get(f"/admin/campanas-sms/{campana_id}/progreso.json").get_json()
        if progreso["estado"] not in ("preparando", "pendiente", "procesando"):
            return progreso
        time.sleep(0.1)
    raise AssertionError(f"la campaña no terminó: {progreso}")


def poll_progress(client, url: str, seen: list | None = None, timeout: float = 120) -> dict:
    """Poll a background job's progress JSON (an import, an RNE load) until it says
    ``terminado``; every answer goes to ``seen``. Bounded: a job that never ends fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = client.get(url).get_json()
        if seen is not None:
            seen.append(p)
        if p["terminado"]:
            return p
        time.sleep(0.02)
    raise AssertionError(f"{url} no terminó: {p}")


def url(cid: int, action: str = "") -> str:
    return f"/clientes/campanas-sms/{cid}/" + (action and f"{action}/")


def wait_until(predicate, what: str, seconds: float = 60.0):
    """Bounded wait for something to happen (never an assertion on how fast)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"no ocurrió: {what}")


def set_phone(user_id: int, telefono: str | None = TELEFONO) -> None:
    """A fixture: the user's phone, already verified (tests/test_phone_verification.py goes
    through the real code by SMS)."""
    user = db.session.get(Usuario, user_id)
    user.telefono, user.telefono_verificado = telefono, e164(telefono, "CO")
    db.session.commit()


def pruebas_enviadas() -> list[CampanaSMS]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(CampanaSMS).where(CampanaSMS.prueba.is_(True))))


def post_test(client, clientes, mensaje="Hola {nombre}"):
    token = csrf_of(client, f"/admin/enviar-sms/?ids={_ids(clientes)}")
    data = {"ids": _ids(clientes), "mensaje": mensaje, "paso": "prueba", "csrf_token": token}
    return client.post("/admin/enviar-sms/", data=data)


def exporting_lists(app) -> dict[str, str]:
    """The list URL of every model view that exports (read from the app, not listed by hand)."""
    views = app.extensions["panel_admin"]._views
    with app.test_request_context():
        return {
            v.endpoint: url_for(f"{v.endpoint}.index_view")
            for v in views
            if isinstance(v, TenantModelView) and v.export_types
        }
