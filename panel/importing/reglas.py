"""``ClienteForm``'s rules run on an import's rows: the form's own fields, filters, coercions and
validators — the one rule, nothing copied — called in the order ``Form.process`` and
``Form.validate`` call them, without the generic work WTForms repeats on every call (a MultiDict
per row, each field's default computed again, the ``filter_<name>``/``validate_<name>`` look-ups,
the validators' type checks, the datalist refresh). Half the CPU of a 100,000-row preview was
that repeated work (docs/performance.md, B6 second pass).

The plan is made once from a bound form: what changes the form's rules changes this plan with
it. ``tests/test_import_reglas.py`` runs both paths over the hostile and real-world corpus and
asserts the same data and the same errors, field by field.
"""

from dataclasses import dataclass

from wtforms.fields.core import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError


@dataclass(frozen=True)
class _Paso:
    """One field's steps, prepared once."""

    name: str
    field: Field
    object_data: object  # the field's default, as ``Field.process`` passes it to process_data
    data: object  # what process_data made of it
    errors: tuple  # and the errors it raised (none for ClienteForm's defaults)
    filters: tuple
    chain: tuple  # the field's validators, then the form's validate_<name>
    pre: bool  # the field's class has its own pre_validate (Field's does nothing)
    post: bool  # and its own post_validate


class Reglas:
    """A bound form's process + validate for one row of input at a time."""

    def __init__(self, form):
        if form._prefix:  # an import's form has none: names are the inputs' keys
            raise ValueError("Reglas: a form with a prefix is not supported")
        self.form = form
        self.pasos = tuple(self._paso(name, field) for name, field in form._fields.items())

    def _paso(self, name: str, field: Field) -> _Paso:
        if field._datalist is not None:  # post_process would refresh it: not a ClienteForm field
            raise ValueError(f"Reglas: field {name} has a datalist")
        form = self.form
        field.process_errors = []  # Field.process's first half: the default, before any input
        try:
            default = field.default()
        except TypeError:
            default = field.default
        field.object_data = default
        try:
            field.process_data(default)
        except ValueError as e:
            field.process_errors.append(e.args[0])
        inline = getattr(type(form), f"validate_{name}", None)
        filter_inline = getattr(form, f"filter_{name}", None)
        return _Paso(
            name=name,
            field=field,
            object_data=field.object_data,
            data=field.data,
            errors=tuple(field.process_errors),
            filters=tuple(field.filters) + ((filter_inline,) if filter_inline else ()),
            chain=tuple(field.validators) + ((inline,) if inline else ()),
            pre=type(field).pre_validate is not Field.pre_validate,
            post=type(field).post_validate is not Field.post_validate,
        )

    def validate(self, inputs: dict[str, str]) -> bool:
        """``form.process(MultiDict(inputs)); form.validate()``: the fields hold the same data,
        raw_data and errors afterwards; True when no field has an error."""
        for paso in self.pasos:
            _process(paso, inputs.get(paso.name, unset_value))
        form, ok = self.form, True
        for paso in self.pasos:
            ok = _validate(paso, form) and ok
        return ok


def _process(paso: _Paso, raw) -> None:
    """``Field.process`` for a form input of one value (or none)."""
    field = paso.field
    field.process_errors = list(paso.errors)
    field.object_data = paso.object_data
    field.data = paso.data
    field.raw_data = [] if raw is unset_value else [raw]
    try:
        field.process_formdata(field.raw_data)
    except ValueError as e:
        field.process_errors.append(e.args[0])
    try:
        for f in paso.filters:
            field.data = f(field.data)
    except ValueError as e:
        field.process_errors.append(e.args[0])


def _validate(paso: _Paso, form) -> bool:
    """``Field.validate`` with the form's inline validator as its extra one."""
    field = paso.field
    field.errors = list(field.process_errors)
    stop = False
    try:
        if paso.pre:
            field.pre_validate(form)
    except StopValidation as e:
        if e.args and e.args[0]:
            field.errors.append(e.args[0])
        stop = True
    except ValidationError as e:
        field.errors.append(e.args[0])
    if not stop:
        for validator in paso.chain:
            try:
                validator(form, field)
            except StopValidation as e:
                if e.args and e.args[0]:
                    field.errors.append(e.args[0])
                stop = True
                break
            except ValidationError as e:
                field.errors.append(e.args[0])
    try:
        if paso.post:
            field.post_validate(form, stop)
    except ValidationError as e:
        field.errors.append(e.args[0])
    return not field.errors
