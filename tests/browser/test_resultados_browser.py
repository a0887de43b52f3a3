"""In a real browser under the CSP: a campaign's results chart and the dashboard's comparison of
the last campaigns are drawn (Chart.js), from the figures the page embeds, with no violation."""

from playwright.sync_api import expect

from panel.extensions import db
from panel.models import CampanaSMS, SMSLog
from tests import factories

from .steps import login_as, owner

WATCH = "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push("
WATCH += "e.violatedDirective + ' ' + e.blockedURI));"
# The drawn chart's numbers: Chart.js keeps the instance on its canvas.
DRAWN = "id => { const c = Chart.getChart(document.getElementById(id)); "
DRAWN += "return c && c.data.datasets.map(d => d.data); }"


def _campaign(admin) -> int:
    """A finished campaign: 3 sent (2 delivered, 1 undelivered), 1 failed, 1 skipped."""
    c = CampanaSMS(nombre="Resultados navegador", mensaje="Hola", estado="completado", total_clientes=5)
    c.id_usuario, c.id_propietario = admin.id, admin.id
    db.session.add(c)
    db.session.flush()
    filas = [("enviado", "delivered"), ("enviado", "delivered"), ("enviado", "undelivered")]
    filas += [("fallido", None), ("omitido", None)]
    for estado, entrega in filas:
        cliente = factories.cliente(admin)
        log = SMSLog(id_campana=c.id, id_cliente=cliente.id_cliente, mensaje="Hola", estado=estado)
        log.id_propietario, log.telefono, log.estado_entrega, log.segmentos = (
            admin.id,
            "+573001112233",
            entrega,
            1,
        )
        db.session.add(log)
    db.session.commit()
    return c.id


def test_the_results_charts_are_drawn_under_the_csp(browser, live_server, tenants):
    cid = _campaign(owner(tenants.admin_a))
    context = browser.new_context(base_url=live_server.url)
    try:
        context.add_init_script(WATCH)
        page = context.new_page()
        login_as(page, tenants.admin_a.email)
        page.goto(f"/admin/campanas-sms/{cid}/")
        expect(page.locator("#chart-resultados")).to_be_visible()
        # no clicks without links: that bar is left out, the others are the rows' counts
        assert page.evaluate(DRAWN, "chart-resultados") == [[3, 2, 1, 1, 1, 0]]
        violations = page.evaluate("window.__csp")
        page.goto("/admin/")
        expect(page.locator("#chart-resultados")).to_be_visible()
        assert page.evaluate(DRAWN, "chart-resultados") == [[66.7], [None]]
        violations += page.evaluate("window.__csp")
    finally:
        context.close()
    assert violations == []
