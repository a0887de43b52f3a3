"""Demo data (Faker es_CO): two tenants with staff, ~200 clients and their history."""

import random
import re
from datetime import timedelta
from decimal import Decimal

import phonenumbers
import sqlalchemy as sa
from faker import Faker

from . import clock, identificacion, tenancy
from .extensions import db
from .models import (
    CampanaPublicitaria,
    Ciudad,
    Cliente,
    Empresa,
    MovimientoCapital,
    PlantillaSMS,
    SMSLog,
    Usuario,
    Vehiculo,
    Venta,
)
from .sms import lifecycle, outbox
from .text import fold
from .users import create_user

DEMO_PASSWORD = "demo12345"
DEMO_LOGINS = [
    ("super@demo.co", DEMO_PASSWORD, "superadmin"),
    ("admin1@demo.co", DEMO_PASSWORD, "admin"),
    ("vendedor1@demo.co", DEMO_PASSWORD, "vendedor"),
    ("admin2@demo.co", DEMO_PASSWORD, "admin"),
    ("vendedor2@demo.co", DEMO_PASSWORD, "vendedor"),
]
CLIENTS_PER_TENANT = 100
# Names as a Colombian back office sees them (Faker es_CO's companies read "López Group",
# "Morales Inc"; its words are Latin lorem ipsum).
AGENCIAS = ("Publicidad Andina S.A.S.", "Medios del Caribe S.A.S.")
EMPRESAS = (
    "Tostadora Andina S.A.S.",
    "Distribuidora El Dorado Ltda.",
    "Confecciones La Sabana S.A.S.",
    "Lácteos La Pradera S.A.",
    "Ferretería Santa Fe S.A.S.",
    "Transportes del Valle S.A.",
    "Inversiones Cafeteras del Quindío S.A.S.",
    "Panadería La Candelaria Ltda.",
    "Droguería San Jorge S.A.S.",
    "Calzado Bucaramanga S.A.S.",
    "Frutas del Tolima S.A.S.",
    "Constructora Altos de Chía S.A.",
)
CAMPANAS = (
    "Prima de junio",
    "Amor y Amistad",
    "Regreso a clases",
    "Temporada navideña",
    "Día de la Madre",
    "Feria de las Flores",
)
TEMPLATES = [
    ("Promoción mensual", "Hola {nombre}, aprovecha 20% de descuento este mes."),
    ("Recordatorio", "Hola {nombre}, te esperamos en nuestra tienda."),
    ("Bienvenida", "Bienvenido/a {nombre_completo}. Gracias por confiar en nosotros."),
]


def load_demo_data(seed: int = 7) -> bool:
    """Load everything once; returns False when the demo data is already there."""
    if db.session.scalar(sa.select(Usuario.id).where(Usuario.email == "admin1@demo.co")):
        return False
    rng, fake = random.Random(seed), Faker("es_CO")
    fake.seed_instance(seed)
    create_user("super@demo.co", DEMO_PASSWORD, "superadmin", nombre="Superadministrador")
    city_ids = _demo_cities(rng)
    for n in (1, 2):
        admin = create_user(f"admin{n}@demo.co", DEMO_PASSWORD, "admin", nombre=AGENCIAS[n - 1])
        vendedor = create_user(
            f"vendedor{n}@demo.co", DEMO_PASSWORD, "vendedor", creado_por=admin.email, nombre=fake.name()
        )
        _load_tenant(admin, vendedor, city_ids, rng, fake, cedula_base=1000000000 * n)
    db.session.commit()
    return True


def _load_tenant(admin, vendedor, city_ids, rng, fake, cedula_base) -> None:
    owner = admin.id
    empresas = [
        Empresa(nombre=nombre, nit=identificacion.nit_completo(str(nit)), id_propietario=owner)
        for nombre, nit in zip(
            rng.sample(EMPRESAS, 4), rng.sample(range(800000000, 999999999), 4), strict=True
        )
    ]
    today = clock.today()
    campanas = [
        CampanaPublicitaria(
            nombre=f"{nombre} {today.year}",
            fecha_inicio=today - timedelta(days=30 * (i + 1)),
            fecha_fin=today + timedelta(days=30 * i),
            activa=i < 2,
            id_propietario=owner,
        )
        for i, nombre in enumerate(rng.sample(CAMPANAS, 3))
    ]
    plantillas = [
        PlantillaSMS(nombre=n, mensaje=m, id_usuario=owner, id_propietario=owner) for n, m in TEMPLATES
    ]
    db.session.add_all(empresas + campanas + plantillas)
    db.session.flush()
    clientes = [
        _client(owner, cedula_base + i, rng, fake, city_ids, empresas, campanas)
        for i in range(CLIENTS_PER_TENANT)
    ]
    db.session.add_all(clientes)
    db.session.flush()
    _load_history(clientes, campanas, vendedor, rng, owner)
    _load_finished_campaign(clientes, plantillas[0], admin, owner)


# Where most clients of an agency live (DANE codes): the big cities and their neighbours, and
# Rionegro in both departamentos, whose clients read "Rionegro (Antioquia)".
CIUDADES_FRECUENTES = (
    "11001", "05001", "76001", "08001", "13001", "68001", "05088", "25754", "05360", "05266",
    "25175", "76834", "08758", "25899", "25290", "05615", "68615", "15759", "68276", "66001",
)  # fmt: skip
OTRAS_CIUDADES = 40  # and some from anywhere in DIVIPOLA: many departamentos


