"""Personalising SMS text: literal placeholders, clear Spanish errors for bad templates."""

from types import SimpleNamespace

import pytest

from panel.models import Cliente
from panel.sms.render import PLACEHOLDERS, TemplateError, render, validate_template

MARIA = SimpleNamespace(nombre_cliente="María", apellido_cliente="Pérez")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola {nombre}", "Hola María"),
        ("Sr(a). {apellido}", "Sr(a). Pérez"),
        ("Estimado(a) {nombre_completo}:", "Estimado(a) María Pérez:"),
        ("{nombre} {nombre} {apellido}", "María María Pérez"),
        ("Sin marcadores", "Sin marcadores"),
        ("100% {nombre} %s %(x)s", "100% María %s %(x)s"),
    ],
)
def test_render_replaces_placeholders_literally(text, expected):
    assert render(text, MARIA) == expected


def test_render_works_with_a_cliente_and_a_mapping():
    cliente = Cliente(nombre_cliente="José", apellido_cliente=None)
    assert render("{nombre_completo}|{apellido}|", cliente) == "José||"
    assert render("{nombre_completo}", {"nombre_cliente": "Ana", "apellido_cliente": "Gil"}) == "Ana Gil"


def test_render_never_expands_placeholders_inside_names():
    """A name that looks like a placeholder or a format field is inserted as typed."""
    tricky = SimpleNamespace(nombre_cliente="{apellido}", apellido_cliente="{0.__class__}")
    assert render("{nombre} {apellido}", tricky) == "{apellido} {0.__class__}"


def test_placeholders_are_the_documented_three():
    assert PLACEHOLDERS == ("nombre", "apellido", "nombre_completo")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "El mensaje no puede estar vacío."),
        ("   \n", "El mensaje no puede estar vacío."),
        (
            "Hola {foo}",
            "Marcador desconocido: {foo}. Use {nombre}, {apellido} o {nombre_completo}.",
        ),
        ("Hola {Nombre}", "Marcador desconocido: {Nombre}."),
        ("Hola {}", "Marcador desconocido: {}."),
        ("Hola {0}", "Marcador desconocido: {0}."),
        ("Hola {nombre", "Llave sin cerrar o sobrante"),
        ("Hola nombre}", "Llave sin cerrar o sobrante"),
        ("Hola {{nombre}}", "Llave sin cerrar o sobrante"),
        ("x" * 1601, "supera el máximo de 1600 caracteres"),
    ],
)
def test_bad_templates_are_refused_with_a_clear_message(text, message):
    with pytest.raises(TemplateError) as caught:
        validate_template(text)
    assert message in str(caught.value)
    with pytest.raises(TemplateError):
        render(text, MARIA)


def test_template_error_is_a_value_error():
    assert issubclass(TemplateError, ValueError)


@pytest.mark.parametrize("text", ["Hola {nombre}", "x" * 1600, "Precio: $100 ¡ya!"])
def test_good_templates_pass(text):
    validate_template(text)
