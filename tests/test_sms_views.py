"""The SMS pages as a browser uses them (CSRF on): templates, Enviar SMS, campaigns, progress, retry."""

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import CampanaSMS, Historial, PlantillaSMS, SMSLog
from panel.models.envio import TEXTO_BAJA

from . import factories
from .helpers import csrf_of, login
from .support.pages import _ids, wait_finished
from .support.sms import assert_aggregates_match_rows, campaign, configure, rows

# Commercial campaigns (the default) send only inside the contact window: a weekday morning.
pytestmark = pytest.mark.usefixtures("ventana_abierta")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- Plantillas SMS --------------------------------------------------------------------------


def test_admin_creates_a_template(client, tenants):
    login(client, tenants.admin_a.email)
    token = csrf_of(client, "/admin/plantillas-sms/new/")
    data = {"nombre": "Bienvenida", "mensaje": "Hola {nombre_completo}", "activo": "y", "csrf_token": token}
    response = client.post("/admin/plantillas-sms/new/", data=data)
    assert response.status_code == 302
    plantilla = db.session.scalars(sa.select(PlantillaSMS)).one()
    assert (plantilla.id_propietario, plantilla.id_usuario) == (tenants.admin_a.id, tenants.admin_a.id)


@pytest.mark.parametrize(
    "mensaje,expected",
    [("Hola {nombres}", "Marcador desconocido: {nombres}"), ("Hola {nombre", "Llave sin cerrar"), ("", "")],
)
def test_bad_template_is_refused_with_a_message(client, tenants, mensaje, expected):
    login(client, tenants.admin_a.email)
    token = csrf_of(client, "/admin/plantillas-sms/new/")
    response = client.post(
        "/admin/plantillas-sms/new/", data={"nombre": "X", "mensaje": mensaje, "csrf_token": token}
    )
    assert response.status_code == 200
    assert expected in response.get_data(as_text=True)
    assert count(PlantillaSMS) == 0


def test_vendedor_reads_templates_of_its_tenant_only_and_cannot_write(client, tenants):
    factories.plantilla(tenants.admin_a, "Hola {nombre}", nombre="De A")
    factories.plantilla(tenants.admin_b, "Hola {nombre}", nombre="De B")
    login(client, tenants.vendedor_a.email)
    page = client.get("/admin/plantillas-sms/").get_data(as_text=True)
    assert "De A" in page and "De B" not in page
    assert client.get("/admin/plantillas-sms/new/").status_code == 403


def test_other_tenants_template_is_404(client, tenants):
    theirs = factories.plantilla(tenants.admin_b, "Hola")
    login(client, tenants.admin_a.email)
    assert client.get(f"/admin/plantillas-sms/edit/?id={theirs.id}").status_code == 404


# --- Enviar SMS ------------------------------------------------------------------------------


def test_page_shows_the_selection_and_the_counter(client, tenants, clientes_a):
    factories.plantilla(tenants.admin_a, "Hola {nombre}", nombre="Saludo")
    login(client, tenants.vendedor_a.email)
    page = client.get(f"/admin/enviar-sms/?ids={_ids(clientes_a)}").get_data(as_text=True)
    assert "Clientes seleccionados:\n    <strong>4</strong>" in page
    assert 'data-sms-counter="#contador"' in page and "sms_counter.js" in page
    assert "Saludo" in page and '"nombre_cliente": "Ana"' in page


def test_review_shows_the_dry_run(client, tenants, clientes_a):
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, f"/admin/enviar-sms/?ids={_ids(clientes_a)}")
    data = {"ids": _ids(clientes_a), "mensaje": "Hola {nombre}", "paso": "revisar", "csrf_token": token}
    page = client.post("/admin/enviar-sms/", data=data).get_data(as_text=True)
    assert 'data-testid="enviables">2<' in page
    assert 'data-testid="omitidos">2<' in page
    assert "El cliente no acepta SMS (se dio de baja): 1" in page and "Sin teléfono: 1" in page
    assert 'data-testid="ucs2">1<' in page  # "María" has an í
    assert "Hola Ana" in page and "Confirmar y enviar 2 SMS" in page
    assert count(CampanaSMS) == 0


