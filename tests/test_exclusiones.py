"""Configuración → Exclusiones (SPEC §18): the tenant's own exclusion list, with its source and
date; add by hand or by file, remove with a reason, export; tenant-scoped, audited, admins only."""

import csv
import io

import pytest
import sqlalchemy as sa

from panel import consent
from panel.extensions import db
from panel.models import Cliente, ConsentimientoSMS, Historial, NumeroExcluidoPropio

from . import factories
from .helpers import csrf_from, csrf_of, login

URL = "/admin/exclusiones/"


def _list(tenant_id: int) -> list[tuple]:
    db.session.expire_all()
    stmt = sa.select(NumeroExcluidoPropio.numero, NumeroExcluidoPropio.fuente, NumeroExcluidoPropio.motivo)
    stmt = stmt.where(NumeroExcluidoPropio.id_propietario == tenant_id).order_by(NumeroExcluidoPropio.numero)
    return db.session.execute(stmt).all()


def _historial(tenant_id: int) -> list[tuple]:
    stmt = sa.select(Historial.accion, Historial.modelo, Historial.filas, Historial.resumen)
    stmt = stmt.where(Historial.id_propietario == tenant_id, Historial.modelo == "NumeroExcluidoPropio")
    return db.session.execute(stmt.order_by(Historial.id)).all()


def _agregar(client, numero: str, motivo: str = ""):
    token = csrf_from(client.get(URL).data)
    data = {"csrf_token": token, "agregar-numero": numero, "agregar-motivo": motivo}
    return client.post(URL + "agregar/", data=data, follow_redirects=True)


def _subir(client, contenido: bytes, nombre: str = "bajas.csv"):
    token = csrf_from(client.get(URL).data)
    data = {"csrf_token": token, "subir-archivo": (io.BytesIO(contenido), nombre)}
    return client.post(URL + "archivo/", data=data, content_type="multipart/form-data", follow_redirects=True)


def _id(tenant_id: int, numero: str) -> int:
    stmt = sa.select(NumeroExcluidoPropio.id).where(
        NumeroExcluidoPropio.id_propietario == tenant_id, NumeroExcluidoPropio.numero == numero
    )
    return db.session.scalar(stmt)


@pytest.fixture
def admin_a(client, tenants):
    login(client, "admin.a@test.co")
    return tenants.admin_a.id


def test_the_list_shows_each_number_in_national_form_with_its_source_and_date(client, admin_a):
    with db.engine.begin() as conn:
        consent.record_opt_out(conn, admin_a, "+573001234567")
        consent.record_opt_out(conn, admin_a, "+576013456789", consent.FUENTE_TWILIO_21610)
    html = client.get(URL).get_data(as_text=True)
    assert 'data-testid="exclusiones"' in html
    assert "300 123 4567" in html and "(601) 345 6789" in html and "+573001234567" not in html
    assert "respuesta SMS" in html and "Twilio (error 21610)" in html
    assert "Fuente" in html and "Fecha" in html


def test_an_admin_adds_a_number_by_hand_and_its_clients_stop_accepting_sms(client, tenants, admin_a):
    c = factories.cliente(tenants.admin_a, telefono="3001234567")
    page = _agregar(client, "300 123 4567", "Lo pidió por teléfono")
    assert page.status_code == 200 and "300 123 4567 añadido" in page.get_data(as_text=True)
    assert _list(admin_a) == [("+573001234567", "a mano", "Lo pidió por teléfono")]
    assert db.session.get(Cliente, c.id_cliente).acepta_sms is False
    last = db.session.scalars(
        sa.select(ConsentimientoSMS)
        .where(ConsentimientoSMS.id_cliente == c.id_cliente)
        .order_by(ConsentimientoSMS.id.desc())
    ).first()
    assert (last.acepta, last.fuente, last.id_usuario) == (False, "a mano", admin_a)
    [(accion, modelo, filas, resumen)] = _historial(admin_a)
    assert (accion, filas) == ("crear", 1) and "300 123 4567 añadido" in resumen


@pytest.mark.parametrize(
    ("numero", "mensaje"),
    [("12345", "Número no válido"), ("", "Escriba el número."), ("=HYPERLINK(1)", "Número no válido")],
)
def test_an_invalid_number_is_refused_in_spanish(client, admin_a, numero, mensaje):
    page = _agregar(client, numero)
    assert page.status_code == 200 and mensaje in page.get_data(as_text=True)
    assert _list(admin_a) == [] and _historial(admin_a) == []


