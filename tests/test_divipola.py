"""DIVIPOLA (SPEC §16): the 33 departamentos and 1,123 municipios loaded by migration 0021, the
one matcher for a municipio written by a person, and `flask divipola-import`."""

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from panel import municipios
from panel.extensions import db
from panel.models import Ciudad, Departamento
from tests import factories
from tests.conftest import make_app

MIGRATION = Path(__file__).resolve().parents[1] / "migrations/versions/0021_divipola.py"
HEADER = "codigo_departamento,departamento,codigo_municipio,municipio\n"


def _counts() -> tuple[int, int]:
    departamentos = db.session.scalar(sa.select(sa.func.count()).select_from(Departamento))
    municipios_ = db.session.scalar(sa.select(sa.func.count()).where(Ciudad.codigo_dane.is_not(None)))
    return departamentos, municipios_


def _migration():
    spec = importlib.util.spec_from_file_location("divipola_0021", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code(ciudad_id: int) -> str:
    return db.session.get(Ciudad, ciudad_id).codigo_dane


# --- the migration -------------------------------------------------------------------------------


def test_the_migration_loads_33_departamentos_and_1123_municipios(app):
    assert _counts() == (33, 1123)
    bogota = db.session.get(Ciudad, 1)
    assert (bogota.codigo_dane, bogota.departamento.codigo_dane, bogota.id_pais) == ("11001", "11", 1)


def test_the_cities_that_existed_keep_their_ids_and_gain_their_codes(app):
    expected = {2: "05001", 3: "76001", 6: "54001", 16: "63001", 20: "15001"}  # Armenia: Quindío's
    assert {i: _code(i) for i in expected} == expected
    assert db.session.get(Ciudad, 21).nombre == "Quito" and _code(21) is None  # foreign: no code
    assert db.session.get(Ciudad, 21).id_departamento is None


def test_the_load_is_idempotent_and_keeps_the_clients_cities(app, tenants):
    cliente = factories.cliente(tenants.admin_a, id_ciudad=municipios.match("Itagüí"))
    before = dict(db.session.execute(sa.select(Ciudad.codigo_dane, Ciudad.id)).all())
    module = _migration()
    module.load(db.session.connection(), module.read_rows())
    db.session.commit()
    assert _counts() == (33, 1123)
    assert dict(db.session.execute(sa.select(Ciudad.codigo_dane, Ciudad.id)).all()) == before
    assert db.session.get(type(cliente), cliente.id_cliente).ciudad.codigo_dane == "05360"


def _clients_before(conn) -> int:
    """An agency with clients in Bogotá (1), Armenia (16: Quindío's, DIVIPOLA has two) and Quito
    (21), written with the schema of 0020 (plain SQL)."""
    if conn.dialect.name == "postgresql":  # the RLS policies: a migration-time view of every tenant
        conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))
    t = "2026-12-01 12:00:00"
    conn.execute(
        sa.text(
            "INSERT INTO usuario (email, password_hash, nombre, rol, activo, creado, sesion_version) "
            "VALUES ('admin@agencia.co', 'x', 'Admin', 'admin', true, :t, 0)"
        ),
        {"t": t},
    )
    admin = conn.execute(sa.text("SELECT id FROM usuario")).scalar_one()
    for cedula, ciudad, pais in (("101", 1, 1), ("102", 16, 1), ("103", 21, 2)):
        conn.execute(
            sa.text(
                "INSERT INTO cliente (cedula_cliente, nombre_cliente, id_ciudad, id_pais, estado,"
                " acepta_sms, creado, actualizado, id_propietario)"
                " VALUES (:c, 'Ana', :ciudad, :pais, 1, true, :t, :t, :a)"
            ),
            {"c": cedula, "ciudad": ciudad, "pais": pais, "t": t, "a": admin},
        )
    return admin


def test_the_migration_on_a_database_with_clients_keeps_their_cities(databases):
    app = make_app(databases.new())
    with app.app_context():
        upgrade(revision="0020")
        with db.engine.begin() as conn:
            _clients_before(conn)
        upgrade()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))
            rows = conn.execute(
                sa.text(
                    "SELECT cliente.cedula_cliente, ciudad.id, ciudad.codigo_dane, ciudad.nombre FROM cliente"
                    " JOIN ciudad ON ciudad.id = cliente.id_ciudad ORDER BY cliente.cedula_cliente"
                )
            ).all()
            counts = conn.execute(
                sa.text(
                    "SELECT (SELECT count(*) FROM departamento),"
                    " (SELECT count(*) FROM ciudad WHERE codigo_dane IS NOT NULL),"
                    " (SELECT count(*) FROM ciudad)"
                )
            ).one()
        assert [tuple(r) for r in rows] == [
            ("101", 1, "11001", "Bogotá D.C."),
            ("102", 16, "63001", "Armenia"),
            ("103", 21, None, "Quito"),
        ]
        assert tuple(counts) == (33, 1123, 1123 + 7)  # and the 7 foreign cities of 0002
        downgrade(revision="0020")  # what no client names goes; the cities of 0002 stay
        upgrade()
        db.session.remove()
        db.engine.dispose()


