"""SPEC §16: a client's tipo de documento and its number rule, an empresa's NIT with its
verification digit, through the panel, the API, the search, the exports and the import."""

import csv
import io

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from panel import tenancy
from panel.extensions import db
from panel.models import Cliente, Empresa, Historial

from . import factories
from .api_support import BASE, body, cliente_of, cuenta_cliente, keys
from .helpers import csrf_from, login
from .import_support import csv_bytes, errors_of, imported

__all__ = ["keys"]

# (tipo, as typed, as stored); the NIT 900.123.456 has the verification digit 8.
VALID = [
    ("CC", "1.020.304", "1020304"),
    ("CC", "123", "123"),
    ("CC", "1020 304 050", "1020304050"),
    ("CE", "12-345-67", "1234567"),
    ("TI", "1020304050", "1020304050"),
    ("TI", "10203040501", "10203040501"),
    ("NIT", "900.123.456-8", "9001234568"),
    ("NIT", "900123456", "9001234568"),  # without its digit: computed
    ("PA", "at-123 456", "AT123456"),
    ("PEP", "pe123456789012345678", "PE123456789012345678"),
    ("PPT", "1234567", "1234567"),
]
INVALID = [
    ("CC", "12", "La cédula tiene como mínimo 3 dígitos."),
    ("CC", "12345678901", "La cédula tiene como máximo 10 dígitos."),
    ("CC", "12AB", "La cédula solo puede tener dígitos."),
    ("CE", "E1234", "La cédula de extranjería solo puede tener dígitos."),
    ("TI", "123456789", "La tarjeta de identidad tiene como mínimo 10 dígitos."),
    ("TI", "123456789012", "La tarjeta de identidad tiene como máximo 11 dígitos."),
    ("NIT", "900.123.456-1", "Dígito de verificación incorrecto: debería ser 8."),
    ("NIT", "90012345", "El NIT tiene 9 dígitos y su dígito de verificación"),
    ("NIT", "A00123456", "El NIT solo puede tener dígitos"),
    ("PA", "A1", "El pasaporte tiene como mínimo 3 caracteres."),
    ("PEP", "P" * 21, "Máximo 20 letras y dígitos."),
    ("PPT", "12#45", "El documento solo puede tener letras y dígitos."),
]


# --- the panel's form ------------------------------------------------------------------------


def _panel_post(client, **over):
    page = client.get("/admin/clientes/new/")
    fields = dict(
        csrf_token=csrf_from(page.data),
        nombre_cliente="Nueva",
        id_pais="1",
        id_ciudad="1",
        estado="1",
    )
    return client.post("/admin/clientes/new/", data=fields | over)


@pytest.mark.parametrize("tipo,typed,stored", VALID)
def test_the_panel_saves_each_type_in_its_compact_form(client, tenants, tipo, typed, stored):
    login(client, "admin.a@test.co")
    assert _panel_post(client, tipo_documento=tipo, cedula_cliente=typed).status_code == 302
    saved = db.session.scalar(sa.select(Cliente))
    assert (saved.tipo_documento, saved.cedula_cliente) == (tipo, stored)


@pytest.mark.parametrize("tipo,typed,message", INVALID)
def test_the_panel_refuses_a_number_its_type_does_not_allow(client, tenants, tipo, typed, message):
    login(client, "admin.a@test.co")
    response = _panel_post(client, tipo_documento=tipo, cedula_cliente=typed)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cliente)) == 0


def test_the_panel_shows_a_nit_with_dots_and_its_digit_and_names_a_passport(client, tenants):
    cliente_of(tenants.admin_a.id, tipo_documento="NIT", cedula_cliente="9001234568", nombre_cliente="Acme")
    cliente_of(tenants.admin_a.id, tipo_documento="PA", cedula_cliente="AT123456", nombre_cliente="John")
    login(client, "admin.a@test.co")
    html = client.get("/admin/clientes/").get_data(as_text=True)
    assert "NIT 900.123.456-8" in html and "PA AT123456" in html


def test_an_unknown_type_is_not_a_choice(client, tenants):
    login(client, "admin.a@test.co")
    response = _panel_post(client, tipo_documento="XX", cedula_cliente="123456")
    assert response.status_code == 200 and "No es una opción válida." in response.get_data(as_text=True)


# --- uniqueness on (tipo, número) -----------------------------------------------------------------


def test_the_same_number_under_two_types_is_two_documents_but_not_twice_the_same(client, tenants):
    login(client, "admin.a@test.co")
    assert _panel_post(client, tipo_documento="CC", cedula_cliente="1234567").status_code == 302
    assert _panel_post(client, tipo_documento="CE", cedula_cliente="1234567").status_code == 302
    again = _panel_post(client, tipo_documento="CE", cedula_cliente="1.234.567")
    assert again.status_code == 200
    assert "Ya existe un cliente con este documento (Cédula de extranjería)." in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cliente)) == 2


