"""Dates typed in the panel read dd/mm/aaaa (and ISO, for pasted dates and old links), are shown
dd/mm/aaaa, and anything else is refused in Spanish; the API keeps exactly ISO, as documented
(panel/forms/fechas.py, panel/admin/comun/fechas_vista.py)."""

import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from panel import tenancy
from panel.admin.comun.fechas_vista import FiltrosConFecha
from panel.extensions import db
from panel.forms import fechas
from panel.forms.binding import bind
from panel.forms.enviar_sms_form import EnviarSMSForm
from panel.models import CampanaPublicitaria, Cliente, Historial, Usuario

from . import factories
from .api_support import BASE, body, cuenta_cliente, keys
from .clock_fixtures import at
from .helpers import csrf_from, login

__all__ = ["keys"]

NUEVO = "/admin/clientes/new/"


def _fields(token: str, **over) -> dict:
    fields = dict(
        csrf_token=token,
        cedula_cliente="123456",
        nombre_cliente="Nueva",
        telefono="3001234567",
        id_pais="1",
        id_ciudad="1",
        estado="1",
    )
    return fields | over


def _post_cliente(client, fecha: str):
    with at("2026-06-15 10:00"):  # "in the past" is decided on today's date
        login(client, "admin.a@test.co")
        token = csrf_from(client.get(NUEVO).data)
        return client.post(NUEVO, data=_fields(token, fecha_nacimiento=fecha))


def _stored() -> date | None:
    return db.session.scalar(sa.select(Cliente.fecha_nacimiento).where(Cliente.cedula_cliente == "123456"))


# --- the reader --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("17/05/1990", date(1990, 5, 17)),
        ("7/5/1990", date(1990, 5, 7)),
        (" 29/02/2024 ", date(2024, 2, 29)),
        ("1990-05-17", date(1990, 5, 17)),
    ],
)
def test_the_panel_reads_dd_mm_aaaa_and_iso(text, expected):
    assert fechas.read_date(text, iso_only=False) == expected


@pytest.mark.parametrize(
    "text", ["31/02/2026", "2026/13/01", "mañana", "17-05-1990", "17/05/90", "05/17/1990"]
)
def test_anything_else_is_not_a_date(text):
    with pytest.raises(ValueError):
        fechas.read_date(text, iso_only=False)


@pytest.mark.parametrize("text", ["17/05/1990", "1990-5-17", "19900517", "1990-W20-4"])
def test_the_api_reads_exactly_iso_full_dates(text):
    assert fechas.read_date("1990-05-17", iso_only=True) == date(1990, 5, 17)
    with pytest.raises(ValueError):
        fechas.read_date(text, iso_only=True)


def test_a_typed_time_is_bogota_time():
    moment = fechas.read_moment("05/12/2026 10:30", iso_only=False)
    assert fechas.as_utc(moment) == datetime(2026, 12, 5, 15, 30)
    assert fechas.as_utc(fechas.read_moment("2026-12-05T10:30-05:00", iso_only=True)) == datetime(
        2026, 12, 5, 15, 30
    )
    for text in ("05/12/2026", "05/12/2026 25:00", "mañana a las 10"):
        with pytest.raises(ValueError):
            fechas.read_moment(text, iso_only=False)
    with pytest.raises(ValueError):
        fechas.read_moment("05/12/2026 10:30", iso_only=True)


# --- the client form in the panel --------------------------------------------------------------


@pytest.mark.parametrize("typed", ["17/05/1990", "1990-05-17"])
def test_the_client_form_saves_a_date_typed_dd_mm_aaaa_or_iso(client, tenants, typed):
    assert _post_cliente(client, typed).status_code == 302
    assert _stored() == date(1990, 5, 17)


