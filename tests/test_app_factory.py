"""The app factory and the import structure: what starts where, and which way imports point."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
PANEL = ROOT / "panel"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module and ``module.name`` a file imports (relative imports resolved, nested included)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
            module = ".".join(filter(None, [base if node.level else "", node.module or ""]))
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def modules_under(folder: Path) -> dict[str, set[str]]:
    return {module_name(path): imports(path) for path in sorted(folder.rglob("*.py"))}


def test_the_import_reader_sees_an_upward_import_written_either_way(tmp_path):
    """The graph test below would pass on a reader that saw nothing: it sees both spellings."""
    assert "panel.create_app" in imports(PANEL / "jobs.py")
    assert {"panel.sms.runners", "panel.sms.runners.start_sender"} <= imports(PANEL / "__init__.py")


def upward(name: str) -> bool:
    """An import of the app factory or of the jobs (which build the app): above panel.sms."""
    return name in ("panel.create_app", "panel.jobs") or name.startswith("panel.jobs.")


def test_nothing_in_panel_sms_imports_the_app_factory_or_the_jobs():
    found = {name: sorted(filter(upward, found)) for name, found in modules_under(PANEL / "sms").items()}
    assert {name: arrows for name, arrows in found.items() if arrows} == {}


def test_the_app_never_imports_the_test_doubles():
    product = {
        name: found for name, found in modules_under(PANEL).items() if not name.startswith("panel.testing")
    }
    uses = {name for name, found in product.items() if any(i.startswith("panel.testing") for i in found)}
    assert uses == set()


def test_building_the_app_loads_neither_the_jobs_nor_the_test_doubles():
    code = (
        "import sys; import panel.sms.runners; from panel import create_app; create_app({'TESTING': True}); "
        "print(sorted(m for m in sys.modules if m == 'panel.jobs' or m.startswith('panel.testing')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_server_on_sqlite_loads_openpyxl_and_psycopg_only_when_it_writes_what_needs_them():
    """Every server, worker and CLI command builds the app; a spreadsheet writer and PostgreSQL's
    driver are loaded by the first XLSX export or COPY, not at start (0.25 s and ~15 MB each)."""
    code = (
        "import sys; from panel import create_app; "
        "create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); "
        "loaded = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(loaded & {'flask_admin', 'openpyxl', 'psycopg'})); "
        "from panel.export_download import python_chunks; from panel.export import FORMATOS; "
        "python_chunks(FORMATOS['xlsx'], 'x', iter([]), []); "
        "print('openpyxl' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["['flask_admin']", "True"]


def test_create_app_arms_the_embedded_sender_but_only_a_request_starts_it(database_url, twilio_app_config):
    app = make_app(database_url, TESTING=False, REDIS_URL=None, SMS_EMBEDDED_SENDER="1", **twilio_app_config)
    assert "sms_embedded" not in app.extensions  # not in CLI commands or RQ workers
    app.test_client().get("/login")
    thread = app.extensions["sms_embedded"]
    try:
        assert thread.is_alive()
    finally:
        thread.stop()
        thread.join(5)


@pytest.mark.parametrize("config", [{"SMS_EMBEDDED_SENDER": "0"}, {"TESTING": True}])
def test_no_sender_thread_where_it_is_not_wanted(database_url, config):
    app = make_app(database_url, **({"TESTING": False, "REDIS_URL": None} | config))
    app.test_client().get("/login")
    assert "sms_embedded" not in app.extensions


def test_every_command_is_registered(database_url):
    commands = make_app(database_url).cli.list_commands(None)
    assert {"create-user", "create-token", "demo-data"} <= set(commands)
