"""The ciudad as you type: 1,123 municipios are searched (DANE's DIVIPOLA), never listed in a page.

One loader serves the client form's field and the list's Ciudad filter (Flask-Admin's
``/ajax/lookup/`` of the Clientes view). Ciudades are shared reference data: every tenant
searches the same list, so the lookup reveals nothing of another tenant.
"""

from flask_admin.model.ajax import AjaxModelLoader

from ... import municipios
from ...extensions import db
from ...ids import as_id
from ...models import Ciudad

PAGE = 10  # what form.js asks for; a longer ``limit`` is cut to this


class CiudadAjax(AjaxModelLoader):
    def __init__(self, name: str = "id_ciudad") -> None:
        super().__init__(name, {})

    def format(self, lugar):
        if lugar is None:
            return None
        return (lugar.id, lugar.etiqueta)

    def get_one(self, pk):
        number = as_id(pk)
        return None if number is None else db.session.get(Ciudad, number)

    def get_list(self, query, offset=0, limit=PAGE):
        return municipios.indice().search(
            query or "", limit=min(limit or PAGE, PAGE), offset=max(offset or 0, 0)
        )


def labels_of(ids, etiqueta) -> dict[str, str]:
    """{id: etiqueta(city)} of the few cities a page names (an active filter): not all of them.
    The list's ``etiqueta`` names the departamento without loading it (its rows' cities leave it
    unloaded: reading it would be one more statement)."""
    numbers = {n for n in (as_id(i) for i in ids) if n is not None}
    return {str(c.id): etiqueta(c) for c in (db.session.get(Ciudad, n) for n in numbers) if c is not None}
