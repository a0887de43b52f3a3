# ruff: noqa: F811 — pytest fixtures (keys) are imported and then named as parameters
"""Permissions have one home (SPEC §3, §15, §18): the table of who may do what, the views that
ask it, "Reintentar fallidos" under the reanudar rule, and API tokens in the Historial.

The retries run through the real sender, the real database and the fake Twilio over HTTP."""

import re
import time

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from panel import tenancy
from panel.extensions import db
from panel.models import ApiToken, CampanaSMS, Cliente, Historial, Usuario
from panel.models import users as permisos
from panel.sms import lifecycle, outbox, runners, sender

from . import factories
from .api_support import auth, keys, token_for  # noqa: F401 — keys: the fixture
from .helpers import csrf_from, csrf_of, login
from .support.sms import assert_aggregates_match_rows, configure, rows

ROLES = ("superadmin", "admin", "vendedor", "cliente")

# SPEC §3, one line per decision: (superadmin, admin, vendedor, cliente). Anonymous: never.
TABLE = {
    "is_staff": (1, 1, 1, 0),
    "can_read": (1, 1, 1, 0),
    "can_write": (1, 1, 0, 0),
    "can_export": (1, 1, 0, 0),
    "can_send_sms": (1, 1, 1, 0),
    "can_send_transactional": (1, 1, 0, 0),
    "can_manage_users": (1, 1, 0, 0),
    "can_manage_tokens": (1, 1, 0, 0),
    "may_hold_token": (1, 1, 1, 0),
    "can_see_historial": (1, 1, 0, 0),
    "can_import": (1, 1, 0, 0),
    "can_configure_sending": (0, 1, 0, 0),  # the tenant's own settings: the superadmin has none
    "can_read_catalogs": (1, 1, 0, 0),
    "can_manage_catalogs": (1, 0, 0, 0),
    "can_load_rne": (1, 0, 0, 0),
    "sees_every_tenant": (1, 0, 0, 0),
}


def accounts(tenants) -> dict[str, Usuario]:
    return {rol: db.session.get(Usuario, getattr(tenants, name).id) for rol, name in ROLE_USERS.items()}


ROLE_USERS = {
    "superadmin": "superadmin",
    "admin": "admin_a",
    "vendedor": "vendedor_a",
    "cliente": "cliente_a",
}


# --- the table -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_permission_answers_for_each_role_as_the_spec_table_says(app, tenants, name):
    ask = getattr(permisos, name)
    users = accounts(tenants)
    answers = tuple(int(bool(ask(users[rol]))) for rol in ROLES)
    assert answers == TABLE[name], f"{name}: {dict(zip(ROLES, answers, strict=True))}"
    if name != "may_hold_token":  # asked of stored accounts, never of the request's user
        assert not ask(AnonymousUserMixin())


def test_who_may_steer_and_whose_accounts_an_admin_may_change(app, tenants):
    users = accounts(tenants)
    otro = factories.user("vendedor.a2@test.co", "vendedor", creado_por=tenants.admin_a)
    campana = CampanaSMS(id_usuario=tenants.vendedor_a.id, id_propietario=tenants.admin_a.id)
    steer = {rol: permisos.can_steer(u, campana) for rol, u in users.items()}
    assert steer == {"superadmin": True, "admin": True, "vendedor": True, "cliente": False}
    assert not permisos.can_steer(db.session.get(Usuario, otro.id), campana)
    assert not permisos.can_steer(AnonymousUserMixin(), campana)

    admin, vendedor = users["admin"], users["vendedor"]
    assert permisos.can_manage_user(users["superadmin"], admin)
    assert permisos.can_manage_user(admin, vendedor) and not permisos.can_manage_user(admin, admin)
    assert not permisos.can_manage_user(admin, db.session.get(Usuario, tenants.vendedor_b.id))
    assert not permisos.can_manage_user(vendedor, db.session.get(Usuario, otro.id))
    assert permisos.assignable_roles(users["superadmin"]) == permisos.ROLES
    assert permisos.assignable_roles(admin) == ("vendedor", "cliente")
    assert permisos.assignable_roles(vendedor) == ()


