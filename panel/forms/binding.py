"""Binding a JSON body to a WTForms form, so the API validates with the panel's own forms."""

from datetime import date

from werkzeug.datastructures import MultiDict


def as_formdata(value) -> str:
    """How a type-checked JSON value is typed into the form."""
    if value is None or value is False:
        return ""  # an unchecked checkbox sends nothing
    if value is True:
        return "y"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def bind(form_class, values: dict, obj=None, **kwargs):
    """A ``form_class`` holding ``values`` exactly as if they had been typed in the panel (the
    API authenticates by token or checks CSRF itself, so the form's own CSRF is off), save
    dates: ISO 8601 only, as the OpenAPI document says (``forms/fechas.py``), never dd/mm/aaaa."""
    formdata = MultiDict({name: as_formdata(value) for name, value in values.items()})
    return form_class(formdata=formdata, obj=obj, meta={"csrf": False, "iso_dates": True}, **kwargs)
