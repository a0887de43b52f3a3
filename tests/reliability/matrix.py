"""The tenancy attack matrix, generated from the app: every URL rule and every Flask-Admin view,
action, filter, AJAX lookup and export, fired with a victim tenant's ids by another role."""

import io
import zipfile
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask_admin.model import BaseModelView
from werkzeug.routing import IntegerConverter

from .seed import Victim, snapshot

# Victim ids tried per kind: `make test` tries one, so every rule, view, action, filter, lookup
# and export is still attacked by every role against the other tenant; `make reliability` tries 3.
PER_KIND = 1
# Logging out would turn the rest of the run into an anonymous one: it is attacked by nobody.
SKIP_ENDPOINTS = {"static", "admin.static", "auth.logout"}
FORMATS = ("csv", "xlsx")
ARG_KINDS = {
    "id_cliente": "cliente",
    "id_plantilla": "plantilla_sms",
    "campana_id": "campana_sms",
    "token_id": "api_token",
}


@dataclass
class Attack:
    method: str
    url: str
    form: dict | None = None
    json: dict | None = None
    api: bool = False


@dataclass
class Report:
    tried: int = 0
    leaks: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    writes: list = field(default_factory=list)
    seen_markers: int = 0  # for the legitimate role: proves the detector sees data when it is there

    def merge(self, other: "Report") -> None:
        self.tried += other.tried
        self.leaks += other.leaks
        self.errors += other.errors
        self.writes += other.writes
        self.seen_markers += other.seen_markers


def _ids(v: Victim, kind: str | None, n: int) -> list[int]:
    return v.ids[kind][:n] if kind in v.ids else v.all_ids()[:n]


def _hostile_form(v: Victim, n: int) -> dict:
    """A form that names the victim's rows in every field an endpoint might read."""
    cl = v.ids["cliente"][:n]
    return {
        "id": cl[0],
        "rowid": cl,
        "cliente_ids": cl,
        "todos": "",
        "confirmado": "1",
        "id_plantilla": v.ids["plantilla_sms"][0],
        "id_empresa": v.ids["empresa"][0],
        "id_campana": v.ids["campana_publicitaria"][0],
        "mensaje": "Hola {nombre}",
        "nombre": "Ataque",
        "id_usuario": v.ids["usuario"][0],
        "creado_por": v.tenant_id,
        "id_propietario": v.tenant_id,
    }


def _hostile_json(v: Victim, n: int) -> dict:
    cl = v.ids["cliente"][:n]
    return {
        "cliente_ids": cl,
        "mensaje": "Hola {nombre}",
        "nombre_campana": "Ataque",
        "id_plantilla": v.ids["plantilla_sms"][0],
        "id_empresa": v.ids["empresa"][0],
        "id_campana": v.ids["campana_publicitaria"][0],
        "nombre": "Ataque Uno",
        "documento": "5550001111",
        "nombre_cliente": "Ataque",
        "cedula_cliente": "5550001112",
        "telefono": "3001112233",
        "id_usuario": v.ids["usuario"][0],
        "id_propietario": v.tenant_id,
        "estado": 3,
    }


def _string_values(rule, str_args) -> tuple[str, ...]:
    """What a string argument is tried with: an ``any(...)`` converter's own words (e.g. pausar,
    reanudar, cancelar), else the export formats."""
    if not str_args:
        return ("",)
    words = [sorted(rule._converters[a].items) for a in str_args if hasattr(rule._converters.get(a), "items")]
    return tuple(words[0]) if words else FORMATS