# Each page and the permission it asks.
PAGES = {
    "/admin/clientes/": "can_read",
    "/admin/enviar-sms/": "can_send_sms",
    "/admin/historial/": "can_see_historial",
    "/admin/tokens/": "can_manage_tokens",
    "/admin/usuarios/": "can_manage_users",
    "/admin/clientes/importar/": "can_import",
    "/admin/paises/": "can_read_catalogs",
    "/admin/departamentos/": "can_read_catalogs",
    "/admin/ciudades/": "can_read_catalogs",
    "/admin/paises/new/": "can_manage_catalogs",
    "/admin/ciudades/new/": "can_manage_catalogs",
    "/admin/rne/": "can_load_rne",
}


@pytest.mark.parametrize("rol", ["superadmin", "admin", "vendedor"])
def test_every_page_opens_for_exactly_the_roles_its_permission_allows(app, tenants, rol):
    user = accounts(tenants)[rol]
    client = app.test_client()
    login(client, user.email)
    for url, name in PAGES.items():
        expected = 200 if getattr(permisos, name)(user) else 403
        assert client.get(url).status_code == expected, (rol, url)


# --- "Reintentar fallidos" is reanudar from error -------------------------------------------


def sent_by(sender_id: int, owner, n: int = 2) -> int:
    """A transactional campaign of ``n`` clients of ``owner``, sent by the user ``sender_id``
    (transactional: the retry is about the lifecycle, whatever the hour)."""
    ids = [factories.cliente(owner, telefono=f"30077700{i:02d}").id_cliente for i in range(n)]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        return outbox.create_campaign(
            user_id=sender_id,
            cliente_query=query,
            mensaje="Hola {nombre}",
            nombre="Reintento",
            tipo="transaccional",
        ).id


def failed_while_twilio_was_down(
    app, twilio_app_config, fake_twilio, campana_id: int, abort_after: int = 1
) -> None:
    """Run the campaign with Twilio unreachable: every row fails, retryable. With ``abort_after``
    1 the campaign ends in error; with more failures allowed than rows it ends completado."""
    configure(
        app,
        twilio_app_config,
        SMS_MAX_ATTEMPTS=1,
        SMS_ABORT_AFTER=abort_after,
        SMS_CONCURRENCY=1,
        SMS_BATCH_SIZE=1,
    )
    fake_twilio.stop()
    sender.run_campaign(campana_id)
    fake_twilio.start()  # back, on the same port
    assert all((r.estado, r.reintentable) == ("fallido", True) for r in rows(campana_id))


def estado(campana_id: int) -> str:
    db.session.expire_all()
    return db.session.get(CampanaSMS, campana_id).estado


def snapshot(campana_id: int) -> tuple:
    """The campaign's estado and every row's state: what a refused retry must leave alone."""
    return estado(campana_id), [(r.estado, r.reintentable, r.error_mensaje) for r in rows(campana_id)]


