"""The scriptable commands: create-user and demo-data."""

import pytest
import sqlalchemy as sa

from panel.extensions import db
from panel.models import CampanaSMS, Cliente, PlantillaSMS, SMSLog, Usuario


def test_create_user_without_prompts(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Jefa@Agencia.co",
            "--password",
            "segura123",
            "--rol",
            "admin",
            "--nombre",
            "Jefa",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(Usuario).where(Usuario.email == "jefa@agencia.co"))
    assert user.rol == "admin" and user.check_password("segura123") and user.nombre == "Jefa"


def test_create_user_links_a_vendedor_to_its_admin(runner, tenants):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "v@x.co",
            "--password",
            "segura123",
            "--rol",
            "vendedor",
            "--creado-por",
            "admin.a@test.co",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(Usuario).where(Usuario.email == "v@x.co"))
    assert user.creado_por == tenants.admin_a.id and user.tenant_id == tenants.admin_a.id


@pytest.mark.parametrize(
    "args,message",
    [
        (["--email", "a@x.co", "--password", "corta", "--rol", "admin"], "al menos 8"),
        (["--email", "a@x.co", "--password", "segura123", "--rol", "vendedor"], "--creado-por"),
        (
            [
                "--email",
                "a@x.co",
                "--password",
                "segura123",
                "--rol",
                "vendedor",
                "--creado-por",
                "nadie@x.co",
            ],
            "admin existente",
        ),
        (["--email", "admin.a@test.co", "--password", "segura123", "--rol", "admin"], "Ya existe"),
        (["--email", "a@x.co", "--password", "segura123", "--rol", "rey"], "Invalid value"),
    ],
)
def test_create_user_refuses_bad_input_with_a_clear_message(runner, tenants, args, message):
    result = runner.invoke(args=["create-user", *args])
    assert result.exit_code != 0 and message in result.output


def test_demo_data_loads_once_and_is_idempotent(runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0 and "admin1@demo.co" in first.output
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Usuario, Cliente, PlantillaSMS, CampanaSMS, SMSLog)
    ]
    assert counts[1] >= 200 and counts[3] >= 2
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code == 0 and "ya existían" in again.output
    assert counts == [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Usuario, Cliente, PlantillaSMS, CampanaSMS, SMSLog)
    ]


def test_demo_admins_can_log_in(runner, client):
    from .helpers import login

    runner.invoke(args=["demo-data"])
    assert login(client, "admin1@demo.co", "demo12345").status_code == 302
