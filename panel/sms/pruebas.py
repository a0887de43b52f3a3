"""Test sends ("Enviar prueba"): one message to the signed-in user's own phone.

A test send is a campaign with ``prueba = true`` and one log row without client, written to
the same outbox and sent by the same sender as a real campaign. It is kept out of the
dashboard, the campaign list and every client's history, and never uses up the confirmation's
one-time key (it does not go through panel/idempotency.py at all).
"""

from datetime import timedelta

import sqlalchemy as sa

from .. import audit, clock, formatting
from ..extensions import db
from ..models import CampanaSMS, Cliente, SMSLog, Usuario
from ..phones import e164
from . import lifecycle, reglas
from .encoding import analyze
from .outbox import OutboxError
from .render import TemplateError, personalizer

SIN_TELEFONO = (
    "Su cuenta no tiene teléfono para las pruebas: agréguelo en «Mi cuenta» (menú superior) "
    "como celular colombiano (3001234567) o con su indicativo (+573001234567)."
)
WINDOW = timedelta(hours=1)


def limit_message(limit: int) -> str:
    return (
        f"Ya hizo {limit} envíos de prueba en la última hora, el máximo: espere un poco antes de enviar otro."
    )


def sample_of_query(cliente_query) -> tuple[str, str | None] | None:
    """The first recipient's names (by id), whose personalised text the test shows."""
    stmt = cliente_query.with_only_columns(Cliente.nombre_cliente, Cliente.apellido_cliente)
    row = db.session.execute(stmt.order_by(None).order_by(Cliente.id_cliente).limit(1)).first()
    return (row[0], row[1]) if row else None


def sample_of_user(user: Usuario) -> tuple[str, str | None]:
    """From a template the sample is the user: first word of the name, then the rest."""
    words = (user.nombre or user.email.split("@")[0]).split()
    return words[0], " ".join(words[1:]) or None


def sent_last_hour(user_id: int) -> int:
    """The user's test sends in the last hour, by the one clock."""
    t = CampanaSMS.__table__  # Core: a count of the user's own rows, whatever tenant they are in
    since = clock.utcnow() - WINDOW
    stmt = sa.select(sa.func.count()).where(
        t.c.id_usuario == user_id, t.c.prueba.is_(True), t.c.creado >= since
    )
    return db.session.scalar(stmt)


def phone_of(user: Usuario) -> str:
    """The user's phone in E.164, or OutboxError saying how to add one."""
    phone = e164(user.telefono, "CO")
    if phone is None:
        raise OutboxError(SIN_TELEFONO, field="telefono")
    return phone


def check_allowed(user: Usuario, limit: int) -> str:
    """The phone to send to, once the user has one and is under the hourly limit."""
    phone = phone_of(user)
    if sent_last_hour(user.id) >= limit:
        raise OutboxError(limit_message(limit))
    return phone


def create_test_send(
    *,
    user_id: int,
    mensaje: str,
    muestra,
    tenant: int,
    limit: int,
    id_plantilla=None,
    nombre=None,
    tipo: str = "comercial",
) -> CampanaSMS:
    """Write the test campaign and its one row (one transaction); OutboxError on bad input.

    The text is the one the clients would get: a commercial one ends with the tenant's opt-out
    text. The test itself ignores the window and the cap (SPEC §15)."""
    try:
        return _create(user_id, mensaje, muestra, tenant, limit, id_plantilla, nombre, tipo)
    except Exception:
        db.session.rollback()
        raise


def _create(user_id, mensaje, muestra, tenant, limit, id_plantilla, nombre, tipo) -> CampanaSMS:
    user = db.session.get(Usuario, user_id)
    phone = check_allowed(user, limit)
    try:
        text = personalizer(mensaje or "")(*muestra)
    except TemplateError as exc:
        raise OutboxError(str(exc), field="mensaje") from None
    if reglas.binds(tipo):
        text += reglas.of_tenant(tenant).texto_baja
    info = analyze(text)
    campana = CampanaSMS(
        nombre=f"Prueba: {(nombre or '').strip() or formatting.date_time(clock.utcnow())}"[:200],
        mensaje=mensaje,
        id_plantilla=id_plantilla,
        filtros={"prueba": True},
        estado=lifecycle.initial(None),  # the lifecycle owns every estado, the first one too
        prueba=True,
        tipo=tipo,
        id_usuario=user.id,
        id_propietario=tenant,
    )
    db.session.add(campana)
    db.session.flush()
    log = SMSLog(id_campana=campana.id, id_cliente=None, prueba=True, telefono=phone, mensaje=text)
    log.segmentos, log.codificacion, log.id_propietario = info.segments, info.encoding, tenant
    db.session.add(log)
    db.session.flush()
    lifecycle.refresh_totals(campana.id, finish=False)
    audit.record(
        "sms",
        "CampanaSMS",
        filas=1,
        objeto_id=campana.id,
        resumen=f"Prueba de SMS a {phone}",
        id_propietario=tenant,
        usuario_id=user.id,
    )
    db.session.commit()
    return campana