def wait_until(predicate, what: str, seconds: float = 30.0):
    """Bounded wait for the sender (never an assertion on how fast)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"no ocurrió: {what}")


def retry_in_panel(client, campana_id: int):
    token = csrf_of(client, f"/admin/campanas-sms/{campana_id}/")
    return client.post(f"/admin/campanas-sms/{campana_id}/reintentar", data={"csrf_token": token})


def assert_sent_exactly_once(fake_twilio, campana_id: int, n: int) -> None:
    wait_until(lambda: estado(campana_id) == "completado", "campaña completada")
    assert [r.estado for r in rows(campana_id)] == ["enviado"] * n
    assert len(fake_twilio.created) == n and fake_twilio.duplicates() == []
    assert_aggregates_match_rows(campana_id)


@pytest.mark.parametrize("who", ["vendedor_a", "admin_a"])
def test_the_sender_and_an_admin_retry_an_error_campaign_and_each_row_goes_once(
    app, tenants, fake_twilio, twilio_app_config, who
):
    cid = sent_by(tenants.vendedor_a.id, tenants.admin_a)
    failed_while_twilio_was_down(app, twilio_app_config, fake_twilio, cid)
    assert estado(cid) == "error"
    client = app.test_client()
    login(client, getattr(tenants, who).email)
    assert 'data-testid="reintentar"' in client.get(f"/admin/campanas-sms/{cid}/").get_data(as_text=True)
    answer = retry_in_panel(client, cid)
    assert answer.status_code == 302
    assert_sent_exactly_once(fake_twilio, cid, 2)
    # the newest entry by id: a table emptied by DELETE between tests reuses its space, so
    # PostgreSQL returns rows in no particular order without an ORDER BY
    entries = sa.select(Historial).where(Historial.modelo == "CampanaSMS").order_by(Historial.id)
    entry = db.session.scalars(entries).all()[-1]
    assert entry.id_usuario == getattr(tenants, who).id and "Reintentar fallidos" in entry.resumen


def test_another_vendedor_may_not_retry_in_the_panel_nor_in_the_api(
    app, tenants, fake_twilio, twilio_app_config
):
    cid = sent_by(tenants.vendedor_a.id, tenants.admin_a)
    failed_while_twilio_was_down(app, twilio_app_config, fake_twilio, cid)
    otro = factories.user("vendedor.a2@test.co", "vendedor", creado_por=tenants.admin_a)
    before = snapshot(cid)
    client = app.test_client()
    login(client, otro.email)
    assert retry_in_panel(client, cid).status_code == 403
    page = client.get(f"/admin/campanas-sms/{cid}/")
    assert page.status_code == 200 and 'data-testid="reintentar"' not in page.get_data(as_text=True)
    api = app.test_client().post(f"/clientes/campanas-sms/{cid}/reanudar/", headers=auth(token_for(otro.id)))
    assert api.status_code == 403, api.json
    assert snapshot(cid) == before and fake_twilio.received_count == 0
    # The vendedor who sent it may, through the API too: reanudar from error is the retry.
    mine = app.test_client().post(
        f"/clientes/campanas-sms/{cid}/reanudar/", headers=auth(token_for(tenants.vendedor_a.id))
    )
    assert mine.status_code == 200, mine.json
    assert_sent_exactly_once(fake_twilio, cid, 2)


@pytest.mark.parametrize("refused", ["cancelada", "pausada", "completado"])
def test_a_retry_is_refused_on_a_cancelled_paused_or_finished_campaign_and_changes_no_row(
    app, tenants, fake_twilio, twilio_app_config, keys, refused
):
    cid = sent_by(tenants.admin_a.id, tenants.admin_a)
    # completado: Twilio failed each row, but never often enough in a row to stop the campaign.
    failed_while_twilio_was_down(
        app, twilio_app_config, fake_twilio, cid, abort_after=1 if refused != "completado" else 100
    )
    if refused == "cancelada":
        lifecycle.apply("cancelar", cid)  # allowed from error: the failed rows stay fallido
        db.session.commit()
    elif refused == "pausada":  # no action leads from error to pausada: the estado is set here
        with db.engine.begin() as conn:
            conn.execute(CampanaSMS.__table__.update().where(CampanaSMS.id == cid).values(estado="pausada"))
    before = snapshot(cid)
    assert before[0] == refused and {r[0] for r in before[1]} == {"fallido"}
    client = app.test_client()
    login(client, tenants.admin_a.email)
    answer = retry_in_panel(client, cid)
    assert answer.status_code == 302
    assert snapshot(cid) == before
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"No se puede reintentar los fallidos de una campaña en estado «{refused}»" in shown
    assert 'data-testid="reintentar"' not in shown
    if refused != "pausada":  # on a paused campaign the API's reanudar is the resume, allowed
        api = app.test_client().post(f"/clientes/campanas-sms/{cid}/reanudar/", headers=keys.admin_a)
        assert api.status_code == 409 and refused in api.json["detail"]
        assert snapshot(cid) == before
    runners.dispatch(cid, app).join(30)  # a sender finds nothing to send
    assert snapshot(cid) == before and fake_twilio.received_count == 0


def test_rows_are_never_put_back_on_a_cancelled_campaign(app, tenants, fake_twilio, twilio_app_config):
    """ "Put failed rows back" has one home (lifecycle): on a campaign no sender will take, it
    refuses and leaves every row as it was — none stranded in pendiente."""
    cid = sent_by(tenants.admin_a.id, tenants.admin_a)
    failed_while_twilio_was_down(app, twilio_app_config, fake_twilio, cid)
    lifecycle.apply("cancelar", cid)
    db.session.commit()
    before = snapshot(cid)
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.retry(cid)
    db.session.rollback()
    assert estado(cid) == "cancelada" and snapshot(cid) == before
    assert "pendiente" not in [r.estado for r in rows(cid)]
    assert_aggregates_match_rows(cid)


# --- API tokens in the Historial --------------------------------------------------------------


def token_entries() -> list[Historial]:
    db.session.expire_all()
    stmt = sa.select(Historial).where(Historial.modelo == "ApiToken").order_by(Historial.id)
    return list(db.session.scalars(stmt))


def test_tokens_created_and_revoked_in_the_panel_are_in_the_historial_without_the_key(app, tenants):
    client = app.test_client()
    login(client, tenants.admin_a.email)
    page = client.get("/admin/tokens/")
    created = client.post(
        "/admin/tokens/",
        data={
            "csrf_token": csrf_from(page.data),
            "id_usuario": tenants.vendedor_a.id,
            "nombre": "CRM ventas",
        },
    )
    key = re.search(r'data-testid="clave">([^<]+)<', created.get_data(as_text=True)).group(1)
    row = db.session.scalar(sa.select(ApiToken))
    [entry] = token_entries()
    assert (entry.accion, entry.objeto_id, entry.id_usuario) == ("crear", str(row.id), tenants.admin_a.id)
    assert entry.id_propietario == tenants.admin_a.id
    assert (
        "CRM ventas" in entry.resumen
        and row.prefijo in entry.resumen
        and "vendedor.a@test.co" in entry.resumen
    )

    revoked = client.post(
        f"/admin/tokens/{row.id}/revocar", data={"csrf_token": csrf_of(client, "/admin/tokens/")}
    )
    assert revoked.status_code == 302
    first, second = token_entries()
    assert (second.accion, second.objeto_id, second.id_usuario) == ("editar", str(row.id), tenants.admin_a.id)
    assert "revocado" in second.resumen and "CRM ventas" in second.resumen
    for entry in (first, second):  # never the key, nor its hash
        stored = f"{entry.resumen} {entry.detalle}"
        assert key not in stored and row.token_hash not in stored and key[8:16] not in stored
    historial = client.get("/admin/historial/").get_data(as_text=True)
    assert historial.count("Token de API «CRM ventas»") == 2
    other = app.test_client()
    login(other, tenants.admin_b.email)
    assert "CRM ventas" not in other.get("/admin/historial/").get_data(as_text=True)


def test_a_token_made_by_the_command_line_is_in_the_historial_of_its_tenant(app, runner, tenants):
    result = runner.invoke(args=["create-token", "--email", "vendedor.a@test.co", "--nombre", "cron"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    [entry] = token_entries()
    assert entry.accion == "crear" and entry.id_usuario is None  # the operator, not a panel user
    assert entry.id_propietario == tenants.admin_a.id and "«cron»" in entry.resumen
    assert key not in f"{entry.resumen} {entry.detalle}"
