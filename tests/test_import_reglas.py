"""panel/importing/reglas.py runs ClienteForm's rules as WTForms would: the same data and the same
errors, field by field, on hostile and real-world input (the import test modules also compare
both ways on every row they import: tests/support/reglas.py)."""

import pytest

from panel import tenancy
from panel.importing.catalogo import Catalogo
from panel.importing.reglas import Reglas
from panel.importing.rows import ImportForm

from . import factories
from .clock_fixtures import at
from .import_support import csv_bytes, imported, row
from .support.reglas import compared

GOOD = {
    "tipo_documento": "CC",
    "cedula_cliente": "1.020.304.050",
    "nombre_cliente": "Ana",
    "apellido_cliente": "Pérez",
    "fecha_nacimiento": "1990-03-15",
    "email": "ana@example.com",
    "genero": "0",
    "telefono": "300 123 4567",
    "id_ciudad": "1",
    "id_pais": "1",
    "estado": "1",
    "acepta_sms": "y",
}

# One change from GOOD per case: what people write and what an attacker sends.
HOSTILE = [
    {},
    {"cedula_cliente": ""},
    {"cedula_cliente": "   "},
    {"cedula_cliente": "abc"},
    {"cedula_cliente": "1" * 25},
    {"cedula_cliente": "12\x0034"},
    {"cedula_cliente": "١٢٣٤٥٦"},  # Arabic-Indic digits
    {"tipo_documento": "PA", "cedula_cliente": "ab-123456"},
    {"tipo_documento": "NIT", "cedula_cliente": "900.123.456-7"},
    {"tipo_documento": "NIT", "cedula_cliente": "900.123.456-8"},
    {"tipo_documento": "ce "},
    {"tipo_documento": "XX"},
    {"tipo_documento": ""},
    {"nombre_cliente": ""},
    {"nombre_cliente": " \t "},
    {"nombre_cliente": "N" * 21},
    {"nombre_cliente": "Ana\x07"},
    {"nombre_cliente": "Ana\nMaría"},
    {"nombre_cliente": '=HYPERLINK("x")'},
    {"apellido_cliente": "A" * 21},
    {"apellido_cliente": ""},
    {"fecha_nacimiento": ""},
    {"fecha_nacimiento": "1990-02-31"},
    {"fecha_nacimiento": "15/03/1990"},
    {"fecha_nacimiento": "2999-01-01"},
    {"fecha_nacimiento": "2026-12-06"},  # today (the clock is pinned): not in the past
    {"email": ""},
    {"email": "no-es-un-correo"},
    {"email": "x" * 35 + "@b.co"},
    {"email": " ana@example.com "},
    {"email": "josé@correo.com.co"},
    {"email": "ana@localhost"},
    {"genero": "2"},
    {"genero": ""},
    {"genero": "None"},
    {"telefono": ""},
    {"telefono": "12"},
    {"telefono": "300-abc"},
    {"telefono": "+57 300 123 4567"},
    {"telefono": "(601) 234 5678"},
    {"telefono": "3" * 25},
    {"id_pais": "2", "telefono": "0991234567"},
    {"id_pais": "x"},
    {"id_pais": "99999999999"},
    {"id_pais": ""},
    {"id_ciudad": "0"},
    {"id_ciudad": "-1"},
    {"id_ciudad": "abc"},
    {"id_ciudad": "999999"},
    {"id_ciudad": ""},
    {"id_empresa": "1"},
    {"id_empresa": "999"},
    {"id_empresa": "null"},
    {"id_campana": "x"},
    {"id_usuario": "5"},
    {"estado": "3"},
    {"estado": "7"},
    {"estado": ""},
    {"acepta_sms": ""},
    {"acepta_sms": "false"},
    {"acepta_sms": "y"},
]


