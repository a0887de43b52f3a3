"""The files agencies already have (SPEC §17), one per tool's shape, made here: every valid row
imports, the warned rows import and say why, the rejected rows are counted by reason; defaults
and new empresas are named on the preview with their row counts."""

import csv
import io
from collections import Counter

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.importing import columns, reading
from panel.models import Empresa

from . import factories, import_tools
from .import_support import clientes, imported


def _mapping(data: bytes, *pares: str) -> dict[int, str]:
    """The guessed mapping with the user's corrections (what the CLI's --columna does)."""
    encabezados = reading.open_table(data, "x.csv").encabezados
    return columns.override(columns.guess(encabezados), encabezados, list(pares))


def _reasons(vista: dict, esperado) -> Counter:
    """Rejected rows by reason: the start of their first error's message that the file expects."""
    first = {}
    for fila, _, mensaje in vista["errores"]:
        first.setdefault(fila, mensaje)
    found = Counter()
    for mensaje in first.values():
        reason = next((r for r in esperado.rechazadas if mensaje.startswith(r)), mensaje)
        found[reason] += 1
    return found


def _empresas(tenant_id: int) -> dict[str, str | None]:
    db.session.expire_all()
    with tenancy.using(tenant_id):
        return {e.nombre: e.nit for e in db.session.scalars(sa.select(Empresa))}


def _defaults(vista: dict) -> dict[str, int]:
    return {d["campo"]: d["filas"] for d in vista["por_defecto"]}


def _check(tenant_id: int, data: bytes, esperado, nombre: str, mapping=None):
    job, vista, resumen = imported(data, tenant_id, nombre, mapping=mapping)
    assert "problemas" not in vista, vista.get("problemas")
    assert _reasons(vista, esperado) == Counter(esperado.rechazadas)
    assert (vista["total"], vista["con_errores"]) == (esperado.filas, sum(esperado.rechazadas.values()))
    assert vista["con_avisos"] == esperado.avisadas
    assert (resumen.nuevos, resumen.con_errores) == (esperado.importadas, vista["con_errores"])
    assert len(clientes(tenant_id)) == esperado.importadas
    return job, vista


def test_an_agencys_excel_es_co_csv_imports_every_valid_row(app, tenants):
    data, esperado = import_tools.agencia()
    assert data.decode("cp1252").splitlines()[0].startswith("Tipo de documento;Número de documento;")
    _, vista = _check(tenants.admin_a.id, data, esperado, "clientes agencia.csv")
    assert esperado.importadas == 195
    # the 20 rows without municipio, named with their default
    assert {d["campo"]: d["texto"] for d in vista["por_defecto"]}["ciudad"] == (
        "Ciudad: Bogotá D.C. (por defecto) en 20 filas"
    )
    assert _defaults(vista) == {"pais": 195, "ciudad": 20, "estado": 195, "acepta_sms": 195}
    nuevas = {e["nombre"]: (e["nit"], e["filas"]) for e in vista["empresas_nuevas"]}
    assert set(nuevas) == {n for n, _ in import_tools.EMPRESAS}  # the bad NIT's empresa is not created
    assert nuevas["Distribuidora Andina S.A.S."][0] == "900.123.456-8"
    stored = clientes(tenants.admin_a.id)
    tipos = Counter(c.tipo_documento for c in stored.values())
    assert (tipos["CE"], tipos["PA"], tipos["NIT"]) == (8, 8, 8)
    by_city = Counter(c.ciudad.nombre for c in stored.values())
    assert by_city["Itagüí"] > 10 and by_city["Rionegro"] > 10 and by_city["Bogotá D.C."] > 20
    rionegro = next(c for c in stored.values() if c.ciudad.nombre == "Rionegro")
    assert rionegro.ciudad.departamento.nombre == "Antioquia"
    empresas = _empresas(tenants.admin_a.id)
    assert empresas == {
        n: (nit.replace(".", "").replace("-", "") or None) for n, nit in import_tools.EMPRESAS
    }


def test_google_contacts_with_the_cedula_in_a_custom_field(app, tenants):
    data, esperado = import_tools.google()
    mapping = _mapping(data, import_tools.GOOGLE_CEDULA)
    assert mapping[import_tools.GOOGLE_HEADER.index("Given Name")] == "nombre_cliente"
    assert "Name" not in {import_tools.GOOGLE_HEADER[i] for i in mapping}  # the full name: Given wins
    _, vista = _check(tenants.admin_a.id, data, esperado, "contacts.csv", mapping)
    every = {"tipo_documento": 5, "pais": 5, "estado": 5, "acepta_sms": 5}
    assert _defaults(vista) == every | {"ciudad": 5}
    assert [e["nombre"] for e in vista["empresas_nuevas"]] == ["Acme"]
    assert [tuple(a) for a in vista["avisos"]] == [
        (2, "Phone 1 - Value", "La celda tiene 2 teléfonos: se guarda +57 310 123 4567."),
        (3, "Birthday", "Fecha sin año (--03-08): se deja sin fecha."),
        (3, "Phone 1 - Value", "La celda tiene 2 teléfonos: se guarda 315 765 4321."),
    ]
    c = clientes(tenants.admin_a.id)
    assert (c["1020304050"].telefono_e164, c["1020304050"].genero) == ("+573101234567", 0)
    assert (c["79888777"].telefono_e164, c["79888777"].fecha_nacimiento, c["79888777"].genero) == (
        "+573157654321",
        None,
        1,
    )