def _demo_cities(rng) -> list[int]:
    """The demo's cities, the frequent ones several times over (they weigh more in rng.choice)."""
    coded = sa.select(Ciudad.codigo_dane, Ciudad.id).where(Ciudad.codigo_dane.is_not(None))
    by_code = dict(db.session.execute(coded).all())
    frecuentes = [by_code[c] for c in CIUDADES_FRECUENTES if c in by_code]
    otras = rng.sample(sorted(set(by_code.values()) - set(frecuentes)), min(OTRAS_CIUDADES, len(by_code)))
    return frecuentes * 3 + otras


def _phone(rng) -> str:
    while True:
        prefix = rng.choice(["300", "301", "302", "310", "311", "312", "313", "315", "320", "350"])
        number = f"{prefix}{rng.randint(0, 9999999):07d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "CO")):
            return number


def _client(owner, cedula, rng, fake, city_ids, empresas, campanas) -> Cliente:
    genero = rng.choice((0, 1))
    first = fake.first_name_female() if genero == 0 else fake.first_name_male()
    estado = rng.choices((1, 0, 3), weights=(80, 15, 5))[0]
    tipo, numero = _documento(cedula)
    return Cliente(
        tipo_documento=tipo,
        cedula_cliente=numero,
        nombre_cliente=first[:20],
        apellido_cliente=fake.last_name()[:20],
        fecha_nacimiento=fake.date_of_birth(minimum_age=18, maximum_age=80),
        genero=genero,
        email=_email(first, cedula),
        telefono=_phone(rng) if rng.random() > 0.05 else None,
        id_ciudad=rng.choice(city_ids),
        id_pais=1,
        id_empresa=rng.choice(empresas).id if rng.random() < 0.6 else None,
        id_campana=rng.choice(campanas).id if rng.random() < 0.5 else None,
        estado=estado,
        acepta_sms=rng.random() > 0.05,
        id_propietario=owner,
    )


def _documento(n: int) -> tuple[str, str]:
    """Mostly cédulas; one client in twenty each a foreigner's CE, pasaporte or PPT (SPEC §16)."""
    kind = {3: "CE", 7: "PA", 11: "PPT"}.get(n % 20, "CC")
    if kind == "CE":
        return kind, str(n)[-7:]
    if kind == "PA":
        return kind, f"AT{n % 10**7:07d}"
    return kind, str(n)[-10:]


def _email(first_name: str, cedula: int) -> str:
    """'María José' → 'maria.jose.12345@example.com' (accents folded, not dropped: not 'mara')."""
    local = re.sub(r"[^a-z0-9.]", "", fold(first_name).replace(" ", "."))
    return f"{local[:20]}.{cedula % 100000}@example.com"


def _load_history(clientes, campanas, vendedor, rng, owner) -> None:
    letters = "BCDFGHJKLMNPRSTVWXYZ"
    for cliente in rng.sample(clientes, 30):
        placa = "".join(rng.choice(letters) for _ in range(3)) + f"{cliente.id_cliente:03d}"[-3:]
        db.session.add(
            Vehiculo(
                id_cliente=cliente.id_cliente,
                placa=f"{placa}{owner}",
                marca=rng.choice(["Renault", "Chevrolet", "Mazda", "Kia"]),
                modelo=rng.choice(["Logan", "Spark", "3", "Picanto"]),
                anio=rng.randint(2005, 2025),
                id_propietario=owner,
            )
        )
    for cliente in rng.sample(clientes, 40):
        for _ in range(rng.randint(1, 3)):
            db.session.add(
                MovimientoCapital(
                    id_cliente=cliente.id_cliente,
                    tipo=rng.choice(["ingreso", "egreso"]),
                    monto=Decimal(rng.randint(10, 500) * 1000),
                    id_campana=rng.choice(campanas).id,
                    descripcion="Movimiento de demostración",
                    id_propietario=owner,
                )
            )
    for cliente in rng.sample(clientes, 25):
        db.session.add(
            Venta(
                id_cliente=cliente.id_cliente,
                id_vendedor=vendedor.id,
                total=Decimal(rng.randint(50, 2000) * 1000),
                descripcion="Venta de demostración",
                id_propietario=owner,
            )
        )


def _load_finished_campaign(clientes, plantilla, admin, owner) -> None:
    """A campaign already sent, so the campaign pages have something to show: written by the
    outbox like a real one (skipped recipients are omitido), its sendable rows marked sent."""
    ids = [c.id_cliente for c in clientes[:10]]
    query = sa.select(Cliente).where(Cliente.id_cliente.in_(ids))
    with tenancy.using(owner):
        campana = outbox.create_campaign(
            user_id=admin.id,
            cliente_query=query,
            mensaje=plantilla.mensaje,
            nombre="Campaña de bienvenida (demostración)",
            id_plantilla=plantilla.id,
            filtros={"origen": "demostración"},
            # A welcome is information, not advertising; and as transactional it is written
            # "pendiente" whatever the hour, and uses up no client's daily cap in the demo.
            tipo="transaccional",
        )
    log = SMSLog.__table__
    pending = sa.select(log.c.id).where(log.c.id_campana == campana.id, log.c.estado == "pendiente")
    for i, row_id in enumerate(db.session.scalars(pending.order_by(log.c.id)).all()):
        sid = f"SMdemo{owner:04d}{i:022d}"
        sent = {"estado": "enviado", "twilio_sid": sid, "estado_entrega": "delivered"}
        db.session.execute(log.update().where(log.c.id == row_id).values(**sent, intentos=1))
    lifecycle.refresh_totals(campana.id)  # completes it through lifecycle, as the sender does
