"""A TypeScript user's first try (issue #29): openapi-typescript, with no flags, generates types
from the live /api/openapi.json; `tsc --noEmit` compiles tests/typescript/client.ts — the README's
examples as typed literals, and a client made in the panel put back as a GET read it — and the
same client, compiled, round-trips list/get/create/PUT/PATCH/delete and enviar-sms against the
running app. The tools are pinned in tests/typescript/package.json and its lockfile; `npm ci`
runs once, when node_modules is missing."""

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from panel.extensions import db
from panel.models import Usuario

from . import factories
from .api_support import cliente_of, cuenta_cliente, token_for
from .services import require

HERE = Path(__file__).resolve().parent / "typescript"
BIN = HERE / "node_modules" / ".bin"
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "target": "ES2022",
        "module": "ES2022",
        "moduleResolution": "Bundler",
        "lib": ["ES2022", "DOM"],
        "skipLibCheck": False,
    },
    "files": ["client.ts", "api.d.ts"],
}


def _run(command: list, cwd, **options) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, **options)


@pytest.fixture(scope="module")
def tools():
    """openapi-typescript and tsc from the lockfile (installed once; node_modules is git-ignored)."""
    require("npm", shutil.which("npm") is not None and shutil.which("node") is not None)
    # CI runs two suites at once (SQLite and PostgreSQL): one installs, the other waits for it.
    with open(HERE / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (BIN / "tsc").exists() or not (BIN / "openapi-typescript").exists():
            done = _run(["npm", "ci", "--no-audit", "--no-fund"], HERE)
            assert done.returncode == 0, done.stdout + done.stderr
    return BIN


@pytest.fixture(scope="module")
def project(tools, served, tmp_path_factory):
    """A folder with the generated types (no generator flag) beside the client and a strict tsconfig."""
    out = tmp_path_factory.mktemp("cliente_ts")
    document = requests.get(f"{served.url}/api/openapi.json", timeout=10).json()
    (out / "openapi.json").write_text(json.dumps(document))
    done = _run([str(tools / "openapi-typescript"), "openapi.json", "-o", "api.d.ts"], out)
    assert done.returncode == 0, done.stdout + done.stderr
    shutil.copy(HERE / "client.ts", out / "client.ts")
    (out / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    return out


def _tsc(tools, project, *args) -> subprocess.CompletedProcess:
    return _run([str(tools / "tsc"), "-p", "tsconfig.json", *args], project)


def test_the_readme_examples_compile_against_the_generated_types(tools, project):
    done = _tsc(tools, project, "--noEmit")
    assert done.returncode == 0, done.stdout + done.stderr
    types = (project / "api.d.ts").read_text()
    assert 'genero?: components["schemas"]["Genero"] | null' in types  # one named enum, nullable


def test_the_types_are_strict_enough_to_refuse_a_wrong_body(tools, project):
    """The check can fail: a create without its required fields, and a genero outside the enum."""
    wrong = project / "wrong.ts"
    wrong.write_text(
        'import type { components } from "./api";\n'
        'export const a: components["schemas"]["ClienteNuevo"] = { nombre_cliente: "Ana" };\n'
        'export const b: components["schemas"]["ClienteParcial"] = { genero: 2 };\n'
    )
    config = TSCONFIG | {"files": ["wrong.ts", "api.d.ts"]}
    (project / "tsconfig.wrong.json").write_text(json.dumps(config))
    done = _run([str(tools / "tsc"), "-p", "tsconfig.wrong.json", "--noEmit"], project)
    assert done.returncode != 0
    errors = done.stdout
    assert "cedula_cliente" in errors and "id_usuario" in errors and "'2'" in errors, errors


def test_the_typescript_client_round_trips_against_the_live_app(tools, project, served, tenants):
    admin = db.session.get(Usuario, tenants.admin_a.id)
    del_panel = cliente_of(admin.id, telefono="3001112233")  # made in the panel: no account
    assert del_panel.id_usuario is None
    env = {
        "API": served.url,
        "TOKEN": token_for(admin.id),
        "CUENTA": str(cuenta_cliente(admin.id, "ts@test.co")),
        "CAMPANA": str(factories.campana(admin).id),
        "DEL_PANEL": str(del_panel.id_cliente),
    }
    factories.plantilla(admin)
    db.session.commit()
    built = _tsc(tools, project, "--outDir", "js")
    assert built.returncode == 0, built.stdout + built.stderr
    (project / "js" / "package.json").write_text('{"type": "module"}')
    ran = _run(["node", "js/client.js"], project, env={"PATH": os.environ["PATH"], **env})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    steps = [line.split(":")[0] for line in ran.stdout.splitlines()]
    assert steps == [
        "list", "create", "get", "put", "patch", "get → put", "delete",
        "crear/ajax", "plantillas-sms", "enviar-sms", "campanas-sms", "OK",
    ], ran.stdout  # fmt: skip
