"""The outbox's written rows are the plan's, byte for byte, on both engines: the PostgreSQL insert
sends each distinct text once with a number per row (commas, quotes and braces in the texts must
survive it), SQLite an executemany of plain tuples; and the keys of sms_log still hold the tenancy
without its own key to usuario (migration 0016)."""

import gc

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from panel import tenancy
from panel.extensions import db
from panel.models import CampanaSMS, Cliente, SMSLog, Usuario
from panel.models.envio import TEXTO_BAJA
from panel.sms import log_rows, outbox, planning
from panel.sms.encoding import analyze
from panel.sms.render import render

from . import factories

pytestmark = pytest.mark.usefixtures("ventana_abierta")

TEMPLATE = 'Hola {nombre}, "{apellido}" ({nombre_completo}): 50% off, \\ {nombre} ;-)'
HOSTILE = [  # (nombre, apellido): quotes, %, _, braces, accents, emoji, blanks, placeholders
    ("O'Brien", 'Dice "hola"'),
    ("100%", "_real_"),
    ("{nombre}", "{apellido}"),
    ("{nombre_completo}", None),
    ("Ñandú", "Ávila Pérez"),
    ("😀 Emoji", "🇨🇴"),
    ("", ""),
    ("  Espacios  ", "\tTab\t"),
    ("coma, y", "punto; y coma"),
    ("barra \\ invertida", "NULL"),
    ("Ana", None),
    ("€ y [~]", "^|"),
]


def _clients(owner):
    return [
        factories.cliente(owner, nombre_cliente=n, apellido_cliente=a, telefono=f"30055500{i:02d}")
        for i, (n, a) in enumerate(HOSTILE)
    ]


def _query(owner_id):
    return sa.select(Cliente).where(Cliente.id_propietario == owner_id)


def _written(campana_id) -> list[SMSLog]:
    return db.session.scalars(
        sa.select(SMSLog).where(SMSLog.id_campana == campana_id).order_by(SMSLog.id)
    ).all()


def _create(user_id, owner_id, mensaje=TEMPLATE):
    return outbox.create_campaign(user_id=user_id, cliente_query=_query(owner_id), mensaje=mensaje).id


def test_written_texts_equal_the_renderer_for_hostile_names(app, tenants):
    clients = _clients(tenants.admin_a)
    with tenancy.using(tenants.admin_a):
        rows = {r.id_cliente: r for r in _written(_create(tenants.admin_a.id, tenants.admin_a.id))}
    assert len(rows) == len(HOSTILE)
    for c in clients:
        expected = render(TEMPLATE, c) + TEXTO_BAJA  # the one-client renderer, not the plan's
        info = analyze(expected)
        row = rows[c.id_cliente]
        assert (row.estado, row.mensaje) == ("pendiente", expected)
        assert (row.segmentos, row.codificacion) == (info.segments, info.encoding)
    assert rows[clients[2].id_cliente].mensaje.startswith('Hola {nombre}, "{apellido}" ({nombre} {apellido})')


def test_written_rows_equal_the_plan_in_its_order(app, tenants):
    """Every column the plan decides, sendable and skipped, across several chunks (their numbers
    restart at 1 in each): what the dry run counts is what the outbox holds."""
    _clients(tenants.admin_a)
    factories.cliente(tenants.admin_a, telefono="3005550000")  # duplicate of the first
    factories.cliente(tenants.admin_a, telefono="12345")  # invalid: its raw phone is written
    factories.cliente(tenants.admin_a, acepta_sms=False, telefono="3005559999")
    with tenancy.using(tenants.admin_a):
        expected = [
            (f.id_cliente, f.telefono, *f.contenido[:6])
            for f in planning.plan(_query(tenants.admin_a.id), TEMPLATE).rows
        ]
        summary = outbox.dry_run(_query(tenants.admin_a.id), TEMPLATE)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(log_rows, "CHUNK", 4)
            written = _written(_create(tenants.admin_a.id, tenants.admin_a.id))
    columns = ("id_cliente", "telefono", *planning.CONTENIDO_KEYS)
    assert [tuple(getattr(r, k) for k in columns) for r in written] == expected
    assert [r.id_cliente for r in written] == sorted(r.id_cliente for r in written)
    assert summary["enviables"] == sum(r.estado == "pendiente" for r in written) == len(HOSTILE)
    assert summary["total"] - summary["enviables"] == sum(r.estado == "omitido" for r in written) == 3


def _log_row(campana_id, cliente_id, tenant_id):
    db.session.add(
        SMSLog(id_campana=campana_id, id_cliente=cliente_id, mensaje="m", id_propietario=tenant_id)
    )
    db.session.commit()


def test_an_outbox_row_cannot_change_tenant_without_its_key_to_usuario(app, tenants):
    """Migration 0016 dropped sms_log.id_propietario → usuario: the keys to the campaign and the
    client still refuse a row of another tenant, or of no tenant at all."""
    mine = factories.cliente(tenants.admin_a)
    theirs = factories.cliente(tenants.admin_b)
    campana = CampanaSMS(
        nombre="c", mensaje="m", id_usuario=tenants.admin_a.id, id_propietario=tenants.admin_a.id
    )
    db.session.add(campana)
    db.session.commit()
    campana_id = campana.id
    nobody = db.session.scalar(sa.select(sa.func.max(Usuario.id))) + 1000
    for cliente_id, tenant_id in (
        (mine.id_cliente, tenants.admin_b.id),
        (theirs.id_cliente, tenants.admin_a.id),
    ):
        with pytest.raises(IntegrityError):
            _log_row(campana_id, cliente_id, tenant_id)
        db.session.rollback()
    with pytest.raises(IntegrityError):
        _log_row(campana_id, mine.id_cliente, nobody)
    db.session.rollback()
    _log_row(campana_id, mine.id_cliente, tenants.admin_a.id)  # its own tenant: accepted


def test_the_plan_pauses_garbage_collection_and_restores_it():
    """Collection is off inside, back on after (even after an error); left off if it was off."""
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), outbox.gc_paused():
        assert not gc.isenabled()
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with outbox.gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
