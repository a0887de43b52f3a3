"""Demo data reads as a Colombian back office: Spanish company and campaign names, sensible emails."""

import re

import sqlalchemy as sa
from faker import Faker

from panel import identificacion
from panel.demo import load_demo_data
from panel.extensions import db
from panel.models import CampanaPublicitaria, Cliente, Empresa, Usuario
from panel.text import fold

ENGLISH_COMPANY = re.compile(r"\b(Group|Inc|LLC|PLC|Ltd|and|Sons)\b")


def _latin_words() -> set[str]:
    """Faker's lorem ipsum vocabulary, minus the few words Spanish shares with it."""
    words = set(Faker("la").get_words_list())
    return {w for w in words if len(w) > 3} - {"solo", "nombre"}


def test_demo_companies_and_campaigns_read_as_colombian_spanish(app):
    assert load_demo_data() is True
    empresas = db.session.scalars(sa.select(Empresa.nombre)).all()
    campanas = db.session.scalars(sa.select(CampanaPublicitaria.nombre)).all()
    assert len(empresas) == 8 and len(campanas) == 6
    assert [e for e in empresas if ENGLISH_COMPANY.search(e)] == []
    assert all(re.search(r"(S\.A\.S\.|S\.A\.|Ltda\.)$", e) for e in empresas), empresas
    latin = _latin_words()
    words = {w.lower() for name in campanas for w in re.findall(r"[A-Za-zÁÉÍÓÚáéíóúñÑ]+", name)}
    assert words & latin == set(), campanas
    agencias = db.session.scalars(sa.select(Usuario.nombre).where(Usuario.rol == "admin")).all()
    assert sorted(agencias) == ["Medios del Caribe S.A.S.", "Publicidad Andina S.A.S."]


def test_demo_emails_keep_accented_names_transliterated(app):
    load_demo_data()
    clientes = db.session.scalars(sa.select(Cliente)).all()
    assert len(clientes) == 200
    accented = [c for c in clientes if fold(c.nombre_cliente) != c.nombre_cliente.lower()]
    assert accented, "la semilla debería dar algún nombre con tilde"
    for c in clientes:
        local = c.email.split("@")[0]
        assert local.isascii() and re.fullmatch(r"[a-z0-9.]+", local), c.email
        assert local.startswith(fold(c.nombre_cliente).replace(" ", ".")[:20] + "."), (
            c.nombre_cliente,
            c.email,
        )
    maria = [c.email for c in clientes if c.nombre_cliente.startswith("María")]
    assert maria and all(e.startswith("maria") for e in maria)


def test_demo_clients_live_across_many_departamentos_and_municipios(app):
    from panel.models import Ciudad

    load_demo_data()
    rows = db.session.execute(
        sa.select(Ciudad.codigo_dane, Ciudad.id_departamento).join(Cliente, Cliente.id_ciudad == Ciudad.id)
    ).all()
    assert len({codigo for codigo, _ in rows}) >= 30
    assert len({dep for _, dep in rows}) >= 10
    assert {"05615", "05360"} & {codigo for codigo, _ in rows}  # Rionegro (Antioquia) or Itagüí


def test_demo_empresas_have_valid_nits_and_some_clients_hold_foreigners_documents(app):
    load_demo_data()
    nits = db.session.scalars(sa.select(Empresa.nit)).all()
    assert len(nits) == 8 and all(identificacion.problema_nit(n) is None for n in nits), nits
    documentos = db.session.execute(sa.select(Cliente.tipo_documento, Cliente.cedula_cliente)).all()
    assert {"CC", "CE", "PA", "PPT"} <= {tipo for tipo, _ in documentos}
    assert all(identificacion.problema(tipo, numero) is None for tipo, numero in documentos)