def test_outlook_with_us_dates_and_empty_birthdays(app, tenants):
    data, esperado = import_tools.outlook()
    mapping = _mapping(data)
    assert (
        import_tools.OUTLOOK_HEADER[[i for i, c in mapping.items() if c == "telefono"][0]] == "Mobile Phone"
    )
    assert import_tools.OUTLOOK_HEADER[[i for i, c in mapping.items() if c == "cedula_cliente"][0]] == (
        "Government ID Number"
    )
    _, vista = _check(tenants.admin_a.id, data, esperado, "outlook.csv", mapping)
    every = {"tipo_documento": 5, "pais": 5, "estado": 5, "acepta_sms": 5}
    assert _defaults(vista) == every | {"ciudad": 1}
    assert [e["nombre"] for e in vista["empresas_nuevas"]] == ["Acme"]
    assert sorted(tuple(a) for a in vista["avisos"]) == [
        (3, "Birthday", "Fecha vacía en el archivo (0/0/00): se deja sin fecha."),
        (3, "Gender", "Género «Unspecified» no reconocido (F o M): se deja vacío."),
        (6, "Birthday", "Fecha vacía en el archivo (0/0/00): se deja sin fecha."),
        (6, "Gender", "Género «Unspecified» no reconocido (F o M): se deja vacío."),
    ]
    c = clientes(tenants.admin_a.id)
    # 5/17/1990 proves the column month-first: 3/4/1985 is March 4, 12/1/1975 December 1
    assert [c[k].fecha_nacimiento.isoformat() for k in ("1020304050", "1030111222", "80111222")] == [
        "1990-05-17",
        "1985-03-04",
        "1975-12-01",
    ]
    assert (c["79888777"].fecha_nacimiento, c["79888777"].genero) == (None, None)
    assert c["1020304050"].telefono_e164 == "+573101234567"  # the mobile, not the home phone


def test_hubspot_creates_its_companies_once(app, tenants):
    data, esperado = import_tools.hubspot()
    _, vista = _check(tenants.admin_a.id, data, esperado, "hubspot.csv")
    every = {"tipo_documento": 5, "pais": 5, "estado": 5, "acepta_sms": 5}
    assert _defaults(vista) == every | {"ciudad": 1}
    assert vista["empresas_nuevas"] == [
        {"nombre": "Acme Colombia S.A.S.", "nit": "", "filas": 2},
        {"nombre": "Beta Ltda.", "nit": "", "filas": 2},
    ]
    assert _empresas(tenants.admin_a.id) == {"Acme Colombia S.A.S.": None, "Beta Ltda.": None}
    assert _empresas(tenants.admin_b.id) == {}
    c = clientes(tenants.admin_a.id)
    assert c["1020304050"].empresa.nombre == c["79888777"].empresa.nombre == "Acme Colombia S.A.S."
    assert c["1020304050"].telefono_e164 == "+573101234567"  # Mobile Phone Number over Phone Number


@pytest.mark.parametrize(
    "build, mapping",
    [
        (import_tools.google, (import_tools.GOOGLE_CEDULA,)),
        (import_tools.outlook, ()),
        (import_tools.hubspot, ()),
    ],
)
def test_each_tools_rejected_rows_import_back_once_corrected(app, tenants, build, mapping):
    data, esperado = build()
    job, vista, _ = imported(data, tenants.admin_a.id, mapping=_mapping(data, *mapping))
    db.session.refresh(job)
    rows = list(csv.reader(io.StringIO(job.rechazos.decode("utf-8-sig"))))
    assert len(rows) - 1 == sum(esperado.rechazadas.values())
    assert rows[0][-2:] == ["fila", "error"]


def test_another_tenants_empresa_name_is_created_in_this_tenant(app, tenants):
    factories.empresa(tenants.admin_b, "Acme B")
    data, _ = import_tools.hubspot()
    data = data.replace(b"Beta Ltda.", b"Acme B")
    imported(data, tenants.admin_a.id)
    assert set(_empresas(tenants.admin_a.id)) == {"Acme Colombia S.A.S.", "Acme B"}
    assert set(_empresas(tenants.admin_b.id)) == {"Acme B"}