def cases():
    """GOOD with each change; an empty dict is every field missing (the form's defaults)."""
    yield {}
    for change in HOSTILE[1:]:
        yield GOOD | change
    for name in GOOD:  # each field absent
        yield {k: v for k, v in GOOD.items() if k != name}


def import_form(actualizar: bool = False) -> ImportForm:
    catalogo = Catalogo.load()
    return ImportForm(formdata=None, catalogo=catalogo, choices=catalogo.choices(), actualizar=actualizar)


def test_the_plan_and_wtforms_agree_on_every_hostile_row(app, tenants):
    with at("2026-12-06 10:00"), tenancy.using(tenants.admin_a.id):
        factories.empresa(tenants.admin_a, "Acme")
        factories.cliente(tenants.admin_a, cedula_cliente="1020304051")
        reglas = Reglas(import_form())
        results = [compared(reglas, inputs) for inputs in cases()]
        duplicate = compared(reglas, GOOD | {"cedula_cliente": "1020304051"})
    assert results[1] is False and True in results  # both outcomes met, not one path trivially agreeing
    assert results.count(True) >= 15 and results.count(False) >= 30
    assert duplicate is False and reglas.form.cedula_cliente.errors == [
        "Ya existe un cliente con esta cédula."
    ]


def test_a_plan_that_left_a_rule_out_is_caught(app, tenants):
    """The comparison can fail: a plan without nombre_cliente's Length differs on a long name."""
    with tenancy.using(tenants.admin_a.id):
        reglas = Reglas(import_form())
        compared(reglas, GOOD | {"nombre_cliente": "N" * 21})  # the true plan agrees
        paso = next(p for p in reglas.pasos if p.name == "nombre_cliente")
        broken = type(paso)(**(vars(paso) | {"chain": paso.chain[:-1]}))
        reglas.pasos = tuple(broken if p is paso else p for p in reglas.pasos)
        assert compared(reglas, GOOD) is True  # a short name: no difference to see
        with pytest.raises(AssertionError):
            compared(reglas, GOOD | {"nombre_cliente": "N" * 21})


def test_the_default_is_processed_once_and_kept_per_row(app, tenants):
    """A field missing from a row gets the form's default again, not the last row's value."""
    with tenancy.using(tenants.admin_a.id):
        reglas = Reglas(import_form())
        reglas.validate(GOOD | {"estado": "0", "tipo_documento": "CE", "cedula_cliente": "123456"})
        reglas.validate({k: v for k, v in GOOD.items() if k not in ("estado", "tipo_documento")})
    assert (reglas.form.estado.data, reglas.form.tipo_documento.data) == (1, "CC")


def test_an_import_runs_each_row_both_ways(app, tenants, both_paths):
    data = csv_bytes([row(1), row(2, Correo="sin-arroba"), row(3, Nombres="")])
    job, vista, resumen = imported(data, tenants.admin_a.id)
    assert (resumen.nuevos, resumen.con_errores) == (1, 2)
    assert both_paths[0] == 5  # three rows in the preview; in the run, the two it refused (validadas.py)


def test_a_prefixed_form_is_refused(app, tenants):
    with tenancy.using(tenants.admin_a.id):
        form = import_form()
        form._prefix = "x-"
        with pytest.raises(ValueError):
            Reglas(form)


def test_a_choice_list_replaced_is_read_anew(app, tenants):
    """ChoiceField keeps its values as a set per list (every row asks): a new list is read again."""
    with tenancy.using(tenants.admin_a.id):
        form = import_form()
        ok = GOOD | {"id_empresa": ""}
        assert compared(Reglas(form), ok) is True
        empresas = form.id_empresa.choices
        form.id_empresa.choices = [*empresas, (99_999, "Nueva")]
        assert compared(Reglas(form), ok | {"id_empresa": "99999"}) is True
        form.id_empresa.choices = empresas
        assert compared(Reglas(form), ok | {"id_empresa": "99999"}) is False
        assert form.id_empresa.errors == ["No es una opción válida."]