def test_the_database_refuses_the_same_type_and_number_in_one_tenant(app, tenants):
    cliente_of(tenants.admin_a.id, tipo_documento="PA", cedula_cliente="AT123456")
    cliente_of(tenants.admin_a.id, tipo_documento="PPT", cedula_cliente="AT123456")
    cliente_of(tenants.admin_b.id, tipo_documento="PA", cedula_cliente="AT123456")
    with pytest.raises(IntegrityError):
        cliente_of(tenants.admin_a.id, tipo_documento="PA", cedula_cliente="AT123456")
    db.session.rollback()


def test_the_database_refuses_an_unknown_type(app, tenants):
    with pytest.raises(IntegrityError):
        cliente_of(tenants.admin_a.id, tipo_documento="XX")
    db.session.rollback()


# --- the API -----------------------------------------------------------------------------------


@pytest.fixture
def cuenta(tenants):
    return cuenta_cliente(tenants.admin_a.id, "cuenta.a@test.co")


def test_a_client_of_the_api_that_never_sends_the_type_gets_a_cedula(client, keys, cuenta):
    response = client.post(BASE, json=body(cuenta), headers=keys.admin_a)
    assert response.status_code == 201, response.json
    assert response.json["tipo_documento"] == "CC"
    assert db.session.get(Cliente, response.json["id_cliente"]).tipo_documento == "CC"
    entry = db.session.scalar(sa.select(Historial).where(Historial.modelo == "Cliente"))
    assert entry.detalle["valores"]["tipo_documento"] == "CC"


@pytest.mark.parametrize("tipo,typed,stored", VALID)
def test_the_api_takes_each_type(client, keys, tenants, tipo, typed, stored):
    cuenta = cuenta_cliente(tenants.admin_a.id, "cuenta.a@test.co")
    response = client.post(
        BASE, json=body(cuenta, tipo_documento=tipo, cedula_cliente=typed), headers=keys.admin_a
    )
    assert response.status_code == 201, response.json
    assert (response.json["tipo_documento"], response.json["cedula_cliente"]) == (tipo, stored)


@pytest.mark.parametrize("tipo,typed,message", INVALID)
def test_the_api_refuses_what_the_type_does_not_allow(client, keys, cuenta, tipo, typed, message):
    response = client.post(
        BASE, json=body(cuenta, tipo_documento=tipo, cedula_cliente=typed), headers=keys.admin_a
    )
    assert response.status_code == 400
    assert any(message in m for m in response.json["cedula_cliente"]), response.json


def test_the_api_changes_the_type_and_names_a_wrong_one(client, keys, tenants, cuenta):
    created = client.post(BASE, json=body(cuenta, cedula_cliente="900123456"), headers=keys.admin_a).json
    url = f"{BASE}{created['id_cliente']}/"
    changed = client.patch(url, json={"tipo_documento": "nit"}, headers=keys.admin_a)
    assert changed.status_code == 200, changed.json
    assert (changed.json["tipo_documento"], changed.json["cedula_cliente"]) == ("NIT", "9001234568")
    wrong = client.patch(url, json={"tipo_documento": "DNI"}, headers=keys.admin_a)
    assert wrong.status_code == 400 and wrong.json["tipo_documento"] == ["No es una opción válida."]
    assert client.patch(url, json={"tipo_documento": 1}, headers=keys.admin_a).status_code == 400


def test_openapi_lists_the_types(client):
    doc = client.get("/api/openapi.json").json
    prop = doc["components"]["schemas"]["ClienteNuevo"]["properties"]["tipo_documento"]
    # one named enum (issue 29), its default said in words (a request schema carries no default)
    assert prop["allOf"] == [{"$ref": "#/components/schemas/TipoDocumento"}]
    tipos = doc["components"]["schemas"]["TipoDocumento"]["enum"]
    assert tipos == ["CC", "CE", "TI", "PPT", "PEP", "PA", "NIT"]
    assert "Por defecto: CC" in prop["description"] or "(por defecto)" in prop["description"]
    answer = doc["components"]["schemas"]["Cliente"]["properties"]["tipo_documento"]
    assert answer["allOf"] == [{"$ref": "#/components/schemas/TipoDocumento"}]
    assert doc["components"]["schemas"]["TipoDocumento"]["type"] == "string"


# --- the search ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["900.123.456-8", "9001234568", "900123456", "900.123.456", "900 123 456"])
def test_a_nit_is_found_written_any_way_with_or_without_its_digit(client, keys, tenants, query):
    nit = cliente_of(tenants.admin_a.id, tipo_documento="NIT", cedula_cliente="9001234568").id_cliente
    cliente_of(tenants.admin_a.id, cedula_cliente="5550001")
    found = client.get(BASE, query_string={"search": query}, headers=keys.admin_a).json["results"]
    assert [c["id_cliente"] for c in found] == [nit]


def test_a_cedula_and_a_passport_are_found_written_with_dots_or_dashes(client, keys, tenants):
    ce = cliente_of(tenants.admin_a.id, tipo_documento="CE", cedula_cliente="54321").id_cliente
    pa = cliente_of(tenants.admin_a.id, tipo_documento="PA", cedula_cliente="AT123456").id_cliente
    for query, expected in (("54.321", ce), ("at-123456", pa)):
        found = client.get(BASE, query_string={"search": query}, headers=keys.admin_a).json["results"]
        assert [c["id_cliente"] for c in found] == [expected], query


