"""CoreData (coredata.is, by Wise): API v2, a django-tastypie API.

Spec: seed ``004`` (CoreData API v2) and docs/notes/coredata-api.md. What the API can filter, and so what we push:

* ``title`` (= and ``LIKE 'prefix%'`` as ``title__startswith``) on contacts, files, projects, tasks;
  ``identifier`` likewise on contacts and projects (seed: contacts by SSN; docs/notes/coredata-api.md response example
  shows projects carrying an identifier). On projects it is SUPERSET (sent, re-checked locally) unless
  the ``project_identifier`` option says the instance honours it: tastypie ignores a filter on a field
  it does not know, so an instance without it would answer every project (issue 13).
  Django's exact/startswith lookups are case-sensitive on
  PostgreSQL; the ``case_sensitive_text`` option (default on) says so, off makes them SUPERSET.
  A general LIKE sends its leading literal as ``__startswith`` (SUPERSET, re-checked locally).
* ``parent`` (=) on files.
* ``associated_contacts_id`` (=) on projects, files and tasks (seed, "Filtering by Contact"). It is
  not a field of the records, so it is a *filter-only* column: it can be compared with ``=`` and
  selected (its value is the filter's), nothing else.
* ``created``/``modified`` ranges as ``__gt/__gte/__lt/__lte`` (seed, "Filtering by creation or
  modification date"). Several bounds are merged into the tightest one per parameter because
  Django reads only the *last* value of a repeated query parameter. ``__range`` is never sent: the
  seed calls it "(excluding)" in one place while tastypie's ``range`` is inclusive.

Everything else (OR, NOT, IN, <>, IS NULL, ILIKE) is evaluated by DuckDB. Sorting (``order_by``)
is unconfirmed (docs/notes/coredata-api.md "Ordering"); the ``order_by`` option enables it for the timestamp
columns only, since text sorts by the server's collation, which is not DuckDB's byte order.
Paging is ``limit``/``offset`` with ``meta.total_count``; tastypie clamps ``limit`` to its
``max_limit`` (1000 by default) and the fetcher detects a smaller clamp from the first page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pyarrow as pa

from dialect._base import NOT_SENT, AuthPlan, ColumnDef, Dialect, Discovery, Secret, TableDef, Translated
from lowcode_sql.errors import DialectError
from lowcode_sql.ir import Cmp, Exactness, Like, Op, Pred
from lowcode_sql.requests import HttpRequest, OffsetPaging, Page, ScanRequest
from lowcode_sql.scanspec import ScanSpec, SortKey

__all__ = ["CoreData"]

_TS = pa.timestamp("us")
_STR = pa.string()
_DYNATYPE = pa.struct([("id", _STR), ("title", _STR), ("caption_singular", _STR), ("caption_plural", _STR)])


def _c(name: str, typ: pa.DataType = _STR, doc: str = "", **kw: Any) -> ColumnDef:
    return ColumnDef(name, typ, doc=doc, **kw)


# Fields every object has (seed, "Endpoint response format" and the spaces example; field sets
# as in the real responses kept in koddsson/coredata-python-client tests/json, docs/notes/coredata-api.md).
_COMMON = (
    _c("id", doc="UUID; always the same for an object"),
    _c("snapshot_id", doc="UUID; changes every time the object changes"),
    _c("type", doc="object type name, e.g. Contact"),
    _c("title"),
    _c("description"),
    _c("created", _TS, "creation time (naive ISO text on the wire)", parse="iso"),
    _c("modified", _TS, "last modification time (naive ISO text on the wire)", parse="iso"),
    _c("created_by"),
    _c("modified_by"),
    _c("tags", pa.list_(_STR)),
    _c("dynatype", _DYNATYPE, "the object's dynamic type"),
    _c("version"),
    _c("resource_uri"),
)
_REF = pa.struct([("id", _STR), ("title", _STR)])
_PROJECT_REF = pa.struct([("id", _STR), ("identifier", _STR), ("title", _STR)])
_USER = pa.struct([("first_name", _STR), ("last_name", _STR), ("username", _STR)])
# seed "Filtering by Contact": a filter, not a field of every record; as a column it holds the
# value it was filtered on (NULL when the query does not filter on it).
_ASSOC = _c("associated_contacts_id", doc="filter only: = '<contact id>' selects objects associated with "
            "that contact; NULL unless filtered", filter_only=True)
_WORK = (_c("status"), _c("status_message"), _c("due_date", _TS, parse="iso"), _c("space", _REF),
         _c("contacts", pa.list_(_REF)), _c("connected_users", pa.list_(_STR)),
         _c("responsible_users", pa.list_(_USER)))

_TABLES: dict[str, tuple[ColumnDef, ...]] = {
    "projects": (*_COMMON, _c("identifier"), *_WORK, _ASSOC),
    "tasks": (*_COMMON, *_WORK, _c("project", _PROJECT_REF), _ASSOC),
    "files": (*_COMMON, _c("parent", doc="UUID of the folder"), _c("filename"), _c("mime_type"),
              _c("size", pa.int64()), _c("digest"), _c("category"), _c("project", _PROJECT_REF),
              _c("space", _REF), _ASSOC),
    "contacts": (*_COMMON, _c("identifier", doc="e.g. a national id number (SSN)"),
                 _c("emails", pa.list_(pa.struct([("email", _STR), ("label", _STR)]))),
                 _c("phones", pa.list_(pa.struct([("label", _STR), ("number", _STR)]))),
                 _c("organization", _REF), _c("role"), _c("status")),
    "spaces": (*_COMMON, _c("is_hidden", pa.bool_()), _c("path"), _c("status"), _c("template")),
}

# The filterable fields per resource (seed, "Filtering").
_TEXT_FILTERS = {
    "projects": ("title", "identifier"),
    "files": ("title",),
    "contacts": ("title", "identifier"),
    "tasks": ("title",),
    "spaces": (),
}
_EQ_FILTERS = {"files": ("parent", "associated_contacts_id"), "projects": ("associated_contacts_id",),
               "tasks": ("associated_contacts_id",)}
_DATE_FILTERS = {"projects", "files", "contacts", "tasks"}  # seed: "works for ... these endpoints"
_SORTABLE = ("created", "modified")


def _pushable(table: str) -> dict[str, frozenset[str]]:
    """What ``classify`` may send for ``table``: the filterable fields above, with their operators."""
    out = {c: frozenset({"=", "LIKE"}) for c in _TEXT_FILTERS.get(table, ())}
    out.update((c, frozenset({"="})) for c in _EQ_FILTERS.get(table, ()))
    if table in _DATE_FILTERS:
        out.update((c, frozenset({"=", "<", "<=", ">", ">="})) for c in ("created", "modified"))
    return out

# tastypie's filter_value_to_python turns these whole values into True/False/None before Django
# sees them (title=None means IS NULL, title=true matches "True"): such values stay local.
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TASTYPIE_WORDS = frozenset({"true", "True", "false", "False", "nil", "none", "None"})


class CoreData(Dialect):
    name = "coredata"
    title = "CoreData (Wise) API v2"
    CREDENTIALS = {"user": "API user name", "key": "API key"}
    OPTIONS = {
        "case_sensitive_text": (True, "title/identifier filters compare case-sensitively (Django on "
                                      "PostgreSQL); set false if your instance matches case-insensitively"),
        "order_by": (False, "the instance accepts tastypie's order_by on created/modified"),
        "page_size": (1000, "rows requested per page (tastypie clamps to its max_limit; a smaller clamp "
                            "is detected from the first page)"),
        "max_limit": (None, "the instance's max_limit (tastypie's default is 1000; CoreData's is unconfirmed)"),
        "exact_suffix": (False, "write equality filters as field__exact=v instead of field=v"),
        "project_identifier": (False, "the instance filters projects by identifier (you checked it, or "
                                      "`lowcode-sql probe` did); until then such a filter is sent but "
                                      "re-checked locally, since tastypie ignores a filter on a field it "
                                      "does not know"),
    }

    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan:
        try:
            user, key = credentials["user"], credentials["key"]
        except KeyError as e:
            raise DialectError(f"coredata needs the credential {e.args[0]!r} (API user and API key)") from None
        # seed, "Authentication": Authorization: apikey $API_USER:$API_KEY
        return AuthPlan(headers=(("Authorization", Secret(f"apikey {user.reveal()}:{key.reveal()}")),))

    def discover(self) -> Discovery:
        return [TableDef(name, cols, doc=f"/api/v2/{name}/", key="id", pushable=_pushable(name))
                for name, cols in _TABLES.items()]
        yield  # pragma: no cover - a fixed set of resources: no discovery requests

    # --- pushdown -----------------------------------------------------------------------------

    def translate_one(self, table: TableDef, pred: Pred) -> Translated:
        """A conjunct as query parameters ``((name, value), ...)``; a date bound as ``_Bound``s, merged
        with the others at render time (never a repeated parameter)."""
        name = table.name
        text_exact = Exactness.EXACT if self.options["case_sensitive_text"] else Exactness.SUPERSET
        if isinstance(value := getattr(pred, "value", None), str) and value in _TASTYPIE_WORDS:
            return NOT_SENT
        if isinstance(pred, Like) and any(isinstance(p, str) and p in _TASTYPIE_WORDS for p in pred.pattern.parts[:1]):
            return NOT_SENT
        if isinstance(pred, Cmp):
            col = pred.column
            if pred.op is Op.EQ and col in _TEXT_FILTERS.get(name, ()) and isinstance(pred.value, str):
                return Translated(self._unconfirmed(name, col, text_exact), ((self._eq_key(col), pred.value),))
            if pred.op is Op.EQ and col in _EQ_FILTERS.get(name, ()) and isinstance(pred.value, str):
                # the API validates and normalises uuids (case, dashes); SQL compares text exactly
                if _UUID.match(pred.value):
                    return Translated(Exactness.EXACT, ((self._eq_key(col), pred.value),))
                return NOT_SENT
            if col in ("created", "modified") and name in _DATE_FILTERS and isinstance(pred.value, dt.datetime):
                if pred.op is Op.NE or pred.value.tzinfo is not None:
                    return NOT_SENT
                bounds = [_Bound(col, op is not Op.LT and op is not Op.LE, pred.value, op not in (Op.GT, Op.LT))
                          for op in ((Op.GE, Op.LE) if pred.op is Op.EQ else (pred.op,))]
                return Translated(Exactness.EXACT, tuple(bounds))
        if (isinstance(pred, Like) and not pred.negated and not pred.case_insensitive
                and pred.column in _TEXT_FILTERS.get(name, ())):
            col, literal = pred.column, pred.pattern.literal()
            if literal is not None:
                return Translated(self._unconfirmed(name, col, text_exact), ((self._eq_key(col), literal),))
            if pred.pattern.prefix():
                return Translated(self._unconfirmed(name, col, text_exact),
                                  ((col + "__startswith", pred.pattern.prefix()),))
            if pred.pattern.leading_literal():
                return Translated(Exactness.SUPERSET, ((col + "__startswith", pred.pattern.leading_literal()),))
        return NOT_SENT

    def settle(self, table: TableDef, conjuncts: Sequence[Pred], translated: list[Translated]) -> list[Translated]:
        # Django keeps only the last value of a repeated parameter: the first conjunct to use one keeps it
        used: set[str] = set()
        out = []
        for t in translated:
            names = {item[0] for item in t.sent or () if not isinstance(item, _Bound)}
            if names & used:
                t = NOT_SENT
            used |= names
            out.append(t)
        return out

    def _unconfirmed(self, table: str, column: str, exactness: Exactness) -> Exactness:
        """SUPERSET for a filter the seed does not confirm: ``identifier`` on projects appears only in
        an example response (docs/notes/coredata-api.md), and tastypie silently ignores a filter on a field it does
        not know ("Move along citizen"), which would return every project as if it matched."""
        if table == "projects" and column == "identifier" and not self.options["project_identifier"]:
            return Exactness.SUPERSET
        return exactness

    def can_sort(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        # PostgreSQL puts NULLs last ascending and first descending; DuckDB last unless told.
        # `created` is never NULL; `modified` may be, so its NULL placement must agree.
        return bool(self.options["order_by"]) and all(
            k.column in _SORTABLE and (k.column == "created" or k.nulls_first == k.descending) for k in keys
        )

    # --- rendering ----------------------------------------------------------------------------

    def render_scan(self, table: TableDef, spec: ScanSpec) -> ScanRequest:
        params: list[tuple[str, str]] = []
        notes: list[str] = []
        lower: dict[str, tuple[dt.datetime, bool]] = {}  # column -> (bound, inclusive)
        upper: dict[str, tuple[dt.datetime, bool]] = {}
        for _, sent in self.translate_pushed(table, spec):
            for item in sent:
                if isinstance(item, _Bound):
                    _tighten(lower if item.lower else upper, item.column, item.value, item.inclusive,
                             (lambda a, b: a > b) if item.lower else (lambda a, b: a < b))
                else:
                    params.append(item)
        for col, (v, inclusive) in lower.items():
            params.append((f"{col}__{'gte' if inclusive else 'gt'}", _iso(v)))
        for col, (v, inclusive) in upper.items():
            params.append((f"{col}__{'lte' if inclusive else 'lt'}", _iso(v)))
        for key in spec.order:
            params.append(("order_by", ("-" if key.descending else "") + key.column))
        page_size = int(self.options["page_size"])
        if self.options["max_limit"]:
            page_size = min(page_size, int(self.options["max_limit"]))
        if spec.limit is not None:
            page_size = max(1, min(page_size, spec.limit))
        paging = OffsetPaging("offset", "limit", page_size, start=spec.offset, max_rows=spec.limit)
        return ScanRequest(HttpRequest("GET", f"api/v2/{table.name}/", tuple(params)), paging, tuple(notes))

    def _eq_key(self, column: str) -> str:
        # tastypie accepts both `field=v` and `field__exact=v`
        # (docs/notes/coredata-api.md date table, "none (or __exact)")
        return column + "__exact" if self.options["exact_suffix"] else column

    def parse_page(self, table: TableDef, body: Any) -> Page:
        if not isinstance(body, dict) or not isinstance(body.get("objects"), list):
            raise DialectError(f"coredata {table.name}: expected a JSON object with 'objects', got {_kind(body)}")
        meta = body.get("meta") or {}
        total = meta.get("total_count")
        return Page(body["objects"], total if isinstance(total, int) else None)

    def page_layout(self, table: TableDef, request: ScanRequest) -> tuple[str, tuple[str, ...]] | None:
        """``parse_page`` below, as data (``Dialect.page_layout``)."""
        return ("objects", ("meta", "total_count"))

    def echo_values(self, spec: ScanSpec) -> dict[str, Any]:
        """Values of filter-only columns: the pushed equality's value."""
        return {p.column: p.value for p, _ in spec.pushed
                if isinstance(p, Cmp) and p.column == "associated_contacts_id" and p.op is Op.EQ}


class _Bound(NamedTuple):
    """One side of a ``created``/``modified`` range: ``column__gt[e]`` (lower) or ``__lt[e]``."""

    column: str
    lower: bool
    value: dt.datetime
    inclusive: bool


def _tighten(bounds: dict[str, tuple[dt.datetime, bool]], col: str, v: dt.datetime, inclusive: bool,
             tighter: Any) -> None:
    old = bounds.get(col)
    if old is None or tighter(v, old[0]) or (v == old[0] and not inclusive):
        bounds[col] = (v, inclusive)


def _iso(v: dt.datetime) -> str:
    # Naive ISO text, as the API writes its own timestamps (docs/notes/coredata-api.md "Timestamps are naive").
    return v.isoformat(timespec="microseconds" if v.microsecond else "seconds")


def _kind(body: Any) -> str:
    return type(body).__name__