@pytest.mark.parametrize("typed", ["31/02/2026", "2026/13/01", "mañana"])
def test_the_client_form_refuses_anything_else_in_spanish(client, tenants, typed):
    response = _post_cliente(client, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Escriba la fecha como dd/mm/aaaa." in html
    assert f'value="{typed}"' in html  # what was typed is shown again, to be corrected
    assert _stored() is None


def test_the_edit_page_shows_the_stored_date_dd_mm_aaaa_in_a_text_box(client, tenants):
    cliente = factories.cliente(
        db.session.get(Usuario, tenants.admin_a.id), fecha_nacimiento=date(1990, 5, 17)
    )
    login(client, "admin.a@test.co")
    html = client.get(f"/admin/clientes/edit/?id={cliente.id_cliente}").get_data(as_text=True)
    box = re.search(r'<input[^>]*id="fecha_nacimiento"[^>]*>', html).group(0)
    assert 'value="17/05/1990"' in box and 'type="text"' in box
    assert 'data-date-format="DD/MM/YYYY"' in box and 'placeholder="dd/mm/aaaa"' in box
    assert 'type="date"' not in html and "1990-05-17" not in html


def test_an_advertising_campaign_takes_its_dates_dd_mm_aaaa(client, tenants):
    login(client, "admin.a@test.co")
    page = client.get("/admin/campanas/new/").get_data(as_text=True)
    assert 'data-date-format="DD/MM/YYYY"' in page and 'type="date"' not in page
    data = {
        "csrf_token": csrf_from(page),
        "nombre": "Verano",
        "fecha_inicio": "01/02/2026",
        "fecha_fin": "2026-03-31",
    }
    assert client.post("/admin/campanas/new/", data=data).status_code == 302
    campana = db.session.scalars(sa.select(CampanaPublicitaria)).one()
    assert (campana.fecha_inicio, campana.fecha_fin) == (date(2026, 2, 1), date(2026, 3, 31))
    data |= {"nombre": "Invierno", "fecha_inicio": "31/02/2026"}
    refused = client.post("/admin/campanas/new/", data=data)
    assert refused.status_code == 200 and "Escriba la fecha como dd/mm/aaaa." in refused.get_data(
        as_text=True
    )


# --- the API stays ISO -------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["17/05/1990", "1990-5-17"])
def test_the_api_refuses_a_date_not_written_aaaa_mm_dd(client, tenants, keys, sent):
    cuenta = cuenta_cliente(tenants.admin_a.id, "cuenta.fechas@test.co")
    ok = client.post(BASE, json=body(cuenta, fecha_nacimiento="1990-05-17"), headers=keys.admin_a)
    assert ok.status_code == 201, ok.json
    cuenta = cuenta_cliente(tenants.admin_a.id, "otra.fechas@test.co")
    refused = client.post(
        BASE, json=body(cuenta, fecha_nacimiento=sent, cedula_cliente="99887766"), headers=keys.admin_a
    )
    assert refused.status_code == 400
    assert refused.json["fecha_nacimiento"] == ["Escriba la fecha como aaaa-mm-dd."]


# --- Programar para ----------------------------------------------------------------------------


def _programar(user, text: str, api: bool):
    with tenancy.using(user):
        values = {"mensaje": "Hola", "programar_para": text}
        typed = EnviarSMSForm(formdata=MultiDict(values), meta={"csrf": False})
        form = bind(EnviarSMSForm, values) if api else typed
        return form, form.validate()


def test_programar_para_is_typed_dd_mm_aaaa_hh_mm_in_the_panel_and_iso_in_the_api(app, tenants):
    with at("2026-12-01 09:00"):
        form, valid = _programar(tenants.admin_a, "05/12/2026 10:30", api=False)
        assert valid, form.errors
        assert form.programada_para == datetime(2026, 12, 5, 15, 30)  # Bogotá time, stored UTC
        form, valid = _programar(tenants.admin_a, "2026-12-05T10:30", api=False)
        assert valid and form.programada_para == datetime(2026, 12, 5, 15, 30)
        form, valid = _programar(tenants.admin_a, "05/12/2026", api=False)
        assert not valid and form.errors["programar_para"] == [fechas.ESCRIBA_FECHA_HORA]
        form, valid = _programar(tenants.admin_a, "05/12/2026 10:30", api=True)
        assert not valid and "inválida" in form.errors["programar_para"][0]
        form, valid = _programar(tenants.admin_a, "2026-12-05T10:30", api=True)
        assert valid and form.programada_para == datetime(2026, 12, 5, 15, 30)


# --- filters -----------------------------------------------------------------------------------


def test_a_date_time_filter_reads_bogota_time_and_both_range_separators():
    # Flask-Admin's order: equal, not equal, greater, smaller, between, not between, empty
    mayor = FiltrosConFecha().convert("datetime", Historial.creado, "Fecha")[2]
    assert mayor.clean("05/12/2026 10:30") == datetime(2026, 12, 5, 15, 30)
    assert mayor.clean("2026-12-05 10:30:00") == datetime(2026, 12, 5, 15, 30)  # an old link
    assert not mayor.validate("mañana")
    entre = FiltrosConFecha().convert("date", CampanaPublicitaria.fecha_inicio, "Inicio")[4]
    assert entre.clean("01/02/2026 a 28/02/2026") == [date(2026, 2, 1), date(2026, 2, 28)]
    assert entre.clean("2026-02-01 to 2026-02-28") == [date(2026, 2, 1), date(2026, 2, 28)]
    assert entre.validate("01/02/2026 a 28/02/2026")
    assert not entre.validate("28/02/2026 a 01/02/2026") and not entre.validate("01/02/2026")


def test_the_clients_creado_filters_count_days_in_bogota(client, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    tarde = factories.cliente(admin, nombre_cliente="Noctámbula")
    # 03:00 UTC on 5 December is 22:00 on 4 December in Bogotá
    db.session.execute(
        sa.update(Cliente)
        .where(Cliente.id_cliente == tarde.id_cliente)
        .values(creado=datetime(2026, 12, 5, 3, 0))
    )
    db.session.commit()
    login(client, "admin.a@test.co")

    def names(query: str) -> str:
        return client.get("/admin/clientes/" + query).get_data(as_text=True)

    assert "Noctámbula" in names("?flt0_creado_hasta=04/12/2026")
    assert "Noctámbula" not in names("?flt0_creado_desde=05/12/2026")
    assert "Noctámbula" in names("?flt0_creado_desde=2026-12-04")
    assert "Noctámbula" not in names("?flt0_creado_hasta=03%2F12%2F2026")


def test_an_iso_date_stays_iso_in_the_json_the_api_answers(client, tenants, keys):
    cuenta = cuenta_cliente(tenants.admin_a.id, "cuenta.iso@test.co")
    created = client.post(BASE, json=body(cuenta, fecha_nacimiento="1990-05-17"), headers=keys.admin_a)
    assert created.status_code == 201 and created.json["fecha_nacimiento"] == "1990-05-17"
    assert datetime.fromisoformat(created.json["creado"]).tzinfo is not None  # with its offset
