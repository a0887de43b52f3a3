"""schemathesis' own command, ``schemathesis run --checks all``, against the live document of a
running app (its own process): every check — server errors, status codes, response schemas,
schema-valid requests accepted, schema-violating ones refused, headers, methods, auth — passes
(SPEC §14). The rows a static schema cannot name come from tests/api_fuzz_hooks.py."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from panel.extensions import db
from panel.models import Ciudad, Cliente, Usuario

from . import factories
from .api_support import cliente_of, cuenta_cliente, token_for
from .browser.conftest import CLOCK_OFFSET, serve, stop

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ROOT = Path(__file__).resolve().parent.parent
# Fuzzing examples per operation (`make reliability`: API_FUZZ_EXAMPLES=100); the coverage phase
# (boundaries and each keyword broken one at a time) runs whole whatever the number.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "5"))
POOL = 30 + 12 * EXAMPLES  # rows of each kind the hooks may use up


@pytest.fixture(scope="module")
def served(database_url):
    limits = {"SMS_TEST_SENDS_PER_HOUR": "1000000", "SMS_TEST_SENDS_PER_DAY": "1000000"}
    server = serve(database_url, {"SMS_EMBEDDED_SENDER": "0", "SMS_SYNC_WAIT": "0.2", **limits})
    server.document = requests.get(f"{server.url}/api/openapi.json", timeout=10).json()
    yield server
    stop(server)


def _linked(admin_id: int, i: int) -> tuple[int, int]:
    """A client with its own account: (id_cliente, id_usuario)."""
    cuenta = cuenta_cliente(admin_id, f"ligada{i}@test.co")
    return cliente_of(admin_id, id_usuario=cuenta).id_cliente, cuenta


def _ground(tenants, path: Path) -> None:
    """The tenant's rows the hooks hand to positive cases (tests/api_fuzz_hooks.py)."""
    admin = db.session.get(Usuario, tenants.admin_a.id)
    admin.telefono, admin.telefono_verificado = "3109998877", "+573109998877"  # test sends go there
    factories.vehiculo(cliente_of(admin.id))  # a protected client: DELETE answers 409
    ground = {
        "clientes": [cliente_of(admin.id, telefono=f"30012301{i:02d}").id_cliente for i in range(5)],
        "fresh": [cliente_of(admin.id).id_cliente for _ in range(POOL)],
        "sin_cuenta": [cliente_of(admin.id).id_cliente for _ in range(5)],
        "con_cuenta": [_linked(admin.id, i) for i in range(5)],
        "recipients": [cliente_of(admin.id, telefono=f"3013{i:06d}").id_cliente for i in range(3 * POOL)],
        "accounts": [cuenta_cliente(admin.id, f"st{i}@test.co") for i in range(3 * POOL)],
        "id_empresa": [factories.empresa(admin).id for _ in range(2)],
        "id_campana": [factories.campana(admin).id for _ in range(2)],
        "plantilla": factories.plantilla(admin).id,
        "ciudades": [c.id for c in db.session.query(Ciudad).filter_by(id_pais=1)],
        # a municipio by name (the API's ``ciudad``): its DANE code names it without ambiguity
        "dane": {str(c.id): c.codigo_dane for c in db.session.query(Ciudad).filter_by(id_pais=1)},
        "clock_offset": CLOCK_OFFSET,
    }
    db.session.commit()
    ground["used"] = [(c.tipo_documento, c.cedula_cliente) for c in db.session.query(Cliente)]
    path.write_text(json.dumps(ground), encoding="utf-8")


def test_schemathesis_checks_all_on_the_live_document(served, tenants, tmp_path, capsys):
    _ground(tenants, tmp_path / "ground.json")
    key = token_for(tenants.admin_a.id)
    command = [
        str(SCHEMATHESIS), "run", f"{served.url}/api/openapi.json",
        "--checks", "all", "-H", f"Authorization: Token {key}",
        "--phases", "examples,coverage,fuzzing", "--max-examples", str(EXAMPLES),
        "--seed", "29", "--workers", "1", "--suppress-health-check", "all",
        "--continue-on-failure", "--no-color",
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api_fuzz_hooks",
        "API_FUZZ_GROUND": str(tmp_path / "ground.json"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1200)
    output = done.stdout + done.stderr
    counts = re.search(r"(\d+) generated, (\d+) passed(.*)", output)
    with capsys.disabled():
        print(f"\nschemathesis --checks all: {counts[0] if counts else output[-300:]}")
    assert done.returncode == 0, output[-12000:]
    operations = sum(len(ops) for ops in served.document["paths"].values())
    assert re.search(rf"Tested: {operations}\b", output), output[-3000:]
    assert counts and counts[1] == counts[2] and int(counts[1]) >= 10 * operations, counts
