"""Helpers for the API tests: tokens for the tenants' users, headers, a valid client body."""

import pytest

from panel.api.tokens import create_token
from panel.extensions import db
from panel.models import Cliente, Usuario

from . import factories

BASE = "/Database/Database/clientes/"


def token_for(user_id: int) -> str:
    """A fresh API key for a user (created as the CLI and the panel do)."""
    _token, key = create_token(db.session.get(Usuario, user_id), "pruebas")
    db.session.commit()
    return key


def auth(key: str, scheme: str = "Token") -> dict:
    return {"Authorization": f"{scheme} {key}"}


@pytest.fixture
def keys(tenants):
    """One key per staff user of the tenants fixture: keys.admin_a, keys.vendedor_b…"""

    class Keys:
        pass

    k = Keys()
    for name in ("superadmin", "admin_a", "vendedor_a", "admin_b", "vendedor_b"):
        setattr(k, name, auth(token_for(getattr(tenants, name).id)))
    return k


def cuenta_cliente(admin_id: int, email: str) -> int:
    """A new cliente-role account of an admin's tenant (what id_usuario must reference)."""
    return factories.user(email, "cliente", creado_por=db.session.get(Usuario, admin_id)).id


def body(cuenta: int, **fields) -> dict:
    """A complete, valid body for POST/PUT (``cuenta``: the id_usuario unless overridden)."""
    data = {
        "id_usuario": cuenta,
        "cedula_cliente": "1020304050",
        "nombre_cliente": "María",
        "apellido_cliente": "González",
        "fecha_nacimiento": "1990-05-17",
        "email": "maria@example.com",
        "genero": 0,
        "telefono": "3001234567",
        "id_ciudad": 1,
        "id_pais": 1,
        "id_empresa": None,
        "id_campana": None,
        "estado": 1,
    }
    data.update(fields)
    return data


def cliente_of(admin_id: int, **fields) -> Cliente:
    return factories.cliente(db.session.get(Usuario, admin_id), **fields)


def count_clientes() -> int:
    from panel import tenancy

    with tenancy.using(tenancy.EVERY_TENANT):
        return db.session.query(Cliente).count()