def test_a_repeated_name_reads_with_its_departamento(app):
    rionegro = db.session.scalar(sa.select(Ciudad).where(Ciudad.codigo_dane == "05615"))
    assert str(rionegro) == "Rionegro (Antioquia)" and municipios.label(rionegro) == "Rionegro (Antioquia)"
    assert str(db.session.get(Ciudad, 2)) == "Medellín"


# --- the matcher ---------------------------------------------------------------------------------

SPELLINGS = [
    ("Bogotá", "11001"),
    ("Bogota D.C.", "11001"),
    ("BOGOTÁ, D.C.", "11001"),
    ("Santafé de Bogotá", "11001"),
    ("bogota dc", "11001"),
    ("Bogotá D.C.", "11001"),
    ("  bogotá  ", "11001"),
    ("11001", "11001"),
    ("Medellín", "05001"),
    ("MEDELLIN", "05001"),
    ("5001", "05001"),  # a spreadsheet dropped the leading zero
    ("Bello", "05088"),
    ("Soacha", "25754"),
    ("Chía", "25175"),
    ("chia", "25175"),
    ("Envigado", "05266"),
    ("Itagüí", "05360"),
    ("Itagui", "05360"),
    ("ITAGÜÍ", "05360"),
    ("Tuluá", "76834"),
    ("Soledad", "08758"),
    ("Zipaquirá", "25899"),
    ("Fusagasugá", "25290"),
    ("Sogamoso", "15759"),
    ("Floridablanca", "68276"),
    ("Rionegro, Antioquia", "05615"),
    ("Rionegro (Antioquia)", "05615"),
    ("Rionegro (Santander)", "68615"),
    ("rionegro - santander", "68615"),
    ("Providencia (Archipiélago de San Andrés, Providencia y Santa Catalina)", "88564"),
    ("Providencia, San Andrés", "88564"),
    ("Providencia (Nariño)", "52565"),
    ("Cartagena de Indias", "13001"),
    ("Cartagena", "13001"),
    ("San José de Cúcuta", "54001"),
    ("Cúcuta", "54001"),
    ("Cali", "76001"),
    ("Villa de Leyva", "15407"),
    ("Tumaco", "52835"),
    ("Armenia (Quindío)", "63001"),
    ("Florencia, Caquetá", "18001"),
    ("Barrancominas", "94663"),
    ("Santa Marta", "47001"),
]


@pytest.mark.parametrize("escrito, codigo", SPELLINGS)
def test_a_municipio_as_people_write_it(app, escrito, codigo):
    assert _code(municipios.match(escrito)) == codigo


@pytest.mark.parametrize(
    "escrito, departamento, codigo",
    [
        ("Rionegro", "Antioquia", "05615"),
        ("Rionegro", "SANTANDER", "68615"),
        ("Rionegro", "68", "68615"),
        ("La Unión", "Valle del Cauca", "76400"),
        ("La Union", "Valle", "76400"),
        ("Bogotá", "Bogotá D.C.", "11001"),
        ("Medellín", "Antioquia", "05001"),
    ],
)
def test_a_departamento_settles_a_repeated_name(app, escrito, departamento, codigo):
    assert _code(municipios.match(escrito, departamento)) == codigo


def test_an_ambiguous_name_alone_names_the_candidates(app):
    with pytest.raises(municipios.MunicipioError) as exc:
        municipios.match("Rionegro")
    assert str(exc.value) == "«Rionegro» es ambiguo: Rionegro (Antioquia), Rionegro (Santander)."
    with pytest.raises(municipios.MunicipioError, match="«la union» es ambiguo: La Unión \\(Antioquia\\), "):
        municipios.match("la union")


@pytest.mark.parametrize(
    "escrito, suggestion",
    [
        ("Itagüi x", "¿Quiso decir Itagüí (Antioquia)?"),
        ("Itaguii", "¿Quiso decir Itagüí (Antioquia)?"),
        ("Envigao", "¿Quiso decir Envigado (Antioquia)?"),
        ("Zipaquira Cundinamrca", None),
        ("Bucaramnga", "¿Quiso decir Bucaramanga (Santander)?"),
        ("Fusagasuga.", None),
    ],
)
def test_an_unknown_name_names_the_closest(app, escrito, suggestion):
    if suggestion is None:  # punctuation ignored: found, not refused
        if escrito == "Fusagasuga.":
            assert _code(municipios.match(escrito)) == "25290"
            return
        with pytest.raises(municipios.MunicipioError, match="No existe el municipio"):
            municipios.match(escrito)
        return
    with pytest.raises(municipios.MunicipioError) as exc:
        municipios.match(escrito)
    assert str(exc.value) == f"No existe el municipio «{escrito}». {suggestion}"


def test_refusals_say_why(app):
    for escrito, message in [
        ("", "Escriba un municipio."),
        ("99999", "No existe un municipio con el código DANE 99999."),
        (
            "Rionegro (Nariño)",
            "No existe «Rionegro (Nariño)» en Nariño: Rionegro (Antioquia), Rionegro (Santander).",
        ),
    ]:
        with pytest.raises(municipios.MunicipioError) as exc:
            municipios.match(escrito)
        assert str(exc.value) == message
    with pytest.raises(municipios.MunicipioError, match="No existe el departamento «Texas»."):
        municipios.match("Rionegro", "Texas")


