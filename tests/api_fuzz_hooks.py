"""schemathesis CLI hooks (``SCHEMATHESIS_HOOKS=tests.api_fuzz_hooks``): the test data a static
schema cannot hold, as schemathesis advises ("seed known ids"), for the positive cases only — a
negative case is sent as generated.

The test writes the tenant's rows to the JSON file named by ``API_FUZZ_GROUND`` (see
tests/test_api_schemathesis.py): fresh clients for each PUT/PATCH/DELETE (so a null account is
the stored one), free cliente accounts, the tenant's empresas and campañas, clients no SMS
reached today, a template, the cédulas already used, and the server's clock offset. Everything
else a positive case carries is the schema's, and must be accepted.
"""

import itertools
import json
import os
from datetime import UTC, datetime, timedelta

import schemathesis
from schemathesis import GenerationMode

from panel import identificacion

GROUND = json.loads(open(os.environ["API_FUZZ_GROUND"], encoding="utf-8").read())  # noqa: SIM115
TURN = itertools.count()
USED = {tuple(pair) for pair in GROUND["used"]}
EXAMPLES = {"CC": "8{:07d}", "CE": "7{:07d}", "TI": "6{:09d}", "NIT": "8{:08d}"}


def _document(tipo: str | None, numero: str | None, n: int) -> str:
    """The generated number when its type allows it and no earlier request took it, else one that is."""
    tipo = (tipo or "CC").strip().upper()
    stored = identificacion.normalizado(tipo, numero or "")
    if not stored or identificacion.problema(tipo, stored) or (tipo, stored) in USED:
        numero = EXAMPLES.get(tipo, "X{:07d}").format(n)
        stored = identificacion.normalizado(tipo, numero)
    USED.add((tipo, stored))
    return numero


def _body(body: dict, n: int, creating: bool) -> None:
    if "cliente_ids" in body:  # clients no SMS reached today: the daily cap would skip them all
        body["cliente_ids"] = [GROUND["recipients"].pop() for _ in range(1 + n % 3)]
    if body.get("id_usuario") is not None and creating:  # a new client: a free account
        body["id_usuario"] = GROUND["accounts"].pop()
    if body.get("id_plantilla") is not None:
        body["id_plantilla"] = GROUND["plantilla"]
    for name in ("id_empresa", "id_campana"):
        if body.get(name) is not None:
            body[name] = GROUND[name][n % len(GROUND[name])]
    if "id_pais" in body or "id_ciudad" in body:  # the city must be in the country
        body |= {"id_pais": 1, "id_ciudad": GROUND["ciudades"][n % len(GROUND["ciudades"])]}
    if isinstance(body.get("ciudad"), str):  # a municipio by name: one that exists, the id's own
        if body.get("id_ciudad") is None:
            body["id_ciudad"] = GROUND["ciudades"][n % len(GROUND["ciudades"])]
        if "id_pais" in body:
            body["id_pais"] = 1
        body["ciudad"] = GROUND["dane"][str(body["id_ciudad"])]
    if isinstance(body.get("documento"), str):  # crear/ajax: a cédula (CC)
        body["documento"] = _document("CC", body["documento"], n)
    if isinstance(body.get("cedula_cliente"), str) or isinstance(body.get("tipo_documento"), str):
        body["cedula_cliente"] = _document(body.get("tipo_documento"), body.get("cedula_cliente"), n)
    if body.get("programar_para"):  # from now to 35 days ahead, on the server's clock
        now = datetime.now(UTC) + timedelta(seconds=GROUND["clock_offset"])
        body["programar_para"] = (now + timedelta(hours=1 + n % 24)).isoformat()
    if isinstance(body.get("fecha_nacimiento"), str):  # before today
        born = datetime.strptime(body["fecha_nacimiento"], "%Y-%m-%d").date()
        body["fecha_nacimiento"] = min(born, datetime(2000, 1, 1).date()).isoformat()


def _client_for(case, n: int) -> int:
    """A client to delete is used once; a null account goes to a client that never had one (the API
    does not remove a linked account); the others cycle through a few clients."""
    if case.method == "DELETE" and GROUND["fresh"]:
        return GROUND["fresh"].pop()
    body = case.body if isinstance(case.body, dict) else {}
    if "id_usuario" not in body:
        return GROUND["clientes"][n % len(GROUND["clientes"])]
    if body["id_usuario"] is None:
        return GROUND["sin_cuenta"][n % len(GROUND["sin_cuenta"])]
    cliente, body["id_usuario"] = GROUND["con_cuenta"][n % len(GROUND["con_cuenta"])]  # its own
    return cliente


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    n = next(TURN)
    if "id_cliente" in (case.path_parameters or {}):
        case.path_parameters["id_cliente"] = _client_for(case, n)
    if isinstance(case.body, dict):
        _body(case.body, n, creating="id_cliente" not in (case.path_parameters or {}))
