"""Consent evidence for acepta_sms (Ley 1581 de 2012): when, how and who; the tenant's exclusion list."""

import pytest
import sqlalchemy as sa

from panel import consent
from panel.extensions import db
from panel.models import Cliente, ConsentimientoSMS, NumeroExcluidoPropio, Usuario

from . import factories
from .api_support import BASE, cliente_of, keys

__all__ = ["keys"]


def _history(cliente_id: int) -> list[tuple]:
    stmt = sa.select(ConsentimientoSMS.acepta, ConsentimientoSMS.fuente, ConsentimientoSMS.id_usuario)
    return db.session.execute(
        stmt.where(ConsentimientoSMS.id_cliente == cliente_id).order_by(ConsentimientoSMS.id)
    ).all()


def _excluded(tenant_id: int) -> list[str]:
    stmt = sa.select(NumeroExcluidoPropio.numero).where(NumeroExcluidoPropio.id_propietario == tenant_id)
    return list(db.session.scalars(stmt))


def test_an_admin_withdraws_and_restores_consent_through_the_api(client, keys, tenants):
    c = cliente_of(tenants.admin_a.id, telefono="3001234567")
    off = client.patch(f"{BASE}{c.id_cliente}/", json={"acepta_sms": False}, headers=keys.admin_a)
    assert off.status_code == 200 and off.json["acepta_sms"] is False
    assert _excluded(tenants.admin_a.id) == ["+573001234567"]
    on = client.patch(f"{BASE}{c.id_cliente}/", json={"acepta_sms": True}, headers=keys.admin_a)
    assert on.status_code == 200 and on.json["acepta_sms"] is True
    assert _excluded(tenants.admin_a.id) == []
    assert _history(c.id_cliente) == [
        (True, "sistema", None),
        (False, "API", tenants.admin_a.id),
        (True, "API", tenants.admin_a.id),
    ]


def test_acepta_sms_must_be_a_boolean_in_the_api(client, keys, tenants):
    c = cliente_of(tenants.admin_a.id)
    response = client.patch(f"{BASE}{c.id_cliente}/", json={"acepta_sms": "no"}, headers=keys.admin_a)
    assert response.status_code == 400 and response.json == {"acepta_sms": ["Debe ser true o false."]}


def test_an_import_records_its_own_source(app, tenants):
    with consent.using("importación"):
        c = factories.cliente(db.session.get(Usuario, tenants.admin_a.id))
    assert _history(c.id_cliente) == [(True, "importación", None)]


def test_an_opt_out_by_sms_stops_the_tenants_clients_with_that_number(app, tenants):
    a = db.session.get(Usuario, tenants.admin_a.id)
    mine = factories.cliente(a, telefono="3001234567")
    other = factories.cliente(db.session.get(Usuario, tenants.admin_b.id), telefono="3001234567")
    with db.engine.begin() as conn:
        assert consent.record_opt_out(conn, a.id, "+573001234567") == 1
    db.session.expire_all()
    assert db.session.get(Cliente, mine.id_cliente).acepta_sms is False
    assert db.session.get(Cliente, other.id_cliente).acepta_sms is True  # another tenant's: untouched here
    assert _history(mine.id_cliente)[-1] == (False, "respuesta SMS", None)
    assert _excluded(a.id) == ["+573001234567"]


def test_deleting_a_client_takes_its_consent_history_with_it(client, keys, tenants):
    cliente_id = cliente_of(tenants.admin_a.id).id_cliente
    assert _history(cliente_id) != []
    assert client.delete(f"{BASE}{cliente_id}/", headers=keys.admin_a).status_code == 204
    assert _history(cliente_id) == []


