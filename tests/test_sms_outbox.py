"""The outbox: dry run and campaign creation (one transaction, set-based, skipped reasons)."""

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.models import CampanaSMS, Cliente, Historial, SMSLog, Usuario
from panel.models.envio import TEXTO_BAJA
from panel.sms import lifecycle, outbox
from panel.sms.elegibilidad import MOTIVOS
from panel.sms.outbox import OutboxError

from . import factories

# Commercial campaigns (the default) send only inside the contact window: a weekday morning.
pytestmark = pytest.mark.usefixtures("ventana_abierta")


def _all_of(owner_id: int):
    return sa.select(Cliente).where(Cliente.id_propietario == owner_id)


@pytest.fixture
def people(app, tenants):
    """Tenant A's clients: two sendable (one UCS-2), and one of each skip reason."""
    a = tenants.admin_a
    return dict(
        ana=factories.cliente(a, nombre_cliente="Ana", apellido_cliente="Pérez", telefono="3001110001"),
        maria=factories.cliente(
            a, nombre_cliente="María", apellido_cliente="Gómez", telefono="+573001110002"
        ),
        inactivo=factories.cliente(a, estado=0, telefono="3001110003"),
        deshabilitado=factories.cliente(a, estado=3, telefono="3001110004"),
        baja=factories.cliente(a, acepta_sms=False, telefono="3001110005"),
        sin_tel=factories.cliente(a, telefono=None),
        invalido=factories.cliente(a, telefono="12345"),
        duplicado=factories.cliente(a, telefono="300 111 0001"),
    )


def test_dry_run_lists_recipients_skipped_reasons_segments_and_ucs2(people, tenants):
    with tenancy.using(tenants.admin_a):
        summary = outbox.dry_run(_all_of(tenants.admin_a.id), "Hola {nombre}, oferta para {nombre_completo}")
    assert (summary["total"], summary["enviables"]) == (8, 2)
    assert summary["motivos"] == {
        "Cliente inactivo": 1,
        "Cliente deshabilitado": 1,
        "El cliente no acepta SMS (se dio de baja)": 1,
        "Sin teléfono": 1,
        "Teléfono inválido para su país": 1,
        "Teléfono duplicado en la campaña": 1,
    }
    preview = summary["vista_previa"]
    assert preview[0]["mensaje"] == "Hola Ana, oferta para Ana Pérez" + TEXTO_BAJA
    assert preview[0]["telefono"] == "+573001110001"
    assert preview[1]["mensaje"] == "Hola María, oferta para María Gómez" + TEXTO_BAJA
    # "í" and "ó" are not GSM-7: María's message alone goes UCS-2.
    assert summary["ucs2"] == [
        {"id_cliente": people["maria"].id_cliente, "nombre": "María Gómez", "caracteres": "íó"}
    ]
    assert summary["segmentos_total"] == 2  # the opt-out text still fits one segment each
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SMSLog)) == 0  # nothing written


def test_rendering_is_literal_never_format(app, tenants):
    c = factories.cliente(tenants.admin_a, nombre_cliente="{apellido}", apellido_cliente="X")
    summary = outbox.dry_run(
        sa.select(Cliente).where(Cliente.id_cliente == c.id_cliente), "Hola {nombre} {apellido}"
    )
    assert summary["vista_previa"][0]["mensaje"] == "Hola {apellido} X" + TEXTO_BAJA


def test_create_campaign_writes_campaign_rows_and_history(people, tenants):
    with tenancy.using(tenants.admin_a):
        campana = outbox.create_campaign(
            user_id=tenants.vendedor_a.id,
            cliente_query=_all_of(tenants.admin_a.id),
            mensaje="Hola {nombre}",
            nombre="Promo",
            filtros={"ids": [1, 2]},
        )
    db.session.expire_all()
    campana = db.session.get(CampanaSMS, campana.id)
    assert (campana.estado, campana.id_propietario, campana.id_usuario) == (
        "pendiente",
        tenants.admin_a.id,
        tenants.vendedor_a.id,
    )
    # Skipped recipients are omitido, not fallido (SPEC §6): nothing failed yet.
    assert (campana.total_clientes, campana.enviados_exitosos, campana.enviados_fallidos) == (8, 0, 0)
    assert lifecycle.progress(campana.id)["omitidos"] == 6
    assert campana.filtros == {"ids": [1, 2]}
    rows = {
        r.id_cliente: r for r in db.session.scalars(sa.select(SMSLog).where(SMSLog.id_campana == campana.id))
    }
    ana = rows[people["ana"].id_cliente]
    assert (ana.estado, ana.telefono, ana.mensaje, ana.segmentos, ana.codificacion) == (
        "pendiente",
        "+573001110001",
        "Hola Ana" + TEXTO_BAJA,
        1,
        "GSM-7",
    )
    assert rows[people["maria"].id_cliente].codificacion == "UCS-2"
    baja = rows[people["baja"].id_cliente]
    assert (baja.estado, baja.motivo) == ("omitido", MOTIVOS["opt_out"])
    assert "no acepta SMS" in rows[people["baja"].id_cliente].error_mensaje
    assert "duplicado" in rows[people["duplicado"].id_cliente].error_mensaje
    assert all(r.id_propietario == tenants.admin_a.id for r in rows.values())
    history = db.session.scalars(sa.select(Historial).where(Historial.accion == "sms")).one()
    assert (history.filas, history.objeto_id, history.id_usuario) == (
        8,
        str(campana.id),
        tenants.vendedor_a.id,
    )


