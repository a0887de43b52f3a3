"""Build rows for tests directly in the database (outside any request: every tenant)."""

import functools
import itertools
from dataclasses import dataclass
from decimal import Decimal

from werkzeug.security import generate_password_hash

from panel.extensions import db
from panel.models import (
    CampanaPublicitaria,
    CampanaSMS,
    Cliente,
    Empresa,
    MovimientoCapital,
    PlantillaSMS,
    SMSLog,
    Usuario,
    Vehiculo,
    Venta,
)

from .helpers import PASSWORD, PASSWORD_METHOD

_seq = itertools.count(1)


def user(email: str, rol: str, creado_por=None, password: str = PASSWORD) -> Usuario:
    u = Usuario(
        email=email,
        rol=rol,
        nombre=email.split("@")[0],
        creado_por=creado_por.id if creado_por else None,
        activo=True,
    )
    u.password_hash = _hash_of(password)
    db.session.add(u)
    db.session.commit()
    return u


@functools.cache
def _hash_of(password: str) -> str:
    """A real scrypt hash of ``password``, computed once per test run: every fixture account gets
    one (seven a test). Logins still check it for real, with the work factor written in the hash:
    the tests' lighter one (``PASSWORD_METHOD``), the one their apps hash new passwords with."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


@dataclass(frozen=True)
class Account:
    """What tests need of a user, detached from any session."""

    id: int
    email: str
    rol: str
    creado_por: int | None
    tenant_id: int | None
    is_authenticated: bool = True


def snapshot(u: Usuario) -> Account:
    return Account(u.id, u.email, u.rol, u.creado_por, u.tenant_id)


def empresa(owner: Usuario, nombre: str | None = None) -> Empresa:
    e = Empresa(nombre=nombre or f"Empresa {next(_seq)}", id_propietario=owner.id)
    db.session.add(e)
    db.session.commit()
    return e


def campana(owner: Usuario, nombre: str | None = None) -> CampanaPublicitaria:
    c = CampanaPublicitaria(nombre=nombre or f"Campaña {next(_seq)}", id_propietario=owner.id)
    db.session.add(c)
    db.session.commit()
    return c


def cliente(owner: Usuario, **fields) -> Cliente:
    n = next(_seq)
    values = dict(
        cedula_cliente=f"{1000000000 + n}",
        nombre_cliente=f"Nombre{n}",
        apellido_cliente=f"Apellido{n}",
        telefono=f"300{n:07d}",
        email=f"c{n}@example.com",
        estado=1,
        id_ciudad=1,
        id_pais=1,
        id_propietario=owner.id,
    )
    values.update(fields)
    c = Cliente(**values)
    db.session.add(c)
    db.session.commit()
    return c


def vehiculo(c: Cliente, placa: str | None = None) -> Vehiculo:
    v = Vehiculo(
        id_cliente=c.id_cliente, placa=placa or f"ABC{next(_seq):03d}", id_propietario=c.id_propietario
    )
    db.session.add(v)
    db.session.commit()
    return v


def movimiento(c: Cliente, tipo: str = "ingreso", monto: str = "1000.00") -> MovimientoCapital:
    m = MovimientoCapital(
        id_cliente=c.id_cliente, tipo=tipo, monto=Decimal(monto), id_propietario=c.id_propietario
    )
    db.session.add(m)
    db.session.commit()
    return m


def venta(c: Cliente, vendedor: Usuario, total: str = "5000.00") -> Venta:
    v = Venta(
        id_cliente=c.id_cliente,
        id_vendedor=vendedor.id,
        total=Decimal(total),
        id_propietario=c.id_propietario,
    )
    db.session.add(v)
    db.session.commit()
    return v


def plantilla(owner: Usuario, mensaje: str = "Hola {nombre}", nombre: str | None = None) -> PlantillaSMS:
    p = PlantillaSMS(
        nombre=nombre or f"Plantilla {next(_seq)}",
        mensaje=mensaje,
        id_usuario=owner.id,
        id_propietario=owner.id,
    )
    db.session.add(p)
    db.session.commit()
    return p


def sent_campaign(admin: Usuario, cliente: Cliente, nombre: str, mensaje: str, telefono: str) -> CampanaSMS:
    """A campaign already sent to ``cliente``: one row ``enviado`` with this text, to this phone."""
    sms = CampanaSMS(
        nombre=nombre,
        mensaje=mensaje,
        total_clientes=1,
        enviados_exitosos=1,
        estado="completado",
        id_usuario=admin.id,
        id_propietario=admin.id,
    )
    db.session.add(sms)
    db.session.flush()
    db.session.add(
        SMSLog(
            id_campana=sms.id,
            id_cliente=cliente.id_cliente,
            telefono=telefono,
            mensaje=mensaje,
            estado="enviado",
            id_propietario=admin.id,
        )
    )
    db.session.commit()
    return sms