def test_the_details_page_shows_the_consent_history_and_exports_carry_its_date(client, tenants):
    import csv
    import io
    import re

    from .helpers import login

    c = cliente_of(tenants.admin_a.id, telefono="3001234567")
    login(client, "admin.a@test.co")
    page = client.get(f"/admin/clientes/details/?id={c.id_cliente}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="consentimiento"' in html
    assert "Acepta SMS" in html and "sistema" in html
    rows = list(
        csv.reader(
            io.StringIO(client.get("/admin/clientes/exportar/csv/").get_data(as_text=True).lstrip("\ufeff"))
        )
    )
    column = rows[0].index("Acepta SMS desde")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d-05:00", rows[1][column]), rows[1]


# --- one path: every change writes the evidence and the exclusion, with its source ------------


def _exclusion(tenant_id: int) -> list[tuple[str, str]]:
    stmt = sa.select(NumeroExcluidoPropio.numero, NumeroExcluidoPropio.fuente)
    return db.session.execute(stmt.where(NumeroExcluidoPropio.id_propietario == tenant_id)).all()


def test_a_withdrawal_in_the_panel_form_writes_evidence_and_the_exclusion_with_its_source(client, tenants):
    from .helpers import csrf_from, login

    c = cliente_of(tenants.admin_a.id, telefono="3001234567")
    login(client, "admin.a@test.co")
    url = f"/admin/clientes/edit/?id={c.id_cliente}"
    token = csrf_from(client.get(url).data)
    fields = {"csrf_token": token, "cedula_cliente": c.cedula_cliente, "nombre_cliente": "Ana"}
    fields |= {"apellido_cliente": "Pérez", "telefono": "3001234567", "email": "ana@example.com"}
    fields |= {"id_pais": "1", "id_ciudad": "1", "estado": "1", "genero": "0"}  # acepta_sms unchecked
    assert client.post(url, data=fields).status_code == 302
    assert _history(c.id_cliente)[-1] == (False, "formulario", tenants.admin_a.id)
    assert _exclusion(tenants.admin_a.id) == [("+573001234567", "formulario")]


def test_an_api_withdrawal_puts_the_number_on_the_list_with_source_api(client, keys, tenants):
    c = cliente_of(tenants.admin_a.id, telefono="3001234567")
    client.patch(f"{BASE}{c.id_cliente}/", json={"acepta_sms": False}, headers=keys.admin_a)
    assert _exclusion(tenants.admin_a.id) == [("+573001234567", "API")]


def test_an_import_that_says_no_lists_the_number_with_source_importacion(app, tenants):
    from .import_support import HEADER, csv_bytes, imported, row

    imported(csv_bytes([row(2) + ["No"]], header=HEADER + ["Acepta SMS"]), tenants.admin_a.id)
    assert _exclusion(tenants.admin_a.id) == [("+573000000002", "importación")]


def test_twilio_21610_writes_evidence_and_the_exclusion_and_the_history_names_it(client, tenants):
    from .helpers import login

    c = cliente_of(tenants.admin_a.id, telefono="3001234567")
    with db.engine.begin() as conn:
        assert consent.record_opt_out(conn, tenants.admin_a.id, "+573001234567", "Twilio (error 21610)") == 1
    db.session.expire_all()
    assert db.session.get(Cliente, c.id_cliente).acepta_sms is False
    assert _history(c.id_cliente)[-1] == (False, "Twilio (error 21610)", None)
    assert _exclusion(tenants.admin_a.id) == [("+573001234567", "Twilio (error 21610)")]
    login(client, "admin.a@test.co")
    html = client.get(f"/admin/clientes/details/?id={c.id_cliente}").get_data(as_text=True)
    assert "Twilio (error 21610)" in html


def test_an_unknown_source_is_refused_rather_than_recorded(app, tenants):
    with pytest.raises(ValueError), db.engine.begin() as conn:
        consent.record_opt_out(conn, tenants.admin_a.id, "+573001234567", "twilio")


def test_a_later_opt_out_keeps_the_first_source_of_an_excluded_number(app, tenants):
    """A SALIR after a withdrawal by hand must not make the exclusion one a START could undo."""
    a = tenants.admin_a.id
    with db.engine.begin() as conn:
        consent.record_number(conn, a, "+573001234567", False, "a mano", actor=a, motivo="Pidió por teléfono")
        consent.record_opt_out(conn, a, "+573001234567")
    assert _exclusion(a) == [("+573001234567", "a mano")]


def test_a_21610_on_a_send_writes_evidence_and_the_exclusion(app, tenants, fake_twilio, twilio_app_config):
    from panel.sms import sender

    from .support.sms import campaign, configure, rows

    configure(app, twilio_app_config)
    cid = campaign(tenants.admin_a, 1)
    row = rows(cid)[0]
    fake_twilio.set(opt_out={row.telefono})
    sender.run_campaign(cid)
    db.session.expire_all()
    assert db.session.get(Cliente, row.id_cliente).acepta_sms is False
    assert _history(row.id_cliente)[-1] == (False, "Twilio (error 21610)", None)
    assert _exclusion(tenants.admin_a.id) == [(row.telefono, "Twilio (error 21610)")]
