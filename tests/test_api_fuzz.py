"""Bad-input fuzzing: schemathesis drives every operation of /api/openapi.json on the live app
(WSGI, in-process) with a token; no 5xx and no answer outside the documented schema."""

import os
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_wsgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from panel.extensions import db
from panel.models import Usuario

from . import factories
from .api_support import cliente_of, cuenta_cliente, keys
from .conftest import make_app

__all__ = ["keys"]

# Per operation and mode: ~10 operations × 2 modes × 25 ≈ 500 requests (`make reliability`: 100).
EXAMPLES_PER_MODE = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
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


def _fuzz(operation, mode, headers: dict, counts: dict, failures: list) -> None:
    """Run one operation for a bounded number of generated cases; collect failures."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        counts["requests"] += 1
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # noqa: BLE001 - collected and reported with the request
            failures.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200} → {exc}")

    try:
        run()
    except Exception as exc:  # an unsatisfiable strategy (e.g. no negative form of a bare GET)
        if "Unsatisfiable" not in type(exc).__name__ and "no examples" not in str(exc).lower():
            raise
