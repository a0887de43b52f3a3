"""EnviarSMSForm: one validation of "send this campaign" for the panel page and the API."""

import pytest
import sqlalchemy as sa

from panel import tenancy
from panel.extensions import db
from panel.forms.binding import bind
from panel.forms.enviar_sms_form import EnviarSMSForm
from panel.models import CampanaSMS, Cliente, Usuario

from . import factories
from .api_support import keys
from .helpers import csrf_of, login

__all__ = ["keys"]


def _form(user, **values):
    with tenancy.using(user):
        form = bind(EnviarSMSForm, values)
        return form, form.validate()


def test_another_tenants_template_is_not_a_choice(app, tenants):
    theirs = factories.plantilla(tenants.admin_b, "Hola {nombre}")
    form, valid = _form(tenants.admin_a, mensaje="", id_plantilla=theirs.id)
    assert not valid and form.errors["id_plantilla"] == ["No es una opción válida."]


def test_the_templates_text_is_sent_when_no_message_is_written(app, tenants):
    mine = factories.plantilla(tenants.admin_a, "Buenas {nombre}")
    form, valid = _form(tenants.admin_a, mensaje="", id_plantilla=mine.id)
    assert valid and form.texto == "Buenas {nombre}" and form.plantilla.id == mine.id


def test_a_superadmin_sending_for_a_tenant_chooses_among_its_templates(app, tenants):
    mine = factories.plantilla(tenants.admin_a, "Buenas {nombre}")
    with tenancy.using(tenants.superadmin):
        form, valid = _form(tenancy.tenant_scope(tenants.admin_b.id), mensaje="", id_plantilla=mine.id)
    assert not valid and "id_plantilla" in form.errors


@pytest.mark.parametrize(
    "values,field,message",
    [
        ({"mensaje": ""}, "mensaje", "Escriba un mensaje o elija una plantilla."),
        ({"mensaje": "Hola {foo}"}, "mensaje", "Marcador desconocido: {foo}"),
        ({"mensaje": "Hola", "nombre": "x" * 201}, "nombre", "Máximo 200 caracteres."),
    ],
)
def test_bad_input_is_refused_naming_the_field(app, tenants, values, field, message):
    form, valid = _form(tenants.admin_a, **values)
    assert not valid and message in " ".join(form.errors[field])


def test_a_name_over_200_characters_is_refused_alike_by_the_page_and_the_api(client, tenants, keys):
    """Formerly the page refused it and the API cut it silently: now both ask EnviarSMSForm."""
    c = factories.cliente(db.session.get(Usuario, tenants.admin_a.id), telefono="3001234567")
    body = {"cliente_ids": [c.id_cliente], "mensaje": "Hola", "nombre_campana": "x" * 201}
    api = client.post("/clientes/enviar-sms/", json=body, headers=keys.admin_a)
    assert api.status_code == 400 and api.json["errors"] == {"nombre_campana": ["Máximo 200 caracteres."]}
    login(client, tenants.admin_a.email)
    token = csrf_of(client, "/admin/enviar-sms/")
    fields = {"ids": str(c.id_cliente), "mensaje": "Hola", "nombre": "x" * 201, "paso": "enviar"}
    page = client.post("/admin/enviar-sms/", data={**fields, "csrf_token": token})
    assert page.status_code == 200 and "Máximo 200 caracteres." in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampanaSMS)) == 0
    assert db.session.get(Cliente, c.id_cliente) is not None
