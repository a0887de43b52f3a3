"""Tracked links (SPEC §20): with "Acortar y medir enlaces", every http(s) URL of a message
becomes, per recipient, ``PUBLIC_BASE_URL/l/<codigo>``; a visit is counted and sent on.

The plan (``planning.plan``) splits each distinct text around its URLs once (``split``): its
``mensaje`` then holds stand-ins exactly as long as the short links, so the segments, the
encoding and the review count what will leave before any code exists. The outbox
(``outbox.create_campaign``) gives every sendable recipient its own codes (``assign``): one
set-based insert per chunk of link rows, then each recipient's text with its links.

Codes are 8 characters of ``ALFABETO`` drawn with ``secrets`` (62⁸ ≈ 2·10¹⁴: unguessable),
unique across every tenant (a unique index; a chunk that collides is drawn again).
"""

import re
import secrets
import string
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from .. import tenancy
from ..extensions import db
from ..models import utcnow
from ..models.enlaces import LARGO_CODIGO, EnlaceSMS

ALFABETO = string.ascii_letters + string.digits
CODIGO = re.compile(f"[{re.escape(ALFABETO)}]{{{LARGO_CODIGO}}}")
RUTA = "/l/"
# A stand-in of the code's length and weight (one GSM-7 septet, one UCS-2 unit per character).
RELLENO = "x" * LARGO_CODIGO
# An http(s) URL runs to the next blank; what ends a sentence after it is not part of it.
URL = re.compile(r"https?://\S+", re.IGNORECASE)
FINALES = ".,;:!?¡¿…»\"'"
PARES = {")": "(", "]": "[", "}": "{"}
CHUNK = 5_000
INTENTOS = 5  # draws of a chunk's codes before giving up (a collision is ~1 in 10⁹ per chunk)
LINKS = EnlaceSMS.__table__


class Acortado(NamedTuple):
    """A text cut around its URLs: ``partes`` has one more item than ``urls``."""

    partes: tuple[str, ...]
    urls: tuple[str, ...]
    base: str  # PUBLIC_BASE_URL/l/

    def with_codes(self, codigos) -> str:
        """The text with each URL replaced by its short link, in order."""
        links = [self.base + c for c in codigos]
        return "".join(p + link for p, link in zip(self.partes, links, strict=False)) + self.partes[-1]

    @property
    def muestra(self) -> str:
        """The text as the review shows and counts it: every link at its final length."""
        return self.with_codes([RELLENO] * len(self.urls))


def base_url() -> str | None:
    """Where short links point: PUBLIC_BASE_URL, else the address this request came to (the
    panel's own); None outside a request without the setting."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        base = request.host_url
    return base.rstrip("/") + RUTA if base else None


def _end_of(url: str) -> int:
    """How much of a matched URL is the URL: trailing sentence punctuation and unmatched closing
    brackets are the text's («(ver https://x.co/a)» keeps its «)»)."""
    end = len(url)
    while end:
        last = url[end - 1]
        if last in FINALES or (last in PARES and url[:end].count(PARES[last]) < url[:end].count(last)):
            end -= 1
        else:
            break
    return end


def _is_link(url: str) -> bool:
    """A URL with a host: «https://» alone or «http://:80» stays as written."""
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # e.g. an invalid IPv6 literal
        return False


def split(text: str, base: str) -> Acortado | None:
    """``text`` cut around its http(s) URLs, or None when it has none."""
    partes, urls, start = [], [], 0
    for found in URL.finditer(text):
        url = found.group()[: _end_of(found.group())]
        if not _is_link(url):
            continue
        partes.append(text[start : found.start()])
        urls.append(url)
        start = found.start() + len(url)
    if not urls:
        return None
    partes.append(text[start:])
    return Acortado(tuple(partes), tuple(urls), base)


def new_codes(n: int) -> list[str]:
    """``n`` distinct codes from a CSPRNG."""
    codes: set[str] = set()
    while len(codes) < n:
        codes.add("".join(secrets.choice(ALFABETO) for _ in range(LARGO_CODIGO)))
    return list(codes)


def assign(campana_id: int, tenant: int, rows: list) -> list:
    """The plan's rows (``planning.Destinatario``) with each recipient's own short links in its
    text; the link rows are written (in the caller's transaction) before the log rows that
    carry their codes."""
    tracked = [i for i, r in enumerate(rows) if r.contenido.acortado]
    if not tracked:
        return rows
    out = list(rows)
    for start in range(0, len(tracked), CHUNK):
        chunk = [rows[i] for i in tracked[start : start + CHUNK]]
        codes = _write(campana_id, tenant, chunk)
        for i, r in zip(tracked[start : start + CHUNK], chunk, strict=True):
            acortado = r.contenido.acortado
            texto = acortado.with_codes([next(codes) for _ in acortado.urls])
            out[i] = r._replace(contenido=r.contenido._replace(mensaje=texto, acortado=None))
    return out


