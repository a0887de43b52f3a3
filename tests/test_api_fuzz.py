"""Bad-input fuzzing: schemathesis drives every operation of /api/openapi.json on the live app
(WSGI, in-process) with a token; no 5xx and no answer outside the documented schema. Then the
positive-data check: every request the schema allows is accepted (SPEC §14)."""

import itertools
import os
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_wsgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from panel import identificacion
from panel.extensions import db
from panel.models import Ciudad, Cliente, Usuario

from . import factories
from .api_support import cliente_of, cuenta_cliente, keys
from .conftest import make_app

__all__ = ["keys"]

# Per operation and mode: ~10 operations × 2 modes × 25 ≈ 500 requests (`make reliability`: 100).
EXAMPLES_PER_MODE = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
# Positive-data check: ~10 operations × 15 (`make reliability`: API_FUZZ_EXAMPLES).
POSITIVE_EXAMPLES = int(os.environ.get("API_POSITIVE_EXAMPLES", os.environ.get("API_FUZZ_EXAMPLES", "15")))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _seed(tenants) -> None:
    """Rows the generated requests can hit: clients (one protected), accounts, a template."""
    admin = db.session.get(Usuario, tenants.admin_a.id)
    for i in range(1, 6):
        cliente_of(admin.id, telefono=f"30012300{i:02d}")
        cuenta_cliente(admin.id, f"fuzz{i}@test.co")
    factories.vehiculo(cliente_of(admin.id))
    factories.plantilla(admin)


@pytest.mark.parametrize("who", ["admin_a", "vendedor_a"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    app, database_url, tenants, keys, who, capsys
):
    _seed(tenants)
    live = make_app(database_url, SMS_SYNC_WAIT=0.2)
    schema = from_wsgi("/api/openapi.json", live)
    failures: list[str] = []
    counts = {"requests": 0}
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, getattr(keys, who), counts, failures)
    elapsed = time.monotonic() - started
    summary = f"schemathesis ({who}): {counts['requests']} peticiones generadas en {elapsed:.1f} s"
    with capsys.disabled():  # shown in the test output even without -s
        print(f"\n{summary}")
    assert not failures, summary + "\n" + "\n".join(failures[:10])
    assert counts["requests"] >= 100, summary


def _fuzz(operation, mode, headers: dict, counts: dict, failures: list, **options) -> None:
    """Run one operation for a bounded number of generated cases; collect failures."""
    checks, ground = options.get("checks", CHECKS), options.get("ground", lambda case: None)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=options.get("examples", EXAMPLES_PER_MODE),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        counts["requests"] += 1
        ground(case)
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:  # noqa: BLE001 - collected and reported with the request
            failures.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200} → {exc}")

    try:
        run()
    except Exception as exc:  # an unsatisfiable strategy (e.g. no negative form of a bare GET)
        if "Unsatisfiable" not in type(exc).__name__ and "no examples" not in str(exc).lower():
            raise


class Ground:
    """What a static schema cannot hold, taken from the database as schemathesis advises ("seed
    known ids"): the tenant's rows behind foreign keys, free user accounts, cédulas not yet used,
    dates before today, the country of a national phone number. Everything else a generated
    request carries is the schema's, and must be accepted."""

    REFERENCES = ("id_empresa", "id_campana")

    def __init__(self, admin_id: int):
        admin = db.session.get(Usuario, admin_id)
        self.clientes = [cliente_of(admin_id, telefono=f"30012301{i:02d}").id_cliente for i in range(8)]
        self.admin_id = admin_id
        self.phones = itertools.count()
        self.accounts = [
            cuenta_cliente(admin_id, f"positivo{i}@test.co") for i in range(3 * POSITIVE_EXAMPLES)
        ]
        self.references = {
            "id_empresa": [factories.empresa(admin).id for _ in range(2)],
            "id_campana": [factories.campana(admin).id for _ in range(2)],
        }
        self.ciudades = [c.id for c in db.session.query(Ciudad).filter_by(id_pais=1)]
        self.nombres = {c.id: c.etiqueta for c in db.session.query(Ciudad).filter_by(id_pais=1)}
        self.plantilla = factories.plantilla(admin).id  # enviar-prueba tests one of the tenant's
        admin.telefono, admin.telefono_verificado = "3109998877", "+573109998877"  # test sends go there
        db.session.commit()
        self.used: set[str] = set()
        self.turn = itertools.count()

    def __call__(self, case) -> None:
        n = next(self.turn)
        if "id_cliente" in (case.path_parameters or {}):
            case.path_parameters["id_cliente"] = self.clientes[n % len(self.clientes)]
        if isinstance(case.body, dict):
            self._body(case.body, n)

    def _body(self, body: dict, n: int) -> None:
        if "cliente_ids" in body:  # clients no SMS reached today: the daily cap would skip them all
            body["cliente_ids"] = self._recipients(1 + n % 3)
        if body.get("id_usuario") is not None:
            body["id_usuario"] = self.accounts.pop()
        if body.get("id_plantilla") is not None:
            body["id_plantilla"] = self.plantilla
        for name in self.REFERENCES:
            if body.get(name) is not None:
                body[name] = self.references[name][n % 2]
        if {"id_pais", "id_ciudad", "ciudad"} & set(body):  # the city must be in the country
            ciudad = self.ciudades[n % len(self.ciudades)]
            named = {"ciudad": self.nombres[ciudad]} if "ciudad" in body else {}  # by name: the same city
            body |= {"id_pais": 1, "id_ciudad": ciudad} | named
        if isinstance(body.get("documento"), str):
            body["documento"] = self._unused(body["documento"], n)
        if isinstance(body.get("cedula_cliente"), str) or isinstance(body.get("tipo_documento"), str):
            body["cedula_cliente"] = self._document(body.get("tipo_documento"), body.get("cedula_cliente"), n)
        if body.get("programar_para") is not None:  # from now to 35 days ahead: the clock's rule
            body["programar_para"] = (datetime.now(UTC) + timedelta(hours=1 + n % 24)).isoformat()
        if isinstance(body.get("fecha_nacimiento"), str):
            born = date.fromisoformat(body["fecha_nacimiento"])
            body["fecha_nacimiento"] = min(born, date.today() - timedelta(days=1)).isoformat()

    def _recipients(self, k: int) -> list[int]:
        return [
            cliente_of(self.admin_id, telefono=f"3013{next(self.phones):06d}").id_cliente for _ in range(k)
        ]

    # A number of each type, unique per request (SPEC §16): the rule depends on tipo_documento,
    # which the schema gives as a separate field, as the city depends on the country.
    EXAMPLES = {"CC": "8{:07d}", "CE": "7{:07d}", "TI": "6{:09d}", "NIT": "8{:08d}"}

    def _document(self, tipo: str | None, numero: str | None, n: int) -> str:
        """The generated number when its type allows it and no earlier request took it, else one that is."""
        tipo = (tipo or "CC").strip().upper()
        stored = identificacion.normalizado(tipo, numero or "")
        if not stored or identificacion.problema(tipo, stored) or (tipo, stored) in self.used:
            numero = self.EXAMPLES.get(tipo, "X{:07d}").format(n)
            stored = identificacion.normalizado(tipo, numero)
        self.used.add((tipo, stored))
        return numero

    def _unused(self, cedula: str, n: int) -> str:
        """The generated cédula, unless an earlier request may have taken it (unique per tenant)."""
        if cedula.strip() in self.used:
            cedula = f"9{n:09d}"
        self.used.add(cedula.strip())
        return cedula


