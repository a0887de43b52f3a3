"""DIVIPOLA in the panel (SPEC §16): the Departamento filter, the ciudad searched as you type
(never 1,123 options in a page), "Rionegro (Antioquia)" in the list and the export, the
dashboard by departamento, and who reads and who changes the catálogos."""

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa

from panel import municipios
from panel.extensions import db
from panel.models import Ciudad, Cliente, Departamento, Usuario

from . import factories
from .helpers import csrf_from, csrf_of, login

EMAILS = {"superadmin": "super@test.co", "admin": "admin.a@test.co", "vendedor": "vendedor.a@test.co"}


def _city(codigo: str) -> int:
    return db.session.scalar(sa.select(Ciudad.id).where(Ciudad.codigo_dane == codigo))


def _departamento(codigo: str) -> int:
    return db.session.scalar(sa.select(Departamento.id).where(Departamento.codigo_dane == codigo))


def _names(html: str) -> set[str]:
    return set(re.findall(r'<td class="col-nombre_cliente">\s*(\S+)\s*</td>', html))


@pytest.fixture
def data(app, tenants):
    a, b = (db.session.get(Usuario, t.id) for t in (tenants.admin_a, tenants.admin_b))
    factories.cliente(a, nombre_cliente="Paisa", id_ciudad=_city("05360"))  # Itagüí, Antioquia
    factories.cliente(a, nombre_cliente="Rionegrero", id_ciudad=_city("05615"))  # Rionegro, Antioquia
    factories.cliente(a, nombre_cliente="Santandereano", id_ciudad=_city("68615"))  # Rionegro, Santander
    factories.cliente(a, nombre_cliente="Rolo", id_ciudad=1)  # Bogotá
    factories.cliente(b, nombre_cliente="DeB", id_ciudad=_city("05001"))  # Medellín, another tenant
    return tenants


# --- the Departamento filter ----------------------------------------------------------------------


@pytest.mark.parametrize("rol", ["admin", "vendedor", "superadmin"])
def test_the_list_filters_by_departamento_for_each_role(client, data, rol):
    login(client, EMAILS[rol])
    html = client.get(f"/admin/clientes/?flt0_departamento={_departamento('05')}").get_data(as_text=True)
    expected = {"Paisa", "Rionegrero"} | ({"DeB"} if rol == "superadmin" else set())
    assert _names(html) == expected
    html = client.get(f"/admin/clientes/?flt0_departamento={_departamento('68')}").get_data(as_text=True)
    assert _names(html) == {"Santandereano"}
    # The choices: the 33 departamentos (shared reference data), nothing of another tenant.
    raw = re.search(r'id="filter-groups-data" class="d-none">(.*?)</div>', html, re.S).group(1)
    groups = json.loads(raw)
    assert len(groups["Departamento"][0]["options"]) == 33
    assert ("Agencia" in groups) == (rol == "superadmin")