def test_log_rows_are_inserted_set_based(people, tenants):
    """All rows go in one statement per batch: an executemany (SQLite) or one INSERT … SELECT FROM
    unnest(arrays) (PostgreSQL), never one INSERT per row."""
    inserts = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SMS_LOG"):
            inserts.append(executemany or "unnest(" in statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        with tenancy.using(tenants.admin_a):
            outbox.create_campaign(
                user_id=tenants.admin_a.id, cliente_query=_all_of(tenants.admin_a.id), mensaje="Hola"
            )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(inserts) == 1 and inserts[0] is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SMSLog)) == 8


@pytest.mark.parametrize(
    "mensaje,expected",
    [
        ("", "no puede estar vacío"),
        ("   ", "no puede estar vacío"),
        ("Hola {nombres}", "Marcador desconocido: {nombres}"),
        ("Hola {nombre", "Llave sin cerrar"),
    ],
)
def test_bad_message_creates_nothing(people, tenants, mensaje, expected):
    with tenancy.using(tenants.admin_a), pytest.raises(OutboxError, match=expected) as err:
        outbox.create_campaign(
            user_id=tenants.admin_a.id, cliente_query=_all_of(tenants.admin_a.id), mensaje=mensaje
        )
    assert err.value.field == "mensaje"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampanaSMS)) == 0


def test_no_sendable_recipient_creates_nothing(people, tenants):
    query = sa.select(Cliente).where(
        Cliente.id_cliente.in_([people["baja"].id_cliente, people["sin_tel"].id_cliente])
    )
    with tenancy.using(tenants.admin_a), pytest.raises(OutboxError, match="Ningún destinatario"):
        outbox.create_campaign(user_id=tenants.admin_a.id, cliente_query=query, mensaje="Hola")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampanaSMS)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SMSLog)) == 0


def test_other_tenants_client_ids_are_ignored(people, tenants):
    theirs = factories.cliente(tenants.admin_b, telefono="3001119999")
    query = sa.select(Cliente).where(Cliente.id_cliente.in_([theirs.id_cliente, people["ana"].id_cliente]))
    with tenancy.using(tenants.vendedor_a):
        campana = outbox.create_campaign(user_id=tenants.vendedor_a.id, cliente_query=query, mensaje="Hola")
    ids = db.session.scalars(sa.select(SMSLog.id_cliente).where(SMSLog.id_campana == campana.id)).all()
    assert ids == [people["ana"].id_cliente]


def test_only_other_tenants_clients_is_no_recipient(people, tenants):
    theirs = factories.cliente(tenants.admin_b, telefono="3001119999")
    query = sa.select(Cliente).where(Cliente.id_cliente == theirs.id_cliente)
    with tenancy.using(tenants.admin_a), pytest.raises(OutboxError, match="Ningún destinatario"):
        outbox.create_campaign(user_id=tenants.admin_a.id, cliente_query=query, mensaje="Hola")


def test_superadmin_cannot_mix_tenants_in_one_campaign(people, tenants):
    factories.cliente(tenants.admin_b, telefono="3001119999")
    with pytest.raises(OutboxError, match="varios propietarios"):
        outbox.create_campaign(
            user_id=tenants.superadmin.id, cliente_query=sa.select(Cliente), mensaje="Hola"
        )


def test_excluded_numbers_and_landlines_are_skipped_with_their_reason(people, tenants):
    """Ley 2300: the CRC's registry and the tenant's own list; a landline cannot receive SMS."""
    from panel.models import NumeroExcluidoPropio
    from panel.sms import rne

    admin = db.session.get(Usuario, tenants.admin_a.id)
    in_rne = factories.cliente(admin, nombre_cliente="Registrada", telefono="3007770001")
    own = factories.cliente(admin, nombre_cliente="Propia", telefono="3007770002")
    fijo = factories.cliente(admin, nombre_cliente="Fijo", telefono="6017654321")
    rne.load(["3007770001\n"])
    with tenancy.using(tenants.admin_a):
        db.session.add(NumeroExcluidoPropio(numero="+573007770002", motivo="a mano"))
        db.session.commit()
        ids = [in_rne.id_cliente, own.id_cliente, fijo.id_cliente, people["ana"].id_cliente]
        result = outbox.dry_run(sa.select(Cliente).where(Cliente.id_cliente.in_(ids)), "Hola {nombre}")
    reasons = {r["id_cliente"]: r["error_mensaje"] for r in result["omitidos"]}
    assert reasons == {
        in_rne.id_cliente: "Inscrito en el Registro de Números Excluidos",
        own.id_cliente: "En la lista de exclusión de la empresa (se dio de baja)",
        fijo.id_cliente: "Teléfono fijo: no recibe SMS",
    }
    assert result["enviables"] == 1