def test_schemathesis_every_request_the_schema_allows_is_accepted(app, database_url, tenants, keys, capsys):
    ground = Ground(tenants.admin_a.id)
    ground.used |= {c.cedula_cliente for c in db.session.query(Cliente)}
    ground.used |= {(c.tipo_documento, c.cedula_cliente) for c in db.session.query(Cliente)}
    # Test sends' hourly and daily limits (429) have their own tests: not what this one is about.
    limits = {"SMS_TEST_SENDS_PER_HOUR": 10**6, "SMS_TEST_SENDS_PER_DAY": 10**6}
    live = make_app(database_url, SMS_SYNC_WAIT=0.2, **limits)
    schema = from_wsgi("/api/openapi.json", live)
    failures: list[str] = []
    counts = {"requests": 0}
    checks = [positive_data_acceptance, *CHECKS]
    for result in schema.get_all_operations():
        options = {"checks": checks, "ground": ground, "examples": POSITIVE_EXAMPLES}
        _fuzz(result.ok(), GenerationMode.POSITIVE, keys.admin_a, counts, failures, **options)
    summary = f"schemathesis, datos válidos: {counts['requests']} peticiones"
    with capsys.disabled():
        print(f"\n{summary}")
    assert not failures, summary + "\n" + "\n".join(failures[:10])
    assert counts["requests"] >= 5 * POSITIVE_EXAMPLES, summary


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "Ana\x01",
            "a\tb",
            "a\nb",
            "\x1f",
            "😀👩‍👩‍👧",
            "\u200fمرحبا\u202b",
            "x" * 10_000,
            "9" * 40,
            "9999-12-31",
            "0000-01-01",
            "1e400",
            "",
            " ",
            "\x00",
        ]
    ),  # fmt: skip
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.none(),
)
TEXT_FIELDS = (
    "cedula_cliente",
    "nombre_cliente",
    "apellido_cliente",
    "email",
    "telefono",
    "fecha_nacimiento",
)


def test_hostile_values_in_every_client_field_are_2xx_or_4xx_and_never_half_written(app, tenants, keys):
    """SPEC §19: controls, emoji, right-to-left marks, 10 KB strings and huge numbers in each
    field of POST and PATCH: never a 5xx, and a refused POST writes no row."""
    from .api_support import BASE, body, count_clientes

    own = cliente_of(tenants.admin_a.id, telefono="3001230099")
    client = app.test_client()
    failures, turn = [], itertools.count()

    @settings(
        max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(field=st.sampled_from(TEXT_FIELDS + ("id_ciudad", "ciudad", "genero", "estado")), value=HOSTILE)
    def post_and_patch(field, value):
        n = next(turn)
        cuenta = cuenta_cliente(tenants.admin_a.id, f"hostil{n}@test.co")
        before = count_clientes()
        created = client.post(BASE, json=body(cuenta, **{"cedula_cliente": f"7{n:08d}", field: value}),
                              headers=keys.admin_a)  # fmt: skip
        patched = client.patch(f"{BASE}{own.id_cliente}/", json={field: value}, headers=keys.admin_a)
        for response in (created, patched):
            if response.status_code >= 500:
                failures.append((field, repr(value)[:60], response.status_code))
        if created.status_code >= 400 and count_clientes() != before:
            failures.append((field, repr(value)[:60], "fila escrita con un 4xx"))

    post_and_patch()
    assert failures == [], failures[:5]
