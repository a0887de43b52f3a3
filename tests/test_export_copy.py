"""PostgreSQL's COPY writes the CSV exports byte for byte as the Python path does: every view
that exports, both CSV formats, hostile data (formula characters, quotes, delimiters, line
breaks inside values, '' against NULL, accents, emoji, Bogotá's midnight in UTC, old offsets,
booleans, numbers, labels, unknown codes), the tenant's rows only, the same Historial count."""

import logging
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from panel import export, export_sql, tenancy
from panel.extensions import db
from panel.models import (
    CampanaPublicitaria,
    CampanaSMS,
    Ciudad,
    Cliente,
    ConsentimientoSMS,
    Empresa,
    Historial,
    MovimientoCapital,
    Pais,
    PlantillaSMS,
    Usuario,
    Vehiculo,
    Venta,
)

from . import factories
from .conftest import own_postgres_database
from .helpers import login
from .support.pages import exporting_lists


@pytest.fixture(scope="module")
def database_url(database_url):
    """COPY is PostgreSQL's: in the SQLite pass this module runs against the local PostgreSQL
    too (a migrated database of its own, as tests/test_rls.py does), so no test here is skipped."""
    if database_url.startswith("postgres"):
        yield database_url
        return
    with own_postgres_database("panel_copy") as url:
        yield url


# Each at most 10 characters: they go into the narrowest columns too (cédula, placa).
HOSTILE = [
    "=1+2",
    "+57 300",
    "-3",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
    "\nLF",
    'di "hola"',
    '"',
    "a;b",
    "a,b",
    "dos\nlíneas",
    "dos\r\nlín",
    "",
    "Ñandú áé",
    "😀👍🏽 ok",
    " espacio ",
    "\\barra\\",
    "\\.",
    "'ya",
    "NULL",
    "\\N",
    "x\x7fy",
]
PHONES = [
    *("+573001234567", "+١٢٣٤٥٦٧٨", "3001234567", "=2", "", None, "+0123456", "+57 300"),
    *("6013456789", "+584121234567"),  # a landline (national form in CSV (Excel)), a foreign number
]
# Around Bogotá's midnight in UTC, microseconds, a DST year (1992) and local mean time (1900).
MOMENTS = [
    datetime(2026, 1, 1, 4, 59, 59, 999999),
    datetime(2026, 1, 1, 5, 0, 0),
    datetime(2026, 12, 31, 23, 30, 15, 500000),
    datetime(1992, 6, 1, 4, 30),
    datetime(1900, 1, 1, 5, 0, 0),
]
DATES = [date(2026, 1, 1), date(1999, 12, 31), None, date(1, 1, 1)]
AMOUNTS = ["0.01", "1782000.50", "12.00", "9999999999.99", "1.10"]


SUPERADMIN_ONLY = {"paises", "ciudades"}  # the shared catalogs
PYTHON_ONLY = {"historial"}  # its Detalle is written in words by Python (export.Columna.texto)


def _pick(values, i):
    return values[i % len(values)]


