"""What forbids deleting a row: the rows that hang from it, declared once for every model.

Nothing is deleted in cascade behind the user's back (the foreign keys are ``RESTRICT``). The
panel (single and bulk delete) and the API only format what :func:`blockers` finds, with the
one wording of :func:`message`.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..formatting import listing, plural
from .audit import Historial
from .campaigns import CampanaPublicitaria, Empresa
from .clients import Cliente, MovimientoCapital, Vehiculo, Venta
from .enlaces import EnlaceSMS
from .envio import ConsentimientoSMS
from .geo import Ciudad, Departamento, Pais
from .importing import ImportacionClientes
from .rne import CargaExcluidos, ListaExcluidos, NumeroExcluido
from .sms import CampanaSMS, PlantillaSMS, SMSLog
from .users import ApiToken, Usuario


@dataclass(frozen=True)
class Dependent:
    """Rows of another table that point at the protected one through ``column``."""

    column: sa.orm.InstrumentedAttribute
    key: str  # the name in the API's ``protegido_por``
    singular: str
    plural: str

    def words(self, n: int) -> str:
        return plural(n, self.singular, self.plural)


DEPENDENTS: dict[type, tuple[Dependent, ...]] = {
    Cliente: (
        Dependent(Vehiculo.id_cliente, "vehiculos", "vehículo", "vehículos"),
        Dependent(
            MovimientoCapital.id_cliente, "movimientos", "movimiento de capital", "movimientos de capital"
        ),
        Dependent(Venta.id_cliente, "ventas", "venta", "ventas"),
        Dependent(SMSLog.id_cliente, "sms_logs", "mensaje SMS", "mensajes SMS"),
        # A tracked link goes with a message to the client (its log row blocks first).
        Dependent(EnlaceSMS.id_cliente, "enlaces_sms", "enlace medido", "enlaces medidos"),
    ),
    Empresa: (Dependent(Cliente.id_empresa, "clientes", "cliente", "clientes"),),
    CampanaPublicitaria: (
        Dependent(Cliente.id_campana, "clientes", "cliente", "clientes"),
        Dependent(
            MovimientoCapital.id_campana, "movimientos", "movimiento de capital", "movimientos de capital"
        ),
    ),
    PlantillaSMS: (Dependent(CampanaSMS.id_plantilla, "campanas_sms", "campaña SMS", "campañas SMS"),),
    CampanaSMS: (
        Dependent(SMSLog.id_campana, "sms_logs", "mensaje SMS", "mensajes SMS"),
        Dependent(EnlaceSMS.id_campana, "enlaces_sms", "enlace medido", "enlaces medidos"),
    ),
    Usuario: (
        Dependent(Cliente.id_usuario, "clientes", "cliente vinculado", "clientes vinculados"),
        Dependent(Venta.id_vendedor, "ventas", "venta", "ventas"),
        Dependent(Historial.id_usuario, "historial", "entrada de historial", "entradas de historial"),
        Dependent(Usuario.creado_por, "usuarios", "cuenta creada", "cuentas creadas"),
        Dependent(PlantillaSMS.id_usuario, "plantillas_sms", "plantilla SMS", "plantillas SMS"),
        Dependent(CampanaSMS.id_usuario, "campanas_sms", "campaña SMS", "campañas SMS"),
        Dependent(ApiToken.id_usuario, "tokens", "token de API", "tokens de API"),
        Dependent(
            ConsentimientoSMS.id_usuario,
            "consentimientos",
            "cambio de consentimiento",
            "cambios de consentimiento",
        ),
        Dependent(
            ListaExcluidos.id_usuario, "listas_rne", "lista del RNE cargada", "listas del RNE cargadas"
        ),
        Dependent(CargaExcluidos.id_usuario, "cargas_rne", "carga del RNE", "cargas del RNE"),
        Dependent(
            ImportacionClientes.id_usuario,
            "importaciones",
            "importación de clientes",
            "importaciones de clientes",
        ),
    ),
    ListaExcluidos: (Dependent(NumeroExcluido.id_lista, "numeros", "número", "números"),),
    Pais: (
        Dependent(Ciudad.id_pais, "ciudades", "ciudad", "ciudades"),
        Dependent(Cliente.id_pais, "clientes", "cliente", "clientes"),
    ),
    Departamento: (Dependent(Ciudad.id_departamento, "ciudades", "municipio", "municipios"),),
    Ciudad: (Dependent(Cliente.id_ciudad, "clientes", "cliente", "clientes"),),
}


def _primary_key(model) -> sa.Column:
    return sa.inspect(model).primary_key[0]


def _counts(model, key):
    """One scalar subquery per dependent: how many rows hang from the row whose key is ``key``."""
    return [
        sa.select(sa.func.count()).where(dep.column == key).scalar_subquery().label(dep.key)
        for dep in DEPENDENTS.get(model, ())
    ]


def blockers(obj) -> dict[Dependent, int]:
    """What forbids deleting ``obj`` (one SELECT), e.g. {vehículos: 2, ventas: 1}."""
    model = type(obj)
    deps = DEPENDENTS.get(model, ())
    if not deps:
        return {}
    counts = db.session.execute(sa.select(*_counts(model, getattr(obj, _primary_key(model).key)))).one()
    return {dep: n for dep, n in zip(deps, counts, strict=True) if n}


def blocked_rows(model, where, limit: int) -> list[tuple[object, dict[Dependent, int]]]:
    """The first ``limit`` rows matching ``where`` that something protects, each with its blockers."""
    deps = DEPENDENTS.get(model, ())
    counts = _counts(model, _primary_key(model))
    stmt = (
        sa.select(model, *counts).where(where, is_protected(model)).order_by(_primary_key(model)).limit(limit)
    )
    return [
        (row[0], {d: n for d, n in zip(deps, row[1:], strict=True) if n}) for row in db.session.execute(stmt)
    ]


def is_protected(model):
    """The SQL condition "something hangs from this row", for set-based deletes."""
    pk = _primary_key(model)
    clauses = [sa.exists().where(dep.column == pk) for dep in DEPENDENTS.get(model, ())]
    return sa.or_(*clauses) if clauses else sa.false()


def describe(found: dict[Dependent, int]) -> str:
    """'2 vehículos y 1 venta'."""
    return listing([dep.words(n) for dep, n in found.items()])


def message(found: dict[Dependent, int]) -> str:
    """The one wording of a refused delete, for the panel and the API."""
    return f"No se puede eliminar: tiene {describe(found)}."


def as_json(found: dict[Dependent, int]) -> dict[str, int]:
    """The API's ``protegido_por``: {"vehiculos": 2, "ventas": 1}."""
    return {dep.key: n for dep, n in found.items()}