def test_review_with_an_unknown_placeholder_says_so(client, tenants, clientes_a):
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, f"/admin/enviar-sms/?ids={_ids(clientes_a)}")
    data = {"ids": _ids(clientes_a), "mensaje": "Hola {name}", "paso": "revisar", "csrf_token": token}
    page = client.post("/admin/enviar-sms/", data=data).get_data(as_text=True)
    assert "Marcador desconocido: {name}" in page and "Confirmar y enviar" not in page


def test_confirm_creates_the_campaign_and_sends_it(
    app, client, tenants, clientes_a, fake_twilio, twilio_app_config
):
    configure(app, twilio_app_config)
    theirs = factories.cliente(tenants.admin_b, telefono="3005559999")
    login(client, tenants.vendedor_a.email)
    token = csrf_of(client, "/admin/enviar-sms/")
    ids = _ids([*clientes_a, theirs])  # a forged id of another tenant is ignored
    data = {"ids": ids, "mensaje": "Hola {nombre}", "nombre": "Promo", "paso": "enviar", "csrf_token": token}
    response = client.post("/admin/enviar-sms/", data=data)
    campana = db.session.scalars(sa.select(CampanaSMS)).one()
    assert response.status_code == 302 and response.location.endswith(f"/admin/campanas-sms/{campana.id}/")
    progreso = wait_finished(client, campana.id)
    counts = ("estado", "total", "enviados", "fallidos", "omitidos", "pendientes", "revision")
    # The two skipped recipients are omitido, and not progress: 2 done of 2 sendable.
    assert {k: progreso[k] for k in counts} == {
        "estado": "completado",
        "total": 4,
        "enviados": 2,
        "fallidos": 0,
        "omitidos": 2,
        "pendientes": 0,
        "revision": 0,
    }
    assert (progreso["enviables"], progreso["porcentaje"]) == (2, 100)
    assert {m["body"] for m in fake_twilio.created} == {"Hola Ana" + TEXTO_BAJA, "Hola María" + TEXTO_BAJA}
    assert theirs.id_cliente not in {r.id_cliente for r in rows(campana.id)}
    assert campana.filtros == {
        "seleccion": "ids",
        "ids": [c.id_cliente for c in clientes_a] + [theirs.id_cliente],
    }
    assert db.session.scalars(sa.select(Historial).where(Historial.accion == "sms")).one().filas == 4
    assert_aggregates_match_rows(campana.id)


def test_confirm_without_csrf_is_refused(client, tenants, clientes_a):
    login(client, tenants.vendedor_a.email)
    data = {"ids": _ids(clientes_a), "mensaje": "Hola", "paso": "enviar"}
    assert client.post("/admin/enviar-sms/", data=data).status_code == 400
    assert count(CampanaSMS) == 0


@pytest.mark.parametrize("case", ["solo-otro-tenant", "nadie-enviable", "plantilla-ajena"])
def test_bad_sends_create_nothing(client, tenants, clientes_a, case):
    theirs = factories.cliente(tenants.admin_b, telefono="3005559999")
    ajena = factories.plantilla(tenants.admin_b, "Hola {nombre}")
    data = {
        "solo-otro-tenant": {"ids": str(theirs.id_cliente), "mensaje": "Hola"},
        "nadie-enviable": {"ids": _ids(clientes_a[2:]), "mensaje": "Hola"},
        "plantilla-ajena": {"ids": _ids(clientes_a), "mensaje": "", "id_plantilla": str(ajena.id)},
    }[case]
    login(client, tenants.admin_a.email)
    token = csrf_of(client, "/admin/enviar-sms/")
    page = client.post(
        "/admin/enviar-sms/", data={**data, "paso": "enviar", "csrf_token": token}, follow_redirects=True
    )
    assert page.status_code == 200
    assert "No se creó la campaña" in page.get_data(as_text=True)
    assert count(CampanaSMS) == 0 and count(SMSLog) == 0