def fill(owner: Usuario, vendedor: Usuario) -> None:
    """Rows of every exported model, each hostile text in each text field of each."""
    n = len(HOSTILE)
    empresas, campanas = [], []
    for i, text in enumerate(HOSTILE):
        moment = _pick(MOMENTS, i)
        empresas.append(
            Empresa(
                nombre=text,
                nit=_pick(HOSTILE, i + 1) or None,
                telefono=_pick(PHONES, i),
                email=_pick(HOSTILE, i + 2),
                creado=moment,
                id_propietario=owner.id,
            )
        )
        campanas.append(
            CampanaPublicitaria(
                nombre=text or "-",
                fecha_inicio=_pick(DATES, i),
                fecha_fin=None,
                activa=i % 2 == 0,
                creado=moment,
                id_propietario=owner.id,
            )
        )
    db.session.add_all(empresas + campanas)
    db.session.flush()
    for i, text in enumerate(HOSTILE):
        moment = _pick(MOMENTS, i)
        cliente = Cliente(
            cedula_cliente=text or "0",
            nombre_cliente=text,
            apellido_cliente=_pick(HOSTILE, i + 3) if i % 4 else None,
            telefono=_pick(PHONES, i),
            email=_pick(HOSTILE, i + 5) if i % 3 else None,
            estado=_pick([0, 1, 3], i),
            genero=_pick([None, 0, 1], i),
            acepta_sms=i % 2 == 1,
            fecha_nacimiento=_pick(DATES, i),
            id_empresa=empresas[i].id if i % 2 else None,
            id_campana=campanas[(i + 1) % n].id if i % 3 else None,
            creado=moment,
            id_propietario=owner.id,
        )
        db.session.add(cliente)
        db.session.flush()
        if i % 2:
            db.session.add(
                ConsentimientoSMS(
                    id_cliente=cliente.id_cliente,
                    acepta=True,
                    fuente="panel",
                    fecha=_pick(MOMENTS, i + 1),
                    id_propietario=owner.id,
                )
            )
        db.session.add_all(
            [
                Vehiculo(
                    id_cliente=cliente.id_cliente,
                    placa=f"P{i:02d}{text[:6]}",
                    marca=text,
                    modelo=_pick(HOSTILE, i + 1) or None,
                    anio=1900 + i if i % 2 else None,
                    id_propietario=owner.id,
                ),
                MovimientoCapital(
                    id_cliente=cliente.id_cliente,
                    tipo=_pick(["ingreso", "egreso"], i),
                    monto=Decimal(_pick(AMOUNTS, i)),
                    descripcion=text if i % 5 else None,
                    fecha=moment,
                    id_campana=campanas[i].id if i % 2 else None,
                    id_propietario=owner.id,
                ),
                Venta(
                    id_cliente=cliente.id_cliente,
                    id_vendedor=vendedor.id,
                    total=Decimal(_pick(AMOUNTS, i + 1)),
                    descripcion=text,
                    fecha=moment,
                    id_propietario=owner.id,
                ),
                PlantillaSMS(
                    nombre=text or "-",
                    mensaje=text or "Hola",
                    activo=i % 2 == 0,
                    creado=moment,
                    id_usuario=owner.id,
                    id_propietario=owner.id,
                ),
                CampanaSMS(
                    nombre=text,
                    mensaje="Hola",
                    estado=_pick(["pendiente", "completado", "cancelada"], i),
                    tipo=_pick(["comercial", "transaccional"], i),
                    total_clientes=i,
                    enviados_exitosos=i // 2,
                    enviados_fallidos=i % 3,
                    creado=moment,
                    id_usuario=owner.id,
                    id_propietario=owner.id,
                ),
            ]
        )
    pais = Pais(nombre='=País;"raro"', codigo_iso="ZZ")
    db.session.add(pais)
    db.session.flush()
    db.session.add(Ciudad(nombre="Ciudad\n@rara", id_pais=pais.id))
    db.session.commit()


@pytest.fixture
def hostile(app, tenants):
    a, b = db.session.get(Usuario, tenants.admin_a.id), db.session.get(Usuario, tenants.admin_b.id)
    fill(a, a)
    factories.cliente(b, nombre_cliente="DeOtroInquilino")
    return tenants


def _download(app, client, url: str, copy: bool, caplog) -> bytes:
    app.config[export_sql.CONFIG_KEY] = copy
    logging.getLogger(export_sql.__name__).disabled = False  # alembic's fileConfig disables it
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=export_sql.__name__):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data()
    used_copy = any("por COPY" in r.getMessage() for r in caplog.records)
    assert used_copy == copy, f"{url}: COPY {'not ' if copy else ''}used"
    return body


def _counts() -> list[int]:
    entries = db.session.scalars(
        sa.select(Historial).where(Historial.accion == "exportar").order_by(Historial.id)
    )
    return [e.filas for e in entries]


