"""The fast list of every model view: the capped count (``counting.py``) folded into the rows'
statement unless a cached estimate stands in (a short page is the end of the list and counts
itself), one ``url_for`` per request for the sort and pager links, pages clamped, filter choice
lists built per request (the user's tenant's rows)."""

from urllib.parse import quote, urlencode

import sqlalchemy as sa
from flask import g
from flask_admin.model.filters import BaseFilter

from .counting import CappedCount

MAX_PAGE = 1_000_000
URL_SAFE = "!$'()*,/:;?@"  # what Werkzeug leaves unquoted in a query string, as url_for does


def counted_from_rows(rows: int, page: int, size: int) -> int | None:
    """The list's exact length when the page fetched shows it: a page shorter than its size
    (or no size at all) holds the last rows; an empty first page, none. None: not known."""
    if not size:
        return rows
    if rows < size and (rows or not page):
        return page * size + rows
    return None


class FastListMixin:
    """Mixed into ``TenantModelView`` before Flask-Admin's ``ModelView``."""

    def get_count_query(self):
        return CappedCount(super().get_count_query(), self.count_cap)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's list, counted in the rows' own statement. A cached inexact count
        ("unos N", "más de N") is used as it is; otherwise the capped count rides along as one
        more column of the rows' SELECT (``CappedCount.folded``). A page shorter than its size
        is the end of the list, so its count is the rows before it plus its own; a full page
        takes the folded count. Only an empty page after the first, which says nothing, runs
        the count on its own."""
        args = (page, sort_column, sort_desc, search, filters)
        if not execute:
            return super().get_list(*args, execute=False, page_size=page_size)
        g.counts_later = later = []
        try:
            _, query = super().get_list(*args, execute=False, page_size=page_size)
        finally:
            g.pop("counts_later", None)
        query = self.list_rows(query)
        if not later:
            return None, query.all()  # simple pager: no count at all
        counter: CappedCount = later[0]
        cached = counter.cached()
        if cached is not None:
            rows, folded = query.all(), None
        else:
            fetched = query.add_columns(counter.folded()).all()
            rows, folded = [r[0] for r in fetched], (fetched[0][1] if fetched else None)
        size = self.page_size if page_size is None else page_size
        known = counted_from_rows(len(rows), page or 0, size)
        if known is not None and known <= counter.exact_limit:
            return known, rows
        if cached is not None:
            return counter.shown(cached), rows
        return (counter.scalar() if folded is None else counter.settle(folded)), rows

    def _apply_pagination(self, query, page, page_size):
        """Flask-Admin's LIMIT and OFFSET, written into the SQL as numbers, not sent as parameters:
        PostgreSQL then keeps one plan for a page's prepared statement (a plan made for an unknown
        LIMIT does not suit 20 rows, so it planned the rows again on every page, ~0.1–0.3 ms)."""
        size = self.page_size if page_size is None else page_size
        if size:
            query = query.limit(sa.literal(int(size), literal_execute=True))
        if page and size:
            query = query.offset(sa.literal(int(page) * int(size), literal_execute=True))
        return query

    def list_rows(self, query):
        """The page's rows' query, for a view to trim what its list does not show."""
        return query

    def _get_list_url(self, view_args) -> str:
        """Flask-Admin's list URL (same arguments, same order), with one ``url_for`` per request
        instead of one per link: a list page has a sort link per column and a pager link per page."""
        args = {
            "page": view_args.page or None,
            "sort": view_args.sort,
            "desc": 1 if view_args.sort_desc else None,
            "search": view_args.search,
            **view_args.extra_args,
            "page_size": self.get_safe_page_size(view_args.page_size),
            **self._get_filters(view_args.filters),
        }
        query = urlencode([(k, v) for k, v in args.items() if v is not None], quote_via=quote, safe=URL_SAFE)
        return self._index_url() + ("?" + query if query else "")

    def _index_url(self) -> str:
        key = f"index_url:{self.endpoint}"
        if key not in g:
            g.setdefault(key, self.get_url(".index_view"))
        return g.get(key)

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), MAX_PAGE)  # negative or absurd pages: clamp
        return args

    def _get_filter_groups(self):
        """Filter choice lists built per request, so they are the user's tenant's rows."""
        groups: dict[str, list] = {}
        for i, flt in enumerate(self._filters or []):
            options = flt.get_options(self) if isinstance(flt, BaseFilter) else None
            groups.setdefault(str(flt.name), []).append(
                {
                    "index": i,
                    "arg": self.get_filter_arg(i, flt),
                    "operation": str(flt.operation()),
                    "options": [(str(k), str(v)) for k, v in options] if options else None,
                    "type": flt.data_type,
                }
            )
        return groups or None
