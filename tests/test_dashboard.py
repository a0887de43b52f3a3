"""The dashboard on the admin index: tenant-scoped aggregates."""

import re

from panel.extensions import db
from panel.models import CampanaSMS, Ciudad, SMSLog

from . import factories
from .helpers import login


def _campaign(owner, nombre, estado="completado", ok=0, ko=0, total=0):
    """A campaign with real log rows: the dashboard reads lifecycle.progress, which counts rows."""
    c = CampanaSMS(
        nombre=nombre,
        mensaje="m",
        estado=estado,
        enviados_exitosos=ok,
        enviados_fallidos=ko,
        total_clientes=total,
        id_usuario=owner.id,
        id_propietario=owner.id,
    )
    db.session.add(c)
    db.session.flush()
    estados = ["enviado"] * ok + ["fallido"] * ko + ["pendiente"] * (total - ok - ko)
    for estado in estados:
        cliente = factories.cliente(owner)
        db.session.add(
            SMSLog(
                id_campana=c.id,
                id_cliente=cliente.id_cliente,
                mensaje="m",
                estado=estado,
                id_propietario=owner.id,
            )
        )
    db.session.commit()


def _rows(html: str, testid: str) -> list[list[str]]:
    table = re.search(rf'data-testid="{testid}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [re.findall(r"<td[^>]*>\s*(.*?)\s*</td>", row, re.S) for row in rows]


def test_dashboard_counts_only_the_tenants_clients(client, tenants):
    medellin = db.session.query(Ciudad).filter_by(nombre="Medellín").one()
    for _ in range(3):
        factories.cliente(tenants.admin_a, id_ciudad=medellin.id)
    factories.cliente(tenants.admin_a, estado=0)
    for _ in range(5):
        factories.cliente(tenants.admin_b)
    login(client, "admin.a@test.co")
    html = client.get("/admin/").get_data(as_text=True)
    assert _rows(html, "tabla-estado") == [["Inactivo", "1"], ["Activo", "3"], ["Deshabilitado", "0"]]
    assert _rows(html, "tabla-ciudad")[0] == ["Medellín", "3"]


def test_dashboard_shows_recent_campaigns_and_those_in_progress(client, tenants):
    _campaign(tenants.admin_a, "Promo enero", ok=15, ko=5, total=20)
    _campaign(tenants.admin_a, "Enviándose", estado="procesando", ok=2, ko=0, total=8)
    _campaign(tenants.admin_b, "De otra agencia", ok=1, total=1)
    login(client, "vendedor.a@test.co")
    html = client.get("/admin/").get_data(as_text=True)
    rows = _rows(html, "tabla-campanas")
    assert ["Promo enero", "15", "5", "75 %"] in rows
    assert "De otra agencia" not in html
    assert 'aria-valuenow="25"' in html and "Enviándose" in html


def test_superadmin_dashboard_counts_every_tenant(client, tenants):
    factories.cliente(tenants.admin_a)
    factories.cliente(tenants.admin_b)
    login(client, "super@test.co")
    html = client.get("/admin/").get_data(as_text=True)
    assert ["Activo", "2"] in _rows(html, "tabla-estado")
