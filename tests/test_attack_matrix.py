"""Tenancy attack matrix: every role tries another tenant's ids on every endpoint the app has."""

import os

import pytest
from flask_admin import BaseView, expose

from panel import tenancy
from panel.api.tokens import create_token
from panel.extensions import db
from panel.models import Cliente, Usuario

from .conftest import make_app
from .helpers import csrf_from, csrf_of, login
from .reliability import matrix
from .reliability.seed import seed_victim, snapshot

PER_KIND = int(os.environ.get("MATRIX_PER_KIND", matrix.PER_KIND))


def _session(app, account):
    """A client logged in as ``account`` (None: anonymous), its CSRF token and API token."""
    client = app.test_client()
    if account is None:
        return client, csrf_from(client.get("/login").data), None
    login(client, account.email)
    if account.rol == "cliente":  # refused at login: it stays anonymous
        return client, csrf_from(client.get("/login").data), None
    with tenancy.using(tenancy.EVERY_TENANT):
        _, key = create_token(db.session.get(Usuario, account.id), nombre="matriz")
        db.session.commit()
    return client, csrf_of(client), key


def _print(name, rep):
    print(
        f"[matriz] {name}: {rep.tried} peticiones, {len(rep.leaks)} fugas, "
        f"{len(rep.errors)} errores 5xx, {len(rep.writes)} escrituras"
    )


# (attacker, its account in ``tenants``, the victims it attacks: "A", "B"). One test each, so
# the suite's workers share the matrix; each starts from fresh tenants and victims.
PLAN = [
    ("vendedor B", "vendedor_b", "A"),
    ("admin B", "admin_b", "A"),
    ("vendedor A", "vendedor_a", "B"),
    ("admin A", "admin_a", "B"),
    ("anónimo", None, "AB"),
    ("cliente A", "cliente_a", "AB"),
]


def _victims(tenants) -> dict:
    return {
        "A": seed_victim(tenants.admin_a.id, "VICA", "7"),
        "B": seed_victim(tenants.admin_b.id, "VICB", "8"),
    }


@pytest.mark.parametrize(("name", "attacker", "targets"), PLAN, ids=[p[0] for p in PLAN])
def test_attack_matrix_every_role_every_endpoint(app, tenants, name, attacker, targets):
    victims = _victims(tenants)
    account = getattr(tenants, attacker) if attacker else None
    client, csrf, key = _session(app, account)
    total = matrix.Report()
    for victim in (victims[t] for t in targets):
        rep = matrix.attack(client, app, victim, csrf, key, n=PER_KIND)
        _print(f"{name} → {victim.tag}", rep)
        if account and account.rol != "cliente":  # the attack ran with the session it started with
            assert client.get("/admin/").status_code == 200, f"{name} perdió la sesión durante el ataque"
        total.merge(rep)
    assert total.tried >= 700 * len(targets)  # every endpoint (~800 each), not a handful
    assert total.leaks == []
    assert total.writes == []
    assert total.errors == []


def test_the_matrix_sees_data_and_writes_where_a_role_may(app, tenants):
    """Positive control: the superadmin legitimately sees both tenants, so the leak detector must
    fire, and the attacks' actions must write: otherwise a clean matrix would prove nothing."""
    vic_a = _victims(tenants)["A"]
    client, csrf, key = _session(app, tenants.superadmin)
    control = matrix.fire(client, matrix.view_attacks(app, vic_a, 1)[:40], vic_a, csrf, key, legit=True)
    before = snapshot(vic_a)
    matrix.fire(
        client, [a for a in matrix.view_attacks(app, vic_a, 1) if "/action/" in a.url], vic_a, csrf, key, True
    )
    assert snapshot(vic_a) != before, (
        "las acciones del ataque no escriben ni siquiera con permiso: ataque mal formado"
    )
    print(f"[matriz] control superadmin: {control.seen_markers}/{control.tried} respuestas con datos de A")
    assert control.seen_markers > 10, "el detector de fugas no ve los datos ni cuando están"


class _Unscoped(BaseView):
    """A careless view: reads every tenant's clients, bypassing the tenancy scope."""

    @expose("/")
    def index(self):
        with tenancy.using(tenancy.EVERY_TENANT):
            return ", ".join(c.nombre_cliente for c in db.session.scalars(db.select(Cliente)))


def test_matrix_flags_a_new_unscoped_view(database_url, tenants):
    """Self-test: register a deliberately unscoped view in a throwaway app; the matrix must flag it."""
    leaky = make_app(database_url)
    leaky.extensions["panel_admin"].add_view(_Unscoped(name="Fuga", endpoint="fuga", url="/admin/fuga"))
    with leaky.app_context():
        vic_a = seed_victim(tenants.admin_a.id, "VICA", "7")
        client, csrf, key = _session(leaky, tenants.admin_b)
        attacks = matrix.rule_attacks(leaky, vic_a, 1)
        rep = matrix.fire(client, attacks, vic_a, csrf, key)
    assert any("/admin/fuga" in leak[1] for leak in rep.leaks), rep.leaks
    assert all("/admin/fuga" in leak[1] for leak in rep.leaks), "solo la vista descuidada debe fugar"