def _write(campana_id: int, tenant: int, chunk: list) -> Iterator[str]:
    """Insert the chunk's link rows, set-based, under a savepoint: a code another campaign holds
    (the unique index) draws the chunk's codes again. The codes, in the rows' URL order."""
    links = [(r.id_cliente, url) for r in chunk for url in r.contenido.acortado.urls]
    fixed = {"id_propietario": tenant, "id_campana": campana_id, "clics": 0, "creado": utcnow()}
    write = _insert_unnest if db.session.get_bind().dialect.name == "postgresql" else _insert_many
    for attempt in range(INTENTOS):
        codes = new_codes(len(links))
        try:
            with db.session.begin_nested():
                write(links, codes, fixed)
        except IntegrityError:
            if attempt == INTENTOS - 1:
                raise
            continue
        return iter(codes)
    raise AssertionError("unreachable")


def _insert_many(links: list[tuple[int, str]], codes: list[str], fixed: dict) -> None:
    """SQLite: one executemany of the chunk."""
    pairs = zip(links, codes, strict=True)
    rows = [fixed | {"id_cliente": c, "url": url, "codigo": code} for (c, url), code in pairs]
    db.session.execute(LINKS.insert(), rows)


def _insert_unnest(links: list[tuple[int, str]], codes: list[str], fixed: dict) -> None:
    """PostgreSQL: one INSERT … SELECT FROM unnest(arrays) of the chunk (psycopg would send an
    executemany as one INSERT per row)."""
    stmt = sa.text(
        "INSERT INTO enlace_sms (id_propietario, id_campana, clics, creado, id_cliente, url, codigo) "
        "SELECT :id_propietario, :id_campana, :clics, :creado, u.id_cliente, u.url, u.codigo "
        "FROM unnest(:clientes, :urls, :codigos) AS u(id_cliente, url, codigo)"
    ).bindparams(
        sa.bindparam("clientes", type_=ARRAY(sa.Integer)),
        sa.bindparam("urls", type_=ARRAY(sa.Text)),
        sa.bindparam("codigos", type_=ARRAY(sa.String)),
        sa.bindparam("creado", type_=sa.DateTime),
    )
    params = fixed | {"clientes": [c for c, _ in links], "urls": [u for _, u in links], "codigos": codes}
    db.session.execute(stmt, params)


def visit(codigo: str, count: bool = True) -> str | None:
    """The URL behind ``codigo`` (None if there is none), counting the click when ``count``.

    A visitor has no tenant, so this reads under every tenant's scope (as the Twilio webhooks
    do) — but only ever one row: a malformed code never reaches the database, and the one
    statement is keyed on the unique code. Nothing of the visitor is written, only the time."""
    if not CODIGO.fullmatch(codigo or ""):
        return None
    with tenancy.using(tenancy.EVERY_TENANT), db.engine.begin() as conn:
        if not count:
            return conn.scalar(sa.select(LINKS.c.url).where(LINKS.c.codigo == codigo))
        now = utcnow()
        stmt = (
            LINKS.update()
            .where(LINKS.c.codigo == codigo)
            .values(clics=LINKS.c.clics + 1, primer_clic=sa.func.coalesce(LINKS.c.primer_clic, now))
            .values(ultimo_clic=now)
            .returning(LINKS.c.url)
        )
        return conn.scalar(stmt)


def _unicos():
    """Recipients with at least one click (the one definition of "únicos")."""
    return sa.func.count(sa.distinct(EnlaceSMS.id_cliente)).filter(EnlaceSMS.clics > 0)


def clics(campana_id: int) -> tuple[int, int]:
    """A campaign's clicks: (unique: recipients with at least one click, total). The tenancy hook
    scopes the query: another tenant's campaign reads (0, 0)."""
    e = EnlaceSMS
    stmt = sa.select(_unicos(), sa.func.coalesce(sa.func.sum(e.clics), 0)).where(e.id_campana == campana_id)
    found, total = db.session.execute(stmt).one()
    return int(found), int(total)


def clics_unicos(campana_id) -> sa.ColumnElement:
    """The unique clicks of ``campana_id`` (a column, e.g. ``CampanaSMS.id``: correlated) as an SQL
    expression for the campaign results; NULL when the campaign had no tracked links ("—")."""
    con_enlaces = sa.exists().where(EnlaceSMS.id_campana == campana_id)
    unicos = sa.select(_unicos()).where(EnlaceSMS.id_campana == campana_id).scalar_subquery()
    return sa.case((con_enlaces, unicos), else_=sa.null())


def clicked(campana_id: int):
    """The campaign's recipients who opened one of its links (a subquery of client ids): the
    campaign page's "Solo quienes hicieron clic"."""
    e = EnlaceSMS
    return sa.select(e.id_cliente).where(e.id_campana == campana_id, e.clics > 0)


def clics_por_cliente(campana_id: int, clientes: list[int]) -> dict[int, int]:
    """Each of these recipients' clicks on the campaign's links (those with none are absent)."""
    if not clientes:
        return {}
    e = EnlaceSMS
    stmt = (
        sa.select(e.id_cliente, sa.func.sum(e.clics))
        .where(e.id_campana == campana_id, e.id_cliente.in_(clientes), e.clics > 0)
        .group_by(e.id_cliente)
    )
    return {cliente: int(n) for cliente, n in db.session.execute(stmt)}