def test_a_number_already_on_the_list_is_said_so_and_keeps_its_source(client, admin_a):
    with db.engine.begin() as conn:
        consent.record_opt_out(conn, admin_a, "+573001234567")
    page = _agregar(client, "+573001234567")
    assert "ya está en la lista" in page.get_data(as_text=True)
    assert _list(admin_a) == [("+573001234567", "respuesta SMS", "")]


@pytest.mark.parametrize(
    "contenido",
    [
        b"3001234567\n+573007654321\nno es un numero\n12\n\n3001234567\n",
        "numero;nombre\n300 123 4567;Ana\n+57 300 765 4321;Beto\nxx;Carla\n12;Dora\n".encode("utf-8-sig"),
    ],
)
def test_a_file_adds_its_numbers_and_counts_the_invalid_lines(client, admin_a, contenido):
    page = _subir(client, contenido).get_data(as_text=True)
    assert "2 números añadidos" in page and "2 líneas inválidas ignoradas" in page
    assert [(n, f) for n, f, _ in _list(admin_a)] == [
        ("+573001234567", "a mano"),
        ("+573007654321", "a mano"),
    ]
    [(accion, _, filas, resumen)] = _historial(admin_a)
    assert (accion, filas) == ("accion", 2) and "2 líneas inválidas" in resumen


def test_a_file_too_large_is_refused_without_adding_anything(client, admin_a, monkeypatch):
    from panel.admin.configuracion import exclusiones_propias

    monkeypatch.setattr(exclusiones_propias, "MAX_BYTES", 64)  # a setting of ours, not a mock: the bound
    page = _subir(client, b"3001234567\n" * 10).get_data(as_text=True)
    assert "El archivo supera" in page and _list(admin_a) == []
    ok = _subir(client, b"3001234567\n").get_data(as_text=True)
    assert "1 número añadido" in ok


def test_removing_needs_a_reason_and_gives_the_clients_their_consent_back(client, tenants, admin_a):
    c = factories.cliente(tenants.admin_a, telefono="3001234567")
    _agregar(client, "3001234567")
    url = f"{URL}quitar/?id={_id(admin_a, '+573001234567')}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="afectados"' in page and "1 cliente con este número" in page
    refused = client.post(url, data={"csrf_token": csrf_from(page), "motivo": "  "})
    assert "Escriba por qué" in refused.get_data(as_text=True) and len(_list(admin_a)) == 1
    done = client.post(url, data={"csrf_token": csrf_from(page), "motivo": "Volvió a autorizar"})
    assert done.status_code == 302 and _list(admin_a) == []
    db.session.expire_all()
    assert db.session.get(Cliente, c.id_cliente).acepta_sms is True
    last = db.session.scalars(
        sa.select(ConsentimientoSMS.fuente)
        .where(ConsentimientoSMS.id_cliente == c.id_cliente)
        .order_by(ConsentimientoSMS.id.desc())
    ).first()
    assert last == "a mano"
    entries = _historial(admin_a)
    assert [e.accion for e in entries] == ["crear", "eliminar"] and "Volvió a autorizar" in entries[1].resumen
    historial = client.get("/admin/historial/?flt0_modelo=NumeroExcluidoPropio")
    assert historial.status_code == 200 and "Número excluido" in historial.get_data(as_text=True)


def test_another_tenants_number_is_a_404(client, tenants, admin_a):
    with db.engine.begin() as conn:
        consent.record_opt_out(conn, tenants.admin_b.id, "+573009998877")
    theirs = _id(tenants.admin_b.id, "+573009998877")
    assert client.get(f"{URL}quitar/?id={theirs}").status_code == 404
    token = csrf_from(client.get(URL).data)
    assert (
        client.post(f"{URL}quitar/?id={theirs}", data={"csrf_token": token, "motivo": "x"}).status_code == 404
    )
    assert client.get(f"{URL}quitar/?id=99999999999999999999").status_code == 404
    assert "300 999 8877" not in client.get(URL).get_data(as_text=True)
    assert _list(tenants.admin_b.id) == [("+573009998877", "respuesta SMS", "")]