def test_all_matching_the_filters(client, tenants, clientes_a):
    login(client, tenants.vendedor_a.email)
    page = client.get("/admin/enviar-sms/?todos=1&filtros=search%3DAna").get_data(as_text=True)
    assert "<strong>1</strong>" in page and '"nombre_cliente": "Ana"' in page


# --- Campañas SMS ----------------------------------------------------------------------------


def test_campaign_list_and_detail_with_filters(client, tenants, fake_twilio, twilio_app_config, app):
    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 3)
    fake_twilio.set(invalid={rows(cid)[0].telefono})
    from panel.sms import sender

    sender.run_campaign(cid)
    login(client, tenants.vendedor_a.email)
    listing = client.get("/admin/campanas-sms/").get_data(as_text=True)
    assert f'/admin/campanas-sms/{cid}/"' in listing
    detail = client.get(f"/admin/campanas-sms/{cid}/").get_data(as_text=True)
    assert 'data-campo="enviados">2<' in detail and 'data-campo="fallidos">1<' in detail
    fallidos = client.get(f"/admin/campanas-sms/{cid}/?estado=fallido").get_data(as_text=True)
    assert fallidos.count('data-estado="fallido"') == 1 and 'data-estado="enviado"' not in fallidos
    assert "21211" in fallidos
    queued = client.get(f"/admin/campanas-sms/{cid}/?entrega=queued").get_data(as_text=True)
    assert queued.count('data-estado="enviado"') == 2
    assert 'data-testid="reintentar"' not in detail  # 21211 is permanent: nothing to retry


@pytest.mark.parametrize("path", ["/", "/progreso.json"])
def test_other_tenants_campaign_is_404(client, tenants, path):
    cid = campaign(tenants.admin_b, 1)
    login(client, tenants.admin_a.email)
    assert client.get(f"/admin/campanas-sms/{cid}{path}").status_code == 404


def test_other_tenants_campaign_cannot_be_retried(client, tenants):
    cid = campaign(tenants.admin_b, 1)
    login(client, tenants.admin_a.email)
    token = csrf_of(client)
    assert client.post(f"/admin/campanas-sms/{cid}/reintentar", data={"csrf_token": token}).status_code == 404


def test_retry_failed_sends_only_what_twilio_never_got(app, client, tenants, fake_twilio, twilio_app_config):
    configure(
        app, twilio_app_config, SMS_MAX_ATTEMPTS=1, SMS_ABORT_AFTER=1, SMS_CONCURRENCY=1, SMS_BATCH_SIZE=1
    )
    cid = campaign(tenants.admin_a, 3)
    invalid = rows(cid)[0]
    fake_twilio.set(invalid={invalid.telefono})
    fake_twilio.stop()  # Twilio down: the campaign stops in error
    from panel.sms import sender

    sender.run_campaign(cid)
    assert assert_aggregates_match_rows(cid).estado == "error"
    fake_twilio.start()  # back, on the same port
    login(client, tenants.admin_a.email)
    token = csrf_of(client, f"/admin/campanas-sms/{cid}/")
    assert client.post(f"/admin/campanas-sms/{cid}/reintentar", data={"csrf_token": token}).status_code == 302
    assert wait_finished(client, cid)["estado"] == "completado"
    logs = rows(cid)
    assert [r.estado for r in logs] == ["fallido", "enviado", "enviado"]
    assert logs[0].error_codigo == 21211  # permanent now: it will not be retried again
    assert len(fake_twilio.created) == 2 and fake_twilio.duplicates() == []
    assert_aggregates_match_rows(cid)
