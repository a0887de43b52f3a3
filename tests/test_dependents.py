"""What forbids a delete is declared once (panel/models/dependents.py) and worded once."""

import pytest

from panel.extensions import db
from panel.models import Cliente, Usuario, dependents

from . import factories

# Foreign keys that are not "a row hangs from this one" in the user's sense, and why.
NOT_DEPENDENTS = {
    # The tenant column: an admin is never deleted while it owns data (checked by the view).
    "id_propietario",
}


def _model_of(table):
    return next(m.class_ for m in db.Model.registry.mappers if m.local_table is table)


def test_every_restricting_foreign_key_is_declared_as_a_dependent(app):
    declared = {
        (dep.column.class_.__table__.name, dep.column.key)
        for deps in dependents.DEPENDENTS.values()
        for dep in deps
    }
    missing = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.parent.name in NOT_DEPENDENTS or fk.ondelete not in (None, "RESTRICT"):
                continue
            if (table.name, fk.parent.name) not in declared:
                missing.append(f"{table.name}.{fk.parent.name} → {fk.column.table.name}")
            assert _model_of(fk.column.table) in dependents.DEPENDENTS or missing
    assert missing == [], "\n".join(missing)


def test_blockers_count_each_kind_of_dependent_once(app, tenants):
    c = factories.cliente(db.session.get(Usuario, tenants.admin_a.id))
    factories.vehiculo(c)
    factories.vehiculo(c)
    factories.movimiento(c)
    found = dependents.blockers(c)
    assert dependents.as_json(found) == {"vehiculos": 2, "movimientos": 1}
    assert dependents.message(found) == "No se puede eliminar: tiene 2 vehículos y 1 movimiento de capital."


def test_a_row_nothing_hangs_from_has_no_blockers(app, tenants):
    c = factories.cliente(db.session.get(Usuario, tenants.admin_a.id))
    assert dependents.blockers(c) == {}
    assert db.session.get(Cliente, c.id_cliente) is not None


@pytest.mark.parametrize(
    "parts,expected", [(["a"], "a"), (["a", "b"], "a y b"), (["a", "b", "c"], "a, b y c")]
)
def test_listing_joins_words_as_spanish_does(parts, expected):
    from panel.formatting import listing

    assert listing(parts) == expected
