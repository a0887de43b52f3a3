"""The superadmin sees which agency owns each client (a column and a filter); a tenant's staff don't."""

import json
import re

import pytest

from panel.extensions import db
from panel.models import Usuario

from . import factories
from .helpers import csrf_of, login


@pytest.fixture
def agencias(tenants):
    a = db.session.get(Usuario, tenants.admin_a.id)
    b = db.session.get(Usuario, tenants.admin_b.id)
    a.nombre, b.nombre = "Publicidad Andina", "Medios del Caribe"
    db.session.commit()
    factories.cliente(a, nombre_cliente="Camila")
    factories.cliente(b, nombre_cliente="Valentina")
    return a.id, b.id


def _list(client, query: str = "") -> str:
    response = client.get("/admin/clientes/" + query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="total-clientes"' in html  # the Clientes list, logged in
    return html


def _rows(html: str) -> list[str]:
    return re.findall(r'<td class="col-nombre_cliente">([^<]*)</td>', html)


def test_superadmin_sees_the_agency_of_each_client_by_name(client, agencias):
    login(client, "super@test.co")
    html = _list(client)
    assert ">Agencia<" in html or "Agencia</a>" in html  # the column's header
    cells = dict(
        re.findall(
            r'<td class="col-nombre_cliente">([^<]*)</td>.*?<td class="col-agencia">([^<]*)</td>', html, re.S
        )
    )
    assert cells == {"Camila": "Publicidad Andina", "Valentina": "Medios del Caribe"}


def test_superadmin_filters_by_agency(client, agencias):
    a, b = agencias
    login(client, "super@test.co")
    groups = json.loads(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', _list(client), re.S).group(1))
    assert [o[1] for o in groups["Agencia"][0]["options"]] == ["Medios del Caribe", "Publicidad Andina"]
    assert sorted(_rows(_list(client))) == ["Camila", "Valentina"]
    assert _rows(_list(client, f"?flt0_agencia={b}")) == ["Valentina"]
    assert _rows(_list(client, f"?flt0_agencia={a}")) == ["Camila"]


def test_the_agency_filter_also_narrows_select_all_and_export(client, agencias):
    """ "All matching" (bulk actions, export) reads the same filters as the list."""
    from panel.admin.clientes.filtros import matching_clientes

    _, b = agencias
    rows = db.session.scalars(matching_clientes(f"flt0_agencia={b}")).all()
    assert [c.nombre_cliente for c in rows] == ["Valentina"]


@pytest.mark.parametrize("email", ["admin.a@test.co", "vendedor.a@test.co"])
def test_a_tenants_staff_see_no_agency_column_or_filter(client, agencias, email):
    login(client, email)
    html = _list(client)
    assert _rows(html) == ["Camila"]
    assert "col-agencia" not in html and "Agencia" not in html
    assert "Medios del Caribe" not in html and "Publicidad Andina" not in html


def test_a_forged_agency_filter_shows_nothing_of_another_tenant(client, agencias):
    _, b = agencias
    login(client, "admin.a@test.co")
    assert _rows(_list(client, f"?flt0_agencia={b}")) == []
    csrf_of(client)  # still logged in: the page above was the list, not a login redirect