# --- exports and the import ----------------------------------------------------------------------


def _documentos(tenant_id: int) -> set[tuple[str, str, str]]:
    """The tenant's (tipo, número, nombre), fresh (one number may be under two types)."""
    db.session.expire_all()
    with tenancy.using(tenant_id):
        rows = db.session.execute(
            sa.select(Cliente.tipo_documento, Cliente.cedula_cliente, Cliente.nombre_cliente)
        )
        return {tuple(r) for r in rows}


def test_the_export_has_the_type_and_imports_back_into_another_tenant(client, tenants):
    for tipo, numero in (("CC", "1020304"), ("NIT", "9001234568"), ("PA", "AT123456"), ("CE", "1020304")):
        cliente_of(tenants.admin_a.id, tipo_documento=tipo, cedula_cliente=numero)
    login(client, tenants.admin_a.email)
    exported = client.get("/admin/clientes/exportar/csv/")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    column = rows[0].index("Tipo de documento")
    assert sorted(r[column] for r in rows[1:]) == ["CC", "CE", "NIT", "PA"]
    _, vista, resumen = imported(exported.data, tenants.admin_b.id)
    assert vista["errores"] == [] and (resumen.nuevos, resumen.con_errores) == (4, 0)
    docs = {(tipo, numero) for tipo, numero, _ in _documentos(tenants.admin_b.id)}
    assert docs == {("CC", "1020304"), ("NIT", "9001234568"), ("PA", "AT123456"), ("CE", "1020304")}


def test_the_import_reads_a_type_by_code_or_name_and_updates_by_type_and_number(app, tenants):
    header = ["Tipo de documento", "Número de documento", "Nombres"]
    rows = [
        ["Cédula de extranjería", "1.020.304", "Ana"],
        ["C.E.", "2.030.405", "Beto"],
        ["Pasaporte", "at-778899", "John"],
        ["nit", "900.123.456", "Acme"],
        ["", "1020304", "Carla"],  # blank: a cédula, another document than Ana's CE
        ["Licencia", "55555", "Dora"],
    ]
    _, vista, resumen = imported(csv_bytes(rows, header=header), tenants.admin_a.id)
    assert errors_of(vista) == [
        (
            7,
            "Tipo de documento",
            "Tipo de documento desconocido: escriba CC, CE, TI, PPT, PEP, PA o NIT (o su nombre).",
        )
    ]
    assert _documentos(tenants.admin_a.id) == {
        ("CE", "1020304", "Ana"),
        ("CE", "2030405", "Beto"),
        ("PA", "AT778899", "John"),
        ("NIT", "9001234568", "Acme"),
        ("CC", "1020304", "Carla"),
    }
    again = [["CE", "1020304", "Ana María"], ["NIT", "900123456-8", "Acme SAS"]]
    _, vista, resumen = imported(csv_bytes(again, header=header), tenants.admin_a.id, actualizar=True)
    assert (resumen.nuevos, resumen.actualizados, resumen.con_errores) == (0, 2, 0)
    names = {(tipo, nombre) for tipo, _, nombre in _documentos(tenants.admin_a.id)}
    assert {("CE", "Ana María"), ("NIT", "Acme SAS"), ("CC", "Carla")} <= names


# --- Empresa's NIT ------------------------------------------------------------------------------


def _empresa_post(client, **fields):
    page = client.get("/admin/empresas/new/")
    return client.post("/admin/empresas/new/", data={"csrf_token": csrf_from(page.data), **fields})


def test_an_empresa_nit_typed_without_its_digit_gets_it_and_is_shown_with_it(client, tenants):
    login(client, "admin.a@test.co")
    assert _empresa_post(client, nombre="Acme S.A.S.", nit="900.123.456").status_code == 302
    assert db.session.scalar(sa.select(Empresa.nit)) == "9001234568"
    assert "900.123.456-8" in client.get("/admin/empresas/").get_data(as_text=True)


def test_an_empresa_nit_with_a_wrong_digit_is_refused_naming_the_right_one(client, tenants):
    login(client, "admin.a@test.co")
    response = _empresa_post(client, nombre="Acme S.A.S.", nit="900123456-1")
    assert response.status_code == 200
    assert "Dígito de verificación incorrecto: debería ser 8." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Empresa)) == 0


def test_an_empresa_nit_is_unique_per_tenant(client, tenants):
    factories.empresa(tenants.admin_b, "Acme de B").nit = "9001234568"
    db.session.commit()
    login(client, "admin.a@test.co")
    assert _empresa_post(client, nombre="Acme", nit="9001234568").status_code == 302
    again = _empresa_post(client, nombre="Acme otra", nit="900.123.456-8")
    assert "Ya existe una empresa con este NIT." in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Empresa)) == 2
    with pytest.raises(IntegrityError):
        db.session.add(Empresa(nombre="Directa", nit="9001234568", id_propietario=tenants.admin_a.id))
        db.session.commit()
    db.session.rollback()