def rule_attacks(app, v: Victim, n: int = PER_KIND) -> list[Attack]:
    """Every rule of the URL map × method, its arguments and ``?id=`` filled with victim ids."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        api = rule.endpoint.startswith("api")
        int_args = [a for a, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        str_args = [a for a in rule.arguments if a not in int_args]
        kind = ARG_KINDS.get(int_args[0]) if int_args else None
        for vid in _ids(v, kind, n) if int_args else v.ids["cliente"][:n]:
            for fmt in _string_values(rule, str_args):
                values = {a: vid for a in int_args} | {a: fmt for a in str_args}
                url = rule.build(values, append_unknown=False)[1] + "?" + urlencode({"id": vid, "url": "/"})
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    body = _hostile_json(v, n) if api and method != "GET" else None
                    form = None if method == "GET" or api else _hostile_form(v, n)
                    out.append(Attack(method, url, form=form, json=body, api=api))
    return out


def view_attacks(app, v: Victim, n: int = PER_KIND) -> list[Attack]:
    """Per Flask-Admin model view: list search and filters, details/edit/delete, each action with
    forged rowids and "all matching", AJAX lookups and exports."""
    out = []
    mark = f"Xq{v.tag}"[:-1]  # a prefix: an echo of our own query is not the victim's data
    for view in app.extensions["panel_admin"]._views:
        if not isinstance(view, BaseModelView):
            continue
        base = view.url.rstrip("/")
        ids = _ids(v, view.model.__tablename__, n)
        out.append(Attack("GET", f"{base}/?search={mark}"))
        for i, flt in enumerate(view._filters or ()):
            arg = view.get_filter_arg(i, flt)
            for vid in v.all_ids()[: n * 4]:
                out.append(Attack("GET", f"{base}/?flt0_{arg}={vid}"))
        for vid in ids:
            out += [Attack("GET", f"{base}/details/?id={vid}"), Attack("GET", f"{base}/edit/?id={vid}")]
            fields = (
                {f.name: f"{mark} pwn" for f in view.get_edit_form()() if f.name != "csrf_token"}
                if view.can_edit
                else {}
            )
            out.append(Attack("POST", f"{base}/edit/?id={vid}", form=fields | {"id": vid}))
            out.append(Attack("POST", f"{base}/delete/", form={"id": vid, "url": f"{base}/"}))
            for col in view.column_editable_list or ():
                out.append(Attack("POST", f"{base}/ajax/update/", form={"list_form_pk": vid, col: "1"}))
        for name in view._actions_data:
            out.append(
                Attack("POST", f"{base}/action/", form=_hostile_form(v, n) | {"action": name, "rowid": ids})
            )
            out.append(
                Attack(
                    "POST",
                    f"{base}/action/",
                    form={"action": name, "todos": "1", "confirmado": "1", "filtros": f"search={mark}"},
                )
            )
        for name in getattr(view, "_form_ajax_refs", None) or {}:
            out.append(Attack("GET", f"{base}/ajax/lookup/?name={name}&query={mark}"))
            out.append(Attack("GET", f"{base}/ajax/lookup/?name={name}&query="))
        for fmt in FORMATS:
            out.append(Attack("GET", f"{base}/export/{fmt}/"))
            out.append(Attack("GET", f"{base}/export/{fmt}/?search={mark}"))
    return out


def body_text(response) -> str:
    """The response as text; an XLSX is unzipped so its cells can be searched."""
    data = response.get_data()
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        except zipfile.BadZipFile:
            pass
    return data.decode("utf-8", "replace")


def fire(client, attacks, v: Victim, csrf: str, token: str | None, legit: bool = False) -> Report:
    """Send every attack; a victim marker in an answer is a leak, a 5xx an error."""
    rep = Report()
    for a in attacks:
        variants = [{"X-CSRFToken": csrf}]
        if a.api and token:
            variants.append({"Authorization": f"Token {token}"})
        for headers in variants:
            form = None if a.form is None else a.form | {"csrf_token": csrf}
            resp = client.open(a.url, method=a.method, data=form, json=a.json, headers=headers, buffered=True)
            rep.tried += 1
            found = v.leaked(body_text(resp))
            if resp.status_code >= 500:
                rep.errors.append((a.method, a.url, resp.status_code))
            if found and legit:
                rep.seen_markers += 1
            elif found:
                rep.leaks.append((a.method, a.url, resp.status_code, found[:3]))
    return rep


def attack(
    client, app, v: Victim, csrf: str, token: str | None, legit: bool = False, n: int = PER_KIND
) -> Report:
    """The whole matrix for one role against one victim, with a before/after snapshot of its rows."""
    before = snapshot(v)
    rep = fire(client, rule_attacks(app, v, n) + view_attacks(app, v, n), v, csrf, token, legit)
    after = snapshot(v)
    if not legit:
        rep.writes = [t for t in before if before[t] != after.get(t)]
    return rep
