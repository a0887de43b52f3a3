"""Tenancy attack matrix: every role tries another tenant's ids on every endpoint the app has."""

import os

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


def test_attack_matrix_every_role_every_endpoint(app, tenants):
    vic_a = seed_victim(tenants.admin_a.id, "VICA", "7")
    vic_b = seed_victim(tenants.admin_b.id, "VICB", "8")
    # Admins last within their tenant: their own forged-id deletes may remove their own vendedor.
    plan = [  # (role, account, victims)
        ("vendedor B", tenants.vendedor_b, [vic_a]),
        ("admin B", tenants.admin_b, [vic_a]),
        ("vendedor A", tenants.vendedor_a, [vic_b]),
        ("admin A", tenants.admin_a, [vic_b]),
        ("anónimo", None, [vic_a, vic_b]),
        ("cliente A", tenants.cliente_a, [vic_a, vic_b]),
    ]
    total = matrix.Report()
    for name, account, victims in plan:
        client, csrf, key = _session(app, account)
        for victim in victims:
            rep = matrix.attack(client, app, victim, csrf, key, n=PER_KIND)
            _print(f"{name} → {victim.tag}", rep)
            if account and account.rol != "cliente":  # the attack ran with the session it started with
                assert client.get("/admin/").status_code == 200, f"{name} perdió la sesión durante el ataque"
            total.merge(rep)
    # Positive control: the superadmin legitimately sees both tenants, so the detector must fire.
    client, csrf, key = _session(app, tenants.superadmin)
    control = matrix.fire(client, matrix.view_attacks(app, vic_a, 1)[:40], vic_a, csrf, key, legit=True)
    before = snapshot(vic_a)
    matrix.fire(
        client, [a for a in matrix.view_attacks(app, vic_a, 1) if "/action/" in a.url], vic_a, csrf, key, True
    )
    assert snapshot(vic_a) != before, (
        "las acciones del ataque no escriben ni siquiera con permiso: ataque mal formado"
    )
    print(
        f"[matriz] TOTAL: {total.tried} peticiones de ataque, {len(total.leaks)} fugas, "
        f"{len(total.errors)} errores 5xx, {len(total.writes)} escrituras; "
        f"control superadmin: {control.seen_markers}/{control.tried} respuestas con datos de A"
    )
    assert control.seen_markers > 10, "el detector de fugas no ve los datos ni cuando están"
    assert total.tried >= 2000
    assert total.leaks == []
    assert total.writes == []
    assert total.errors == []


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