@pytest.mark.parametrize("codigo", ["csv", "csv-excel"])
@pytest.mark.parametrize("who", ["admin.a@test.co", "super@test.co"])
def test_copy_writes_the_same_bytes_as_the_python_path(app, client, hostile, caplog, codigo, who):
    login(client, who)
    for view, url in exporting_lists(app).items():
        if (view in SUPERADMIN_ONLY and who != "super@test.co") or view in PYTHON_ONLY:
            continue
        path = f"{url}exportar/{codigo}/"
        by_copy = _download(app, client, path, True, caplog)
        by_python = _download(app, client, path, False, caplog)
        assert by_copy == by_python, f"{view} {codigo}: {_first_difference(by_copy, by_python)}"
        assert by_copy.count(b"\r\n") >= 2, f"{view}: no rows exported"
        if view == "clientes":  # tenant B's one row: the superadmin's export only
            assert (b"DeOtroInquilino" in by_copy) == (who == "super@test.co")
        copy_rows, python_rows = _counts()[-2:]
        assert copy_rows == python_rows and copy_rows > 0, view


def test_search_and_filters_reach_the_copy_statement(app, client, hostile, caplog):
    login(client, "admin.a@test.co")
    bogota = db.session.scalar(sa.select(Ciudad.id_departamento).where(Ciudad.id == 1))
    for query in (
        "?search=%C3%91and%C3%BA",
        "?flt0_estado=0",
        "?sort=2&desc=1",
        f"?flt0_departamento={bogota}",
    ):
        path = f"/admin/clientes/exportar/csv/{query}"
        by_copy = _download(app, client, path, True, caplog)
        assert by_copy == _download(app, client, path, False, caplog), query
    assert 0 < _counts()[0] < _counts()[-1]  # the search did narrow the rows (the sort did not)


def _first_difference(a: bytes, b: bytes) -> str:
    i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"byte {i}: COPY {a[max(0, i - 60) : i + 60]!r} / Python {b[max(0, i - 60) : i + 60]!r}"


def test_a_column_without_sql_twin_keeps_the_python_path(app):
    """A float's text differs between Python and PostgreSQL: no twin, so no COPY for that export."""
    with app.test_request_context():
        columnas = [
            export.Columna("ID", Cliente.id_cliente, "numero"),
            export.Columna("Raro", sa.cast(Cliente.id_cliente, sa.Float), "numero"),
        ]
        stmt = sa.select(*(c.campo for c in columnas))
        assert export_sql.copy_select(stmt, columnas, export.FORMATOS["csv"]) is None
        assert export_sql.copy_select(stmt, columnas[:1] * 2, export.FORMATOS["csv"]) is not None
        assert export_sql.copy_select(stmt, columnas[:1] * 2, export.FORMATOS["xlsx"]) is None


def test_copy_runs_under_row_level_security_as_the_tenant(rls_app, two_tenants):  # noqa: F811
    """The table's own columns (no ORM entity, so no ORM criteria): RLS alone keeps the COPY to
    the tenant's rows, as a role that cannot bypass it (tests/test_rls.py)."""
    admin_a, _ = two_tenants
    cliente = Cliente.__table__
    columnas = [
        export.Columna("ID", cliente.c.id_cliente, "numero"),
        export.Columna("Propietario", cliente.c.id_propietario, "numero"),
    ]
    formato = export.FORMATOS["csv"]
    with rls_app.test_request_context(), tenancy.using(admin_a):
        copy_stmt = export_sql.copy_select(sa.select(*(c.campo for c in columnas)), columnas, formato)
        body = b"".join(export_sql.copy_chunks(copy_stmt, columnas, formato))
    rows = body.split(b"\r\n")[1:-1]
    assert len(rows) == 3 and {row.split(b",")[1] for row in rows} == {str(admin_a.id).encode()}