def test_the_export_goes_through_the_exporter_formula_safe_and_audited(client, tenants, admin_a):
    with db.engine.begin() as conn:
        consent.record_number(conn, admin_a, "+573001234567", False, "a mano", motivo="=HYPERLINK(1)")
        consent.record_opt_out(conn, tenants.admin_b.id, "+573007654321")
    response = client.get(URL + "exportar/csv/")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Número", "Fuente", "Fecha", "Nota"]
    assert len(rows) == 2 and rows[1][1] == "a mano" and rows[1][3] == "'=HYPERLINK(1)"
    assert "3001234567" in rows[1][0]  # the other tenant's number is not there
    exported = db.session.scalars(
        sa.select(Historial.accion).where(Historial.modelo == "NumeroExcluidoPropio")
    )
    assert list(exported) == ["exportar"]


@pytest.mark.parametrize("url", ["", "agregar/", "archivo/", "quitar/?id={id}", "exportar/csv/"])
def test_a_vendedor_gets_403(app, client, tenants, url):
    with db.engine.begin() as conn:
        consent.record_opt_out(conn, tenants.admin_a.id, "+573001234567")
    url = URL + url.format(id=_id(tenants.admin_a.id, "+573001234567"))
    post = url.endswith(("agregar/", "archivo/"))

    def ask(who):
        return who.post(url, data={"csrf_token": csrf_of(who)}) if post else who.get(url)

    login(client, "admin.a@test.co")
    assert ask(client).status_code in (200, 302)  # the admin gets in (a form without its fields: back)
    vendedor = app.test_client()
    login(vendedor, "vendedor.a@test.co")
    assert ask(vendedor).status_code == 403
    assert _list(tenants.admin_a.id) == [("+573001234567", "respuesta SMS", "")]


def test_a_superadmin_reads_every_list_but_has_no_tenant_list_to_manage(app, tenants):
    admin = app.test_client()
    login(admin, tenants.admin_a.email)
    _agregar(admin, "3001234567")
    assert _list(tenants.admin_a.id) != []
    superadmin = app.test_client()
    login(superadmin, "super@test.co")
    page = superadmin.get(URL)
    assert page.status_code == 200 and "300 123 4567" in page.get_data(as_text=True)
    assert 'data-testid="form-agregar"' not in page.get_data(as_text=True)
    refused = superadmin.post(
        URL + "agregar/", data={"csrf_token": csrf_from(page.data), "agregar-numero": "3009999999"}
    )
    assert refused.status_code == 403


def test_migration_0020_takes_the_source_of_existing_rows_from_their_motivo(databases):
    from flask_migrate import downgrade, upgrade

    from .conftest import make_app

    def everything(conn):
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT set_config('app.tenant', '*', true)"))

    app = make_app(databases.new())
    with app.app_context():
        upgrade(revision="0019")
        with db.engine.begin() as conn:
            everything(conn)
            conn.execute(
                sa.text(
                    "INSERT INTO usuario (email, password_hash, nombre, rol, activo, creado) "
                    "VALUES ('a@m.co', 'x', 'A', 'admin', true, CURRENT_TIMESTAMP)"
                )
            )
            owner = conn.scalar(sa.text("SELECT id FROM usuario"))
            for numero, motivo in (
                ("+573001", "Baja (respuesta SMS)"),
                ("+573002", "Baja (API)"),
                ("+573003", "x"),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO exclusion_propia (numero, motivo, creado, id_propietario) "
                        "VALUES (:n, :m, CURRENT_TIMESTAMP, :o)"
                    ),
                    {"n": numero, "m": motivo, "o": owner},
                )
        upgrade(revision="0020")
        read = sa.text("SELECT numero, fuente, motivo FROM exclusion_propia ORDER BY numero")
        with db.engine.begin() as conn:
            everything(conn)
            got = conn.execute(read).all()
        assert got == [("+573001", "respuesta SMS", ""), ("+573002", "API", ""), ("+573003", "sistema", "x")]
        downgrade(revision="0019")
        with db.engine.begin() as conn:
            everything(conn)
            motivos = conn.scalars(sa.text("SELECT motivo FROM exclusion_propia ORDER BY numero")).all()
        assert motivos == ["Baja (respuesta SMS)", "Baja (API)", "x"]
        db.session.remove()
        db.engine.dispose()
