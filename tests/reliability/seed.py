"""A tenant full of recognisable rows: every text a victim owns carries its marker."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from panel.api.tokens import create_token
from panel.extensions import db
from panel.models import CampanaSMS, Historial, SMSLog, Usuario

from .. import factories


@dataclass
class Victim:
    """What an attacker must never see or change: ids per kind, and the marker strings."""

    tenant_id: int
    tag: str
    ids: dict[str, list[int]] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)

    def all_ids(self) -> list[int]:
        return sorted({i for ids in self.ids.values() for i in ids})

    def leaked(self, text: str) -> list[str]:
        low = text.lower()
        return [m for m in self.markers if m.lower() in low]


def seed_victim(admin_id: int, tag: str, digit: str) -> Victim:
    """Rows of every tenant-owned kind for the admin ``admin_id``; ``tag`` is the marker."""
    admin = db.session.get(Usuario, admin_id)
    v = Victim(tenant_id=admin_id, tag=tag)
    mark = f"Xq{tag}"  # e.g. XqVICA: appears nowhere else
    empresa = factories.empresa(admin, nombre=f"{mark} Empresa")
    campana = factories.campana(admin, nombre=f"{mark} Campaña")
    vend = factories.user(f"{mark.lower()}.vend@test.co", "vendedor", creado_por=admin)
    clientes = [
        factories.cliente(
            admin,
            nombre_cliente=f"{mark}N{i}",
            apellido_cliente=f"{mark}A{i}",
            email=f"{mark.lower()}{i}@example.com",
            cedula_cliente=digit * 8 + f"{i:02d}",
            id_empresa=empresa.id,
            id_campana=campana.id,
        )
        for i in range(3)
    ]
    veh = factories.vehiculo(clientes[0], placa=f"{tag[:3]}{digit}99")
    mov = factories.movimiento(clientes[0])
    mov.descripcion = f"{mark} movimiento"
    venta = factories.venta(clientes[0], admin)
    venta.descripcion = f"{mark} venta"
    plantilla = factories.plantilla(admin, mensaje=f"{mark} hola {{nombre}}", nombre=f"{mark} Plantilla")
    sms = CampanaSMS(
        nombre=f"{mark} CampañaSMS",
        mensaje=f"{mark} msg",
        id_usuario=admin.id,
        id_propietario=admin.id,
        total_clientes=1,
        estado="completado",
    )
    db.session.add(sms)
    db.session.flush()
    log = SMSLog(
        id_campana=sms.id,
        id_cliente=clientes[1].id_cliente,
        telefono="+573000000000",
        mensaje=f"{mark} log",
        estado="enviado",
        twilio_sid=f"SM{mark}",
        id_propietario=admin.id,
    )
    hist = Historial(
        accion="crear",
        modelo="Cliente",
        resumen=f"{mark} historial",
        id_propietario=admin.id,
        id_usuario=admin.id,
    )
    token, _ = create_token(admin, nombre=f"{mark} token")
    db.session.add_all([log, hist])
    db.session.commit()
    v.ids = {
        "cliente": [c.id_cliente for c in clientes],
        "empresa": [empresa.id],
        "campana_publicitaria": [campana.id],
        "vehiculo": [veh.id],
        "movimiento_capital": [mov.id],
        "venta": [venta.id],
        "plantilla_sms": [plantilla.id],
        "campana_sms": [sms.id],
        "sms_log": [log.id],
        "historial": [hist.id],
        "usuario": [vend.id, admin.id],
        "api_token": [token.id],
    }
    v.markers = [mark, veh.placa, admin.email, vend.email] + [c.cedula_cliente for c in clientes]
    return v


def snapshot(v: Victim) -> dict:
    """Every row the victim owns, as plain tuples (compared before/after an attack)."""
    out = {}
    users = v.ids["usuario"]
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if "id_propietario" in table.c:
                stmt = sa.select(table).where(table.c.id_propietario == v.tenant_id)
            elif table.name == "usuario":
                stmt = sa.select(
                    *(table.c[n] for n in ("id", "email", "password_hash", "rol", "activo", "creado_por"))
                )
                stmt = stmt.where(sa.or_(table.c.id.in_(users), table.c.creado_por == v.tenant_id))
            elif table.name == "api_token":
                stmt = sa.select(table.c.id, table.c.token_hash, table.c.revocado).where(
                    table.c.id_usuario.in_(users)
                )
            else:
                continue
            out[table.name] = sorted(tuple(map(str, row)) for row in conn.execute(stmt))
        sms_log = db.metadata.tables["sms_log"]
        cnt = sa.select(sa.func.count()).where(sms_log.c.id_cliente.in_(v.ids["cliente"]))
        out["sms_to_victim_clients"] = conn.execute(cnt).scalar()
    return out
