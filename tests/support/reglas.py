"""Both ways of running ClienteForm's rules on an import's row, compared on every row a test
imports: panel/importing/reglas.py's plan (what the import uses) and WTForms' own
``form.process(MultiDict(inputs)); form.validate()``. A test module opts in with
``pytestmark = pytest.mark.usefixtures("both_paths")`` (a plugin of tests/conftest.py)."""

import pytest
from werkzeug.datastructures import MultiDict

from panel.importing.reglas import Reglas

PLAN = Reglas.validate  # the import's way, kept before any test wraps it


def snapshot(form) -> dict:
    """Every field's data, raw data and errors: what the import reads from the form."""
    return {
        name: (field.data, list(field.raw_data or []), list(field.errors), list(field.process_errors))
        for name, field in form._fields.items()
    }


def wtforms_way(form, inputs: dict) -> tuple[bool, dict]:
    form.process(MultiDict(inputs))
    ok = form.validate()
    return ok, snapshot(form)


def compared(reglas: Reglas, inputs: dict) -> bool:
    """The plan's answer, asserted equal to WTForms' on the same input (field by field)."""
    ok = PLAN(reglas, inputs)
    mine = snapshot(reglas.form)
    theirs_ok, theirs = wtforms_way(reglas.form, inputs)
    assert (ok, mine) == (theirs_ok, theirs), inputs
    return ok


@pytest.fixture
def both_paths(monkeypatch):
    """Every row validated by the import in this test goes both ways; the count is returned so a
    test can show rows went through."""
    seen = [0]

    def validate(self, inputs):
        seen[0] += 1
        return compared(self, inputs)

    monkeypatch.setattr(Reglas, "validate", validate)
    return seen