def test_the_ciudad_filter_still_filters_and_names_its_city(client, data):
    login(client, "admin.a@test.co")
    html = client.get(f"/admin/clientes/?flt0_ciudad={_city('05615')}").get_data(as_text=True)
    assert _names(html) == {"Rionegrero"}
    names = json.loads(re.search(r'id="ciudades-filtro"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert names == {str(_city("05615")): "Rionegro (Antioquia)"}


# --- the ciudad as you type ---------------------------------------------------------------------------


@pytest.mark.parametrize("rol", ["admin", "vendedor", "superadmin"])
def test_the_ciudad_search_answers_matches(client, data, rol):
    login(client, EMAILS[rol])
    found = client.get("/admin/clientes/ajax/lookup/?name=id_ciudad&query=rione").get_json()
    assert found == [[_city("05615"), "Rionegro (Antioquia)"], [_city("68615"), "Rionegro (Santander)"]]
    assert client.get("/admin/clientes/ajax/lookup/?name=id_ciudad&query=itagui").get_json() == [
        [_city("05360"), "Itagüí"]
    ]
    assert client.get("/admin/clientes/ajax/lookup/?name=id_ciudad&query=05001").get_json() == [
        [2, "Medellín"]
    ]
    many = client.get("/admin/clientes/ajax/lookup/?name=id_ciudad&query=san&limit=5000").get_json()
    assert len(many) == 10  # a page of results, whatever is asked


def test_no_page_carries_every_municipio(client, data):
    login(client, "admin.a@test.co")
    paisa = db.session.scalar(sa.select(Cliente.id_cliente).where(Cliente.nombre_cliente == "Paisa"))
    for url in ("/admin/clientes/", "/admin/clientes/new/", f"/admin/clientes/edit/?id={paisa}"):
        html = client.get(url).get_data(as_text=True)
        for far in ("Abriaquí", "Zipaquirá", "Cumaribo", "Mitú"):
            assert far not in html, (url, far)
    edit = client.get(f"/admin/clientes/edit/?id={paisa}").get_data(as_text=True)
    assert 'data-role="select2-ajax"' in edit and "Itagüí" in edit  # the chosen one, and only it


def test_a_client_in_itagui_is_created_in_the_panel_and_a_forged_city_is_refused(client, data):
    login(client, "admin.a@test.co")
    token = csrf_from(client.get("/admin/clientes/new/").data)
    fields = {"csrf_token": token, "cedula_cliente": "71000111", "nombre_cliente": "Nuevo", "id_pais": "1"}
    refused = client.post("/admin/clientes/new/", data={**fields, "id_ciudad": "999999"})
    assert "No es una opción válida." in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(Cliente).where(Cliente.cedula_cliente == "71000111")) is None
    client.post("/admin/clientes/new/", data={**fields, "id_ciudad": str(_city("05360"))})
    created = db.session.scalar(sa.select(Cliente).where(Cliente.cedula_cliente == "71000111"))
    assert created.ciudad.codigo_dane == "05360"


# --- names that repeat ------------------------------------------------------------------------------


def test_rionegro_reads_with_its_departamento_in_the_list_the_details_and_the_export(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/").get_data(as_text=True)
    cells = set(re.findall(r'<td class="col-ciudad">(.*?)</td>', html))
    assert {"Rionegro (Antioquia)", "Rionegro (Santander)", "Itagüí", "Bogotá D.C."} <= cells
    rionegrero = db.session.scalar(
        sa.select(Cliente.id_cliente).where(Cliente.nombre_cliente == "Rionegrero")
    )
    assert "Rionegro (Antioquia)" in client.get(f"/admin/clientes/details/?id={rionegrero}").get_data(
        as_text=True
    )
    exported = client.get("/admin/clientes/exportar/csv/").get_data(as_text=True)
    rows = {r["Nombres"]: r["Ciudad"] for r in csv.DictReader(io.StringIO(exported.lstrip("\ufeff")))}
    assert rows["Rionegrero"] == "Rionegro (Antioquia)" and rows["Santandereano"] == "Rionegro (Santander)"
    assert rows["Paisa"] == "Itagüí"


def test_the_dashboard_groups_clients_by_departamento(client, data):
    login(client, "admin.a@test.co")
    html = client.get("/admin/").get_data(as_text=True)
    table = re.search(r'data-testid="tabla-departamento">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"text-right\">(.*?)</td></tr>", table)
    assert rows == [("Antioquia", "2"), ("Bogotá D.C.", "1"), ("Santander", "1")]  # not B's Medellín
    assert "Fuente: DANE, DIVIPOLA" in html


# --- the catálogos ------------------------------------------------------------------------------------


def test_admins_read_the_catalogos_and_only_the_superadmin_changes_them(client, data):
    login(client, "admin.a@test.co")
    for url in ("/admin/paises/", "/admin/departamentos/", "/admin/ciudades/"):
        assert client.get(url).status_code == 200
    page = client.get("/admin/ciudades/?search=rionegro").get_data(as_text=True)
    assert "Fuente: DANE, DIVIPOLA" in page and "05615" in page and "/admin/ciudades/new/" not in page
    assert client.get("/admin/ciudades/new/").status_code == 403
    assert client.get(f"/admin/ciudades/edit/?id={_city('05615')}").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client)})

    login(client, "super@test.co")
    token = csrf_from(client.get("/admin/ciudades/new/").data)
    client.post("/admin/ciudades/new/", data={"csrf_token": token, "nombre": "Bello", "pais": "2"})
    bello = db.session.scalar(sa.select(Ciudad).where(Ciudad.id_pais == 2, Ciudad.nombre == "Bello"))
    assert bello is not None and bello.codigo_dane is None  # a foreign city: no code, no departamento
    refused = client.post(
        "/admin/ciudades/new/",
        data={
            "csrf_token": token,
            "nombre": "Nueva",
            "pais": "1",
            "codigo_dane": "99990",
            "departamento": str(_departamento("05")),
        },
    )
    assert "empieza por 05" in refused.get_data(as_text=True)


def test_a_name_that_comes_to_repeat_reads_with_its_departamento(client, data):
    """The superadmin adds a second 'Itagüí': both now read with their departamento."""
    login(client, "super@test.co")
    token = csrf_from(client.get("/admin/ciudades/new/").data)
    client.post(
        "/admin/ciudades/new/",
        data={
            "csrf_token": token,
            "nombre": "Itagüí",
            "pais": "1",
            "codigo_dane": "99999",
            "departamento": str(_departamento("99")),
        },
    )
    db.session.expire_all()
    assert str(db.session.get(Ciudad, _city("05360"))) == "Itagüí (Antioquia)"
    assert municipios.load().match("Itagüí", "Vichada").codigo_dane == "99999"


@pytest.mark.parametrize("rol", ["admin", "superadmin"])  # who reads the catálogos
def test_the_ciudades_list_groups_the_municipios_by_departamento_and_filters_by_one(client, data, rol):
    """The issue's "1,123 municipios grouped by departamento": the Ciudades catálogo in DANE code
    order (a municipio's code starts with its departamento's) and a Departamento filter."""
    login(client, EMAILS[rol])
    html = client.get("/admin/ciudades/?page_size=100").get_data(as_text=True)
    assert "Fuente: DANE, DIVIPOLA" in html  # on the Ciudades list
    codes = re.findall(r'<td class="col-codigo_dane">\s*(\d{5})\s*</td>', html)
    assert len(codes) >= 90 and codes == sorted(codes), codes[:10]
    assert codes[:2] == ["05001", "05002"]  # Antioquia's first: Medellín, Abejorral
    caqueta = client.get(f"/admin/ciudades/?flt0_0={_departamento('18')}&page_size=100").get_data(
        as_text=True
    )
    found = re.findall(r'<td class="col-codigo_dane">\s*(\d{5})\s*</td>', caqueta)
    assert len(found) == 16 and {c[:2] for c in found} == {"18"}, found  # Caquetá's 16 municipios
    raw = re.search(r'id="filter-groups-data" class="d-none">(.*?)</div>', caqueta, re.S).group(1)
    assert len(json.loads(raw)["Departamento"][0]["options"]) == 33
