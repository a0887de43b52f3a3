"""All models, imported here so that Alembic and the app see every table."""

from .audit import Historial
from .base import TenantOwned, TenantScoped, utcnow
from .campaigns import CampanaPublicitaria, Empresa
from .clients import ESTADOS_CLIENTE, GENEROS, Cliente, MovimientoCapital, Vehiculo, Venta
from .enlaces import EnlaceSMS
from .envio import ConfiguracionEnvio, ConsentimientoSMS, NumeroExcluidoPropio
from .geo import Ciudad, Departamento, Pais
from .idempotency import ClaveIdempotencia
from .importing import ImportacionClientes
from .rne import CargaExcluidos, ListaExcluidos, NumeroExcluido
from .sms import CampanaSMS, PlantillaSMS, SMSLog
from .throttle import IntentoLogin
from .users import ROLES, STAFF, WRITERS, ApiToken, Usuario

__all__ = [
    "ESTADOS_CLIENTE",
    "GENEROS",
    "ROLES",
    "STAFF",
    "WRITERS",
    "ApiToken",
    "CampanaPublicitaria",
    "CampanaSMS",
    "CargaExcluidos",
    "Ciudad",
    "Departamento",
    "ClaveIdempotencia",
    "ConfiguracionEnvio",
    "ConsentimientoSMS",
    "Cliente",
    "Empresa",
    "EnlaceSMS",
    "Historial",
    "ImportacionClientes",
    "IntentoLogin",
    "ListaExcluidos",
    "MovimientoCapital",
    "NumeroExcluido",
    "NumeroExcluidoPropio",
    "Pais",
    "PlantillaSMS",
    "SMSLog",
    "TenantOwned",
    "TenantScoped",
    "Usuario",
    "Vehiculo",
    "Venta",
    "utcnow",
]
