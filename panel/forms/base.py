"""PanelForm: the base of every form of the app (the panel's, the API's through
panel/forms/binding.py, the import's through ClienteForm), and the text rule they share.

Every text field (StringField and its kinds: text areas, e-mails, passwords, hidden fields)
gets the control-character check as its first validator when the form is built, so no field
definition has to remember it and no later filter (``strip``) hides what was sent: C0 control
characters are refused; tab and line breaks only in multi-line fields (text areas: mensaje,
descripción).
"""

import re

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError

CONTROL_MESSAGE = "Contiene caracteres de control no permitidos."
# C0 controls and DEL; a multi-line field keeps tab, line feed and carriage return. Character
# classes that Python and JSON Schema (ECMA 262) read alike: the API's contract uses them too.
SINGLE_LINE_CONTROLS = r"\x00-\x1f\x7f"
MULTI_LINE_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
SINGLE_LINE_CONTROL = re.compile(f"[{SINGLE_LINE_CONTROLS}]")
MULTI_LINE_CONTROL = re.compile(f"[{MULTI_LINE_CONTROLS}]")


def refused_controls(field) -> str:
    """The character class of the controls this field refuses (a text area keeps line breaks)."""
    return MULTI_LINE_CONTROLS if isinstance(field, TextAreaField) else SINGLE_LINE_CONTROLS


def has_control(text: str, multiline: bool = False) -> bool:
    """Whether ``text`` holds a control character a field of that kind refuses."""
    return bool((MULTI_LINE_CONTROL if multiline else SINGLE_LINE_CONTROL).search(text))


def no_control_characters(form, field) -> None:
    """The field's text as sent (before its filters) holds no control character it refuses."""
    multiline = isinstance(field, TextAreaField)
    for raw in field.raw_data or ():
        if isinstance(raw, str) and has_control(raw, multiline):
            raise ValidationError(CONTROL_MESSAGE)


class PanelMeta(DefaultMeta):
    """Binds each text field with the control-character check first."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [no_control_characters, *field.validators]
        return field


class PanelForm(FlaskForm):
    """Flask-WTF's form (CSRF) with the app's text rule on every text field."""

    class Meta(PanelMeta, FlaskForm.Meta):
        pass