def test_the_search_as_you_type(app):
    found = [lugar.etiqueta for lugar in municipios.indice().search("rione")]
    assert found == ["Rionegro (Antioquia)", "Rionegro (Santander)"]
    assert [lugar.codigo_dane for lugar in municipios.indice().search("05360")] == ["05360"]
    assert len(municipios.indice().search("san", limit=10)) == 10


# --- flask divipola-import -----------------------------------------------------------------------


def _file(tmp_path, change) -> Path:
    rows = municipios.packaged_rows()
    lines = [HEADER] + [
        f'{r["codigo_departamento"]},"{r["departamento"]}",{r["codigo_municipio"]},{r["municipio"]}\n'
        for r in change(rows)
    ]
    path = tmp_path / "divipola.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_import_of_the_same_file_changes_nothing(runner, tmp_path):
    result = runner.invoke(args=["divipola-import", str(_file(tmp_path, lambda rows: rows))])
    assert result.exit_code == 0, result.output
    assert "DIVIPOLA: sin cambios." in result.output and _counts() == (33, 1123)


def test_import_adds_renames_and_never_deletes_a_municipio_in_use(runner, tmp_path, tenants):
    itagui = db.session.scalar(sa.select(Ciudad.id).where(Ciudad.codigo_dane == "05360"))
    factories.cliente(tenants.admin_a, id_ciudad=itagui)

    def change(rows):
        kept = [r for r in rows if r["codigo_municipio"] not in ("05360", "05004")]  # Itagüí, Abriaquí
        renamed = [
            dict(r, municipio="Villa de San Diego de Ubaté") if r["codigo_municipio"] == "25843" else r
            for r in kept
        ]
        return renamed + [
            dict(
                codigo_departamento="94",
                departamento="Guainía",
                codigo_municipio="94889",
                municipio="Morichal Nuevo",
            )
        ]

    result = runner.invoke(args=["divipola-import", str(_file(tmp_path, change))])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Municipio nuevo: 94889 Morichal Nuevo (Guainía)" in out
    assert "Municipio renombrado: 25843 Villa de San Diego de Ubate → Villa de San Diego de Ubaté" in out
    assert "Municipio retirado: 05004 Abriaquí" in out
    assert "Se conserva 05360 Itagüí: no está en el archivo, pero 1 cliente vive allí." in out
    assert db.session.get(Ciudad, itagui) is not None
    assert db.session.scalar(sa.select(Ciudad.id).where(Ciudad.codigo_dane == "05004")) is None
    assert _counts() == (33, 1123)  # +1 −1
    assert _code(municipios.match("Morichal Nuevo")) == "94889"


def test_import_refuses_a_cut_or_broken_file(runner, tmp_path):
    result = runner.invoke(args=["divipola-import", str(_file(tmp_path, lambda rows: rows[:100]))])
    assert result.exit_code == 1 and "parece incompleto" in result.output
    assert _counts() == (33, 1123)
    broken = tmp_path / "otro.csv"
    broken.write_text("nombre,codigo\nx,1\n", encoding="utf-8")
    result = runner.invoke(args=["divipola-import", str(broken)])
    assert result.exit_code == 1 and "columnas" in result.output
    twice = _file(tmp_path, lambda rows: [*rows, rows[0]])
    result = runner.invoke(args=["divipola-import", str(twice)])
    assert result.exit_code == 1 and "el código 05001 ya estaba en la línea 2" in result.output


# --- the import ------------------------------------------------------------------------------------


def test_the_import_reads_municipios_as_people_write_them(app, tenants):
    from .import_support import HEADER, clientes, csv_bytes, errors_of, imported, row

    header = [*HEADER, "Departamento"]
    rows = [
        row(1, Ciudad="BOGOTÁ, D.C.") + [""],
        row(2, Ciudad="Itagui") + ["Antioquia"],
        row(3, Ciudad="Rionegro") + ["Santander"],  # the departamento column settles it
        row(4, Ciudad="Rionegro (Antioquia)") + [""],
        row(5, Ciudad="05266") + [""],  # Envigado by its DANE code
        row(6, Ciudad="Rionegro") + [""],  # ambiguous
        row(7, Ciudad="Envigao") + [""],  # misspelt
    ]
    _, vista, _ = imported(csv_bytes(rows, header=header), tenants.admin_a.id)
    assert errors_of(vista) == [
        (7, "Ciudad", "«Rionegro» es ambiguo: Rionegro (Antioquia), Rionegro (Santander)."),
        (8, "Ciudad", "No existe el municipio «Envigao». ¿Quiso decir Envigado (Antioquia)?"),
    ]
    found = {c.nombre_cliente: c.ciudad.codigo_dane for c in clientes(tenants.admin_a.id).values()}
    assert found == {"Ana1": "11001", "Ana2": "05360", "Ana3": "68615", "Ana4": "05615", "Ana5": "05266"}
