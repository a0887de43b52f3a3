"""Test sends ("Enviar prueba"): one message to the signed-in user's own phone.

A test send is a campaign with ``prueba = true`` and one log row without client, written to
the same outbox and sent by the same sender as a real campaign. It is kept out of the
dashboard, the campaign list and every client's history, and never uses up the confirmation's
one-time key (it does not go through panel/idempotency.py at all).

It goes only to the user's own phone once verified (panel/sms/verificacion.py, SPEC §18), at
most SMS_TEST_SENDS_PER_HOUR an hour per user and SMS_TEST_SENDS_PER_DAY a Bogotá day per tenant:
the recipient is the staff member who asked, so the window, the cap, the RNE and the exclusions
do not apply to it (§15), and these limits are what keeps the button from pumping SMS.
"""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit, clock, formatting
from ..extensions import db
from ..models import CampanaSMS, Cliente, SMSLog, Usuario
from ..phones import e164
from . import lifecycle, reglas, tope, verificacion
from .encoding import analyze
from .outbox import OutboxError
from .render import TemplateError, personalizer

SIN_TELEFONO = (
    "Su cuenta no tiene teléfono para las pruebas: agréguelo en «Mi cuenta» (menú superior) "
    "como celular colombiano (3001234567) o con su indicativo (+573001234567)."
)
NO_VERIFICADO = "Teléfono no verificado."
VERIFIQUELO = (
    f"{NO_VERIFICADO} Verifíquelo en «Mi cuenta» (menú superior) con el código que le llega por SMS."
)
WINDOW = timedelta(hours=1)


class NoVerificado(OutboxError):
    """No phone, or not the one the user verified: the API answers 403 «Teléfono no verificado.»"""


class LimiteDePruebas(OutboxError):
    """Past the hour's or the day's test sends: the API answers 429."""


def limit_message(limit: int) -> str:
    return (
        f"Ya hizo {limit} envíos de prueba en la última hora, el máximo: espere un poco antes de enviar otro."
    )


def daily_limit_message(limit: int) -> str:
    return f"Su empresa ya hizo {limit} envíos de prueba hoy, el máximo del día: podrá enviar más mañana."


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


def sent_today(tenant: int) -> int:
    """The tenant's test sends since midnight in Bogotá, by the one clock."""
    t = CampanaSMS.__table__
    since, _until = tope.period("dia", clock.now())
    stmt = sa.select(sa.func.count()).where(
        t.c.id_propietario == tenant, t.c.prueba.is_(True), t.c.creado >= since
    )
    return db.session.scalar(stmt)


def phone_of(user: Usuario) -> str:
    """The user's verified phone in E.164, or NoVerificado saying how to add or verify it."""
    phone = e164(user.telefono, "CO")
    if phone is None:
        raise NoVerificado(SIN_TELEFONO, field="telefono")
    if not verificacion.is_verified(user):
        raise NoVerificado(VERIFIQUELO, field="telefono")
    if verificacion.taken_by_another(user, phone):
        raise NoVerificado(verificacion.TOMADO, field="telefono")
    return phone


def check_allowed(user: Usuario, limit: int, tenant: int) -> str:
    """The phone to send to, once verified and under the user's hour and the tenant's day."""
    phone = phone_of(user)
    if sent_last_hour(user.id) >= limit:
        raise LimiteDePruebas(limit_message(limit))
    daily = current_app.config["SMS_TEST_SENDS_PER_DAY"]
    if sent_today(tenant) >= daily:
        raise LimiteDePruebas(daily_limit_message(daily))
    return phone


def _lock_tenant(tenant: int) -> None:
    """Test sends of one tenant are counted and written one at a time (PostgreSQL: the admin's
    row lock; SQLite writes one at a time anyway), so two at once cannot pass a limit together."""
    db.session.execute(sa.select(Usuario.id).where(Usuario.id == tenant).with_for_update())


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
    _lock_tenant(tenant)
    user = db.session.get(Usuario, user_id)
    phone = check_allowed(user, limit, tenant)
    try:
        text = personalizer(mensaje or "")(*muestra)
    except TemplateError as exc:
        raise OutboxError(str(exc), field="mensaje") from None
    text = reglas.with_opt_out(text, reglas.of_tenant(tenant) if reglas.binds(tipo) else None)
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
