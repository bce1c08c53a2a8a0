"""Slingr (slingr.io) runtime REST API: app entities as tables.

Spec: seed ``002`` (auth, record format, list call) and docs/notes/slingr-api.md (query language, system
parameters, aggregate queries). The base URL is ``https://<app>.slingrs.io/<env>/runtime/api``.

Auth: ``POST /auth/login`` with ``{"email", "password"}`` (credentials ``email`` and ``password``);
the answer's ``token`` goes in a ``token`` header. Tokens expire after hours of *inactivity* with no
expiry announced, so the engine relies on the 401 path: log in again and replay the page once.

Tables: the entities named in option ``entities`` (and ``fields``); columns come from sampling
``GET /data/{entity}`` and from the declared Slingr field types in option ``fields``
(``{entity: {field: type}}``, e.g. ``dateTime``, ``date``, ``choice``, ``text``): a sample cannot tell
a date-time (epoch milliseconds) from an integer, nor a choice from a text field. Columns:

* field names as snake_case columns (``numberOfEmployees`` -> ``number_of_employees``): SQL folds
  unquoted identifiers to lower case;
* ``id``, ``label``, ``version`` (system fields, always returned);
* scalars: text → VARCHAR, integer/auto-increment/time duration (ms) → BIGINT,
  decimal/money/percentage → DOUBLE, boolean → BOOLEAN, date-time/date record created/modified →
  TIMESTAMPTZ (epoch ms on the wire), date-time without time zone → TIMESTAMP (``yyyy-MM-dd HH:mm``),
  date → DATE (``yyyy-MM-dd``); time, month-day, year-month → VARCHAR in their wire formats (equality
  only); big number and undocumented types → VARCHAR (empty()/notEmpty() only);
* a relationship → ``STRUCT(id, label)`` plus ``<f>__id`` and ``<f>__label``;
* a nested-fields group → ``STRUCT(...)`` (a LIST of them when multi-valued) plus one column per
  scalar inner field, ``<f>__<inner>`` (a LIST of the non-null inner values, NULL when there are
  none, when multi-valued);
* a multi-valued scalar → LIST.

The ``__`` columns exist so that filters on nested paths (``addresses.state=CA``) can be pushed:
SQL reaches inner fields of a STRUCT as ``f.inner`` too, but such filters run in DuckDB.

Filters (docs/notes/slingr-api.md "Field filters"): each conjunct becomes ``path=expr`` (``equals`` by default,
``v1,v2`` for IN, ``notEquals(v)``, ``greater(v)`` ..., ``empty()``, ``notEmpty()``, ``like(/re/)``);
when a path repeats or an OR is pushed, the whole filter goes as one
``_query=and(filter('path','expr'),or(...))``. Quoting (docs/DESIGN.md §4 "filter injection"): a value
holding a comma, a leading ``"`` or looking like ``op(...)`` is double-quoted, and not pushed if it
also holds a ``"`` (no escape is documented); inside ``_query`` values are single-quoted with no
documented escape, so a value holding ``'`` is never sent in a ``_query``. LIKE is sent as a regular
expression with every metacharacter, comma, quote and ``/`` escaped. Whether ``like`` is
case-sensitive is unknown (docs/notes/slingr-api.md "What remains unknown"): option ``like_case`` (``unknown``,
``sensitive``, ``insensitive``); unless ``sensitive``, a LIKE with cased letters is a SUPERSET.
ILIKE spells each ASCII letter as a class (``[aA]``), exact either way.

Per-type operators (docs/notes/slingr-api.md "Operators supported per type"): no ``like`` on numbers and dates,
only equality on booleans, equality/empty on choices (and on sampled strings, whose type may be a
choice); text ranges stay local (the server's collation is unknown). ``<>`` on a nullable field is
``notEquals`` (which also matches empty values) AND ``notEmpty()``.

Date-time literals between two stored values (sub-millisecond; seconds for a date-time without time
zone) move to the whole millisecond / minute that gives the same answer. ``label`` and ``version``
are never filtered or sorted by the API (not documented).

Sort: ``_sortField``/``_sortType`` on one numeric, date, date-time, boolean or id column, with
MongoDB's null placement (first ascending, last descending), always in one request (ties may come
back in another order on the next request). Paging: a keyset scan with
``_offset=<last id>`` in the default order (``id desc``) or by id, numeric ``_offset`` otherwise
(fetched concurrently once ``total`` is known); ``_size`` ≤ 1000. COUNT(*) reads ``total``.

Aggregates: GROUP BY top-level fields with COUNT/SUM/AVG/MIN/MAX over exact filters without OR go
to ``PUT /data/{entity}/aggregate`` as ``match`` stages plus one ``group`` (see ``can_aggregate``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dialect._base import AuthPlan, ColumnDef, Dialect, Discovery, Parse, Secret, TableDef, Token, table_as
from dialect._render import ascii_cased
from dialect._slingr_query import (
    Rendered,
    _flatten_and,
    _merge_between,
    _NotSendable,
    _query_text,
    _quote,
    _text_of,
    like_regex,
    snake,
)
from lowcode_sql.errors import DialectError
from lowcode_sql.ir import And, Cmp, Exactness, InList, IsNull, Like, ListContains, Op, Or, Pred
from lowcode_sql.requests import CursorPaging, HttpRequest, NoPaging, OffsetPaging, Page, ScanRequest
from lowcode_sql.scanspec import Aggregate, ScanSpec, SortKey

__all__ = ["Slingr"]

# Declared type names, compared without case, `_` and `-` ("dateTime", "date_time" and "date-time"
# are one type). Wire formats: docs/notes/slingr-api.md "Value formats in queries" and slingr-docs data/types/*.yml.
_TEXT = frozenset({"text", "email", "url", "phone", "html", "longtext", "label", "maskedtext", "qr"})
_INTEGER = frozenset({"integer", "autoincrement", "timeduration"})  # time duration: milliseconds
_DOUBLE = frozenset({"decimal", "money", "percentage"})
_EPOCH_MS = frozenset({"datetime", "daterecordcreated", "daterecordmodified"})  # epoch ms, UTC
_WALL = frozenset({"datetimenotimezone"})  # `yyyy-MM-dd HH:mm` text, no zone: TIMESTAMP
_PARSE: dict[str, Parse] = {"datetime": "epoch_ms", "date": "date", "naive": "iso"}
# text-valued date/time types compared for equality only; a literal in another shape matches no
# stored value and would be a 400 (an invalid value for the type), so it stays local
_FORMATS = {"time": r"\d{2}:\d{2}", "monthday": r"\d{2}-\d{2}", "datemonthday": r"\d{2}-\d{2}",
            "yearmonth": r"\d{4}-\d{2}", "dateyearmonth": r"\d{4}-\d{2}"}
_MINUTE = dt.timedelta(minutes=1)
# sampled text that may be a big number or a date/time type (declare the field to push its filters)
_TYPED_TEXT = re.compile(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?|\d{4}-\d{2}(-\d{2}([ T][\d:.]+)?)?|\d{2}[:-]\d{2}")
# elements of multi-valued date/time fields, wire value -> Python value (see parse_page)
_PARSERS: dict[str, Any] = {
    "epoch_ms": lambda v: _EPOCH + dt.timedelta(milliseconds=int(v)),
    "date": lambda v: dt.date.fromisoformat(str(v)[:10]),
    "iso": lambda v: dt.datetime.fromisoformat(str(v)),
}
_TS = pa.timestamp("us", tz="UTC")
_EPOCH: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # typed: _PARSERS above uses it
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OP_LIKE = re.compile(r"^\w+\(.*\)$", re.S)
_CMP_OP = {Op.LT: "less", Op.LE: "lessOrEquals", Op.GT: "greater", Op.GE: "greaterOrEquals"}


@dataclass(frozen=True)
class _Col:
    """How one SQL column maps to the API.

    ``kind``: text | string (sampled: text or choice) | choice | number | datetime | date | boolean
    | struct (relationship or nested group) | list (multi-valued scalar) | flatlist (inner values
    of a multi-valued group) | id. ``path`` is the dotted API path; ``field`` the top-level field.
    """

    kind: str
    path: str
    field: str
    nullable: bool = True
    integer: bool = False
    fmt: str | None = None  # a text value is sent only if it matches this regex (see `_fmt`)
    parse: str | None = None  # a multi-valued date/time field: how parse_page converts its elements




@dataclass(frozen=True, kw_only=True)
class SlingrTable(TableDef):
    """An entity: ``cols`` maps each SQL column to its field; ``flat`` are the (column, field, inner)
    keys ``parse_page`` lifts out of single nested groups; ``lists`` the multi-valued date/time
    fields it parses (path, parse)."""

    entity: str
    cols: Mapping[str, _Col]
    flat: tuple[tuple[str, str, str], ...] = ()
    lists: tuple[tuple[str, str], ...] = ()


_NULLS = frozenset({"IS NULL", "IS NOT NULL"})
_EQ = frozenset({"=", "<>", "IN", "NOT IN"})
_RANGE_OPS = frozenset({"<", "<=", ">", ">="})
# What ``_leaf`` may send per field kind (see there for why): booleans equals/notEquals only, ranges on
# numbers and dates, like() on text; empty() on a list only as IS NULL (it also matches []).
_PUSHABLE: dict[str, frozenset[str]] = {
    "id": _EQ, "boolean": frozenset({"=", "<>"}), "struct": frozenset(), "system": frozenset(),
    "list": frozenset({"IS NULL", "CONTAINS", "NOT CONTAINS"}), "flatlist": _NULLS | {"CONTAINS", "NOT CONTAINS"},
    "relationship": _NULLS, "opaque": _NULLS, "naive": _NULLS | {"="} | _RANGE_OPS,
    "number": _NULLS | _EQ | _RANGE_OPS, "datetime": _NULLS | _EQ | _RANGE_OPS, "date": _NULLS | _EQ | _RANGE_OPS,
    "text": _NULLS | _EQ | {"LIKE", "ILIKE"}, "string": _NULLS | _EQ, "choice": _NULLS | _EQ, "other": _NULLS | _EQ,
}


class Slingr(Dialect):
    name = "slingr"
    title = "Slingr runtime REST API"
    CREDENTIALS = {"email": "user email (POST /auth/login)", "password": "user password"}
    OPTIONS = {
        "entities": ([], "entity names to expose as tables (Slingr has no public entity listing)"),
        "fields": ({}, "{entity: {field: Slingr type}} declared types (dateTime, date, choice, text, integer, "
                       "decimal, boolean, relationship, ...); other fields are typed by sampling"),
        "sample_size": (100, "records sampled per entity to infer its fields"),
        "page_size": (1000, "records per page (_size; the API maximum is 1000)"),
        "like_case": ("unknown", "whether like() is case-sensitive: unknown (LIKE is a superset), sensitive, "
                                 "insensitive"),
        "keyset": (True, "full scans page by record id (_offset=<last id>, sequential); false: numeric "
                         "_offset pages fetched concurrently"),
        "aggregate_pushdown": (True, "GROUP BY with COUNT/SUM/AVG/MIN/MAX through PUT /data/{entity}/aggregate; "
                                     "false: grouped locally over a plain scan"),
    }
    projects_columns = True  # the field list names spec.columns only
    max_pushed_limit = 1000  # a sorted LIMIT is pushed only when it fits one page

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        if self.options["like_case"] not in ("unknown", "sensitive", "insensitive"):
            raise DialectError("slingr: option like_case must be unknown, sensitive or insensitive")
        size = int(self.options["page_size"])
        if not 1 <= size <= 1000:
            raise DialectError("slingr: option page_size must be between 1 and 1000 (the API maximum)")

    # --- auth (seed "Authentication") ----------------------------------------------------------

    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan:
        missing = [k for k in ("email", "password") if k not in credentials]
        if missing:
            raise DialectError(f"slingr needs the credential {missing[0]!r} (user email and password)")
        return AuthPlan(
            headers=(("token", "{token}"),),
            login=HttpRequest("POST", "auth/login", json={}),
            login_secret_json={"email": credentials["email"], "password": credentials["password"]},
        )

    def parse_login(self, body: Any) -> Token:
        if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not body["token"]:
            raise DialectError("slingr: the login answer has no token")
        # No expiry is announced ("usually after 8 hours of inactivity"): a 401 triggers re-login.
        return Token(body["token"], None)

    # --- discovery --------------------------------------------------------------------------------

    def discover(self) -> Discovery:
        declared: Mapping[str, Mapping[str, str]] = self.options["fields"] or {}
        names = list(dict.fromkeys([*(self.options["entities"] or []), *declared]))
        tables = []
        for entity in names:
            if not _IDENT.match(entity):
                raise DialectError(f"slingr: invalid entity name {entity!r}")
            sample = yield HttpRequest("GET", f"data/{entity}", (("_size", str(self.options["sample_size"])),))
            items = (sample or {}).get("items") or []
            tables.append(self.table_from_sample(entity, items, declared.get(entity, {})))
        return tables

    def table_from_sample(self, entity: str, items: Sequence[Mapping[str, Any]],
                          declared: Mapping[str, str] | None = None) -> TableDef:
        declared = dict(declared or {})
        columns = [ColumnDef("id", pa.string(), doc="record id"), ColumnDef("label", pa.string(), doc="record label"),
                   ColumnDef("version", pa.int64(), doc="record version (optimistic locking)")]
        # Filters and sorts on `label` and `version` are not documented (only id offsets, and
        # `company.label` on relationships): they stay local (docs/notes/slingr-api.md preamble: where the docs are
        # silent, push less).
        info: dict[str, _Col] = {"id": _Col("id", "id", "id", False), "label": _Col("system", "label", "label", False),
                                 "version": _Col("system", "version", "version", False, True)}
        flat: list[tuple[str, str, str]] = []  # synthetic keys: (column, field, inner)
        order: list[str] = []
        for rec in items:
            for k in rec:
                if k not in order and k not in ("id", "label", "version"):
                    order.append(k)
        order += [k for k in declared if k not in order and "." not in k]
        for fname in order:
            if not _IDENT.match(fname) or "__" in fname:
                continue  # not addressable as a column name (and `__` is ours)
            values = [rec[fname] for rec in items if rec.get(fname) is not None]
            for col, meta in self._field_columns(fname, values, declared):
                if col.name in info:
                    continue  # two fields with one snake_case name (fooBar, foo_bar): the first wins
                columns.append(col)
                info[col.name] = meta
                if meta.path != fname and meta.kind != "flatlist":
                    flat.append((col.name, fname, meta.path.split(".", 1)[1]))
        lists = tuple((m.path, m.parse) for m in info.values() if m.kind == "list" and m.parse is not None)
        return SlingrTable(entity, tuple(columns), doc=f"Slingr entity {entity}", key="id",
                           pushable={c: _PUSHABLE[m.kind] for c, m in info.items() if _PUSHABLE.get(m.kind)},
                           entity=entity, cols=info, flat=tuple(flat), lists=lists)

    def _field_columns(self, fname: str, values: list[Any],
                       declared: Mapping[str, str]) -> list[tuple[ColumnDef, _Col]]:
        typ = declared.get(fname)
        multiple = any(isinstance(v, list) for v in values)
        elems = [e for v in values for e in (v if isinstance(v, list) else [v]) if e is not None]
        is_obj = typ in ("relationship", "nestedFields") or (elems and all(isinstance(e, dict) for e in elems))
        if is_obj:
            keys: list[str] = []
            for e in elems:
                keys += [k for k in e if k not in keys and _IDENT.match(k) and "__" not in k]
            # declared inner fields (`fields` option, "addresses.state") exist even when no sampled
            # record has them (an empty entity, or optional inner fields)
            keys += [k for k in (d.split(".", 1)[1] for d in declared if d.startswith(fname + "."))
                     if k not in keys and _IDENT.match(k) and "__" not in k]
            relationship = typ == "relationship" or (typ is None and keys and set(keys) <= {"id", "label"})
            if relationship:
                keys = ["id", "label"]
            inner: list[tuple[str, pa.DataType, str]] = []  # (key, arrow type, kind)
            fmts: dict[str, str | None] = {}
            for k in keys:
                ktyp = "text" if relationship else declared.get(f"{fname}.{k}")
                kvals = [e[k] for e in elems if isinstance(e, dict) and e.get(k) is not None]
                scalar = self._scalar(ktyp, kvals)
                if scalar is not None:
                    inner.append((k, scalar[0], scalar[1]))
                    fmts[k] = _fmt(ktyp, scalar[1])
            # inside a STRUCT values keep their wire form: epoch ms (BIGINT), dates as text
            wire = {"datetime": pa.int64(), "date": pa.string(), "naive": pa.string()}
            struct = pa.struct([(k, wire.get(kind, t)) for k, t, kind in inner])
            what = "relationship" if relationship else "nested fields"
            # a single relationship accepts empty()/notEmpty() on the field itself
            kind = "relationship" if relationship and not multiple else "struct"
            out = [(ColumnDef(snake(fname), pa.list_(struct) if multiple else struct, path=(fname,), doc=what),
                    _Col(kind, fname, fname))]
            for k, t, kind in inner:
                name = f"{snake(fname)}__{snake(k)}"
                parse = _PARSE.get(kind)
                if multiple:
                    col = ColumnDef(name, pa.list_(t), path=(fname,), extract="all", item_key=k, parse=parse,
                                    doc=f"every non-null {fname}.{k} value (NULL when none)")
                    out.append((col, _Col("flatlist", f"{fname}.{k}", fname, integer=pa.types.is_integer(t),
                                          fmt=fmts[k])))
                else:
                    col = ColumnDef(name, t, parse=parse, doc=f"{fname}.{k}")
                    out.append((col, _Col(kind, f"{fname}.{k}", fname, integer=pa.types.is_integer(t), fmt=fmts[k])))
            return out
        scalar = self._scalar(typ, elems)
        if scalar is None:
            return []
        t, kind = scalar
        parse = _PARSE.get(kind)
        if multiple:
            # the engine's converters read scalars, not list elements: parse_page converts these
            return [(ColumnDef(snake(fname), pa.list_(t), path=(fname,), doc=f"multi-valued {typ or kind}"),
                     _Col("list", fname, fname, integer=pa.types.is_integer(t), fmt=_fmt(typ, kind), parse=parse))]
        return [(ColumnDef(snake(fname), t, path=(fname,), parse=parse, doc=typ or kind),
                 _Col(kind, fname, fname, integer=pa.types.is_integer(t), fmt=_fmt(typ, kind)))]

    @staticmethod
    def _scalar(typ: str | None, values: list[Any]) -> tuple[pa.DataType, str] | None:
        """(Arrow type, kind) of a scalar field from its declared type or sampled values."""
        if typ is not None:
            key = typ.replace("_", "").replace("-", "").lower()
            if key in _TEXT:
                return pa.string(), "text"
            if key == "choice":
                return pa.string(), "choice"
            if key in _INTEGER:
                return pa.int64(), "number"
            if key in _DOUBLE:
                return pa.float64(), "number"
            if key == "boolean":
                return pa.bool_(), "boolean"
            if key in _EPOCH_MS:
                return _TS, "datetime"
            if key in _WALL:
                return pa.timestamp("us"), "naive"
            if key == "date":
                return pa.date32(), "date"
            if key == "bignumber":
                # read as a string of up to 34 significant digits, compared as a number by the
                # server: neither a DOUBLE nor text comparisons would agree with it, so only
                # empty()/notEmpty() is sent
                return pa.string(), "opaque"
            if key in _FORMATS:
                return pa.string(), "other"  # time (HH:mm), month-day (MM-dd), year-month (yyyy-MM)
            return pa.string(), "opaque"  # rank, color, ...: formats not documented, nothing but empty()
        kinds = {type(v) for v in values if not isinstance(v, dict | list)}
        if not kinds:
            return (pa.string(), "string") if not values else None
        if kinds == {bool}:
            return pa.bool_(), "boolean"
        if kinds == {int}:
            return pa.int64(), "number"
        if kinds <= {int, float}:
            return pa.float64(), "number"
        if kinds == {str}:
            if all(_TYPED_TEXT.fullmatch(v) for v in values):
                # a big number ("2.8" in the seed's sample record), a date or a time read as text:
                # the server compares such a field as its type ("1" = "1.0"), not as text
                return pa.string(), "opaque"
            return pa.string(), "string"  # text or choice: only what both accept is pushed
        return None  # mixed types: not a column

    # --- pushdown ---------------------------------------------------------------------------------

    def classify(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
        rendered = [self._render_pred(table, p) for p in conjuncts]
        out = [e for _, e in rendered]
        trees = [t for t, _ in rendered]
        sent = [t for t, e in zip(trees, out, strict=True) if e is not Exactness.LOCAL and t is not None]
        if self._needs_query(_merge_between(_flatten_and(sent))):  # as render_scan will send them
            # Inside _query values are single-quoted without a documented escape.
            for i, tree in enumerate(trees):
                if out[i] is not Exactness.LOCAL and tree is not None and "'" in _text_of(tree):
                    out[i] = Exactness.LOCAL
        return out

    @staticmethod
    def _needs_query(trees: Sequence[Rendered | None]) -> bool:
        leaves = [t for t in _flatten_and([t for t in trees if t is not None])]
        paths = [t[1] for t in leaves if t[0] == "f"]
        return any(t[0] != "f" for t in leaves) or len(paths) != len(set(paths))

    def _render_pred(self, table: TableDef, pred: Pred) -> tuple[Rendered | None, Exactness]:
        if isinstance(pred, And | Or):
            parts = [self._render_pred(table, p) for p in pred.items]
            if isinstance(pred, Or):
                trees = [t for t, _ in parts if t is not None]
                if len(trees) < len(parts) or any(e is Exactness.LOCAL for _, e in parts):
                    return None, Exactness.LOCAL  # an OR with an unsendable branch cannot be narrowed
                exactness = min(e for _, e in parts)
                if all(t[0] == "f" and t[1] == trees[0][1] and not _OP_LIKE.match(t[2]) for t in trees):
                    # equalities on one path: one comma list (no _query needed; quoting as for IN)
                    return ("f", trees[0][1], ",".join(t[2] for t in trees)), exactness
                return ("or", trees), exactness
            kept = [(t, e) for t, e in parts if e is not Exactness.LOCAL]
            if not kept:
                return None, Exactness.LOCAL
            exact = Exactness.EXACT if len(kept) == len(parts) else Exactness.SUPERSET
            return ("and", [t for t, _ in kept]), min(exact, *(e for _, e in kept))
        column = getattr(pred, "column", None)  # And/Or/Const have none
        info = table_as(table, SlingrTable).cols.get(column) if column is not None else None
        if info is None:
            return None, Exactness.LOCAL
        try:
            return self._leaf(info, pred)
        except _NotSendable:
            return None, Exactness.LOCAL

    def _leaf(self, c: _Col, pred: Pred) -> tuple[Rendered | None, Exactness]:
        E, S = Exactness.EXACT, Exactness.SUPERSET
        kind, path = c.kind, c.path
        if kind == "system":
            raise _NotSendable
        leaf = lambda expr: ("f", path, expr)  # noqa: E731
        if isinstance(pred, IsNull):
            if kind in ("id", "boolean", "struct"):
                # booleans accept equals/notEquals only; ids are never null; a nested group cannot
                # be filtered itself (docs/notes/slingr-api.md "Field filters")
                raise _NotSendable
            if kind == "list":
                # empty() also matches an empty array, which SQL calls NOT NULL
                if pred.negated:
                    raise _NotSendable
                return leaf("empty()"), S
            return leaf("notEmpty()" if pred.negated else "empty()"), E
        if isinstance(pred, ListContains):
            if kind not in ("list", "flatlist"):
                raise _NotSendable
            v = self._value(c, pred.value, Op.EQ)
            if not pred.negated:
                return leaf(v), E
            if kind == "flatlist":  # NULL exactly when there is no value: notEmpty() pairs exactly
                return ("and", [leaf(f"notEquals({v})"), leaf("notEmpty()")]), E
            return leaf(f"notEquals({v})"), S  # also matches missing values and empty arrays
        if kind in ("list", "flatlist", "struct", "relationship", "opaque"):
            raise _NotSendable
        if kind == "naive":
            return self._wall_leaf(leaf, pred), E
        if kind == "datetime" and isinstance(pred, Cmp) and isinstance(pred.value, dt.datetime) \
                and pred.value.tzinfo is not None and (pred.value - _EPOCH) % dt.timedelta(milliseconds=1):
            # Stored values are whole epoch milliseconds (docs/notes/slingr-api.md "Value formats"): against a
            # literal between two milliseconds, t > v and t >= v are t > floor(v); t < v and t <= v
            # are t <= floor(v). (= and <> with such a literal stay local.)
            floor = (pred.value - _EPOCH) // dt.timedelta(milliseconds=1)
            if pred.op in (Op.GT, Op.GE):
                return leaf(f"greater({floor})"), E
            if pred.op in (Op.LT, Op.LE):
                return leaf(f"lessOrEquals({floor})"), E
            raise _NotSendable
        if isinstance(pred, Cmp):
            v = self._value(c, pred.value, pred.op)
            if pred.op is Op.EQ:
                return leaf(v), E
            if pred.op is Op.NE:
                if kind == "boolean":
                    return leaf("false" if pred.value else "true"), E
                ne = leaf(f"notEquals({v})")
                return (("and", [ne, leaf("notEmpty()")]) if c.nullable else ne), E
            if kind not in ("number", "datetime", "date"):
                raise _NotSendable  # text ranges: the server's collation is unknown
            return leaf(f"{_CMP_OP[pred.op]}({v})"), E
        if isinstance(pred, InList):
            if kind == "boolean" or not pred.values:
                raise _NotSendable
            vals = [self._value(c, v, Op.EQ) for v in pred.values]
            if not pred.negated:
                return leaf(",".join(vals)), E
            items = [leaf(f"notEquals({v})") for v in vals]
            return ("and", items + ([leaf("notEmpty()")] if c.nullable else [])), E
        if isinstance(pred, Like):
            if kind != "text" or pred.negated:
                raise _NotSendable
            if pred.case_insensitive and not ascii_cased(pred.pattern):
                raise _NotSendable
            regex = like_regex(pred.pattern, pred.case_insensitive)
            literal = "".join(p for p in pred.pattern.parts if isinstance(p, str))
            sensitive = self.options["like_case"] == "sensitive"
            if pred.case_insensitive:
                # [sS] under a case-insensitive regex engine (PCRE caseless UTF, as MongoDB) also
                # matches U+017F (long s), which DuckDB's ILIKE does not; k's K is in the class
                exact = sensitive or not any(ch in "sS" for ch in literal)
            else:
                exact = sensitive or all(ch.lower() == ch.upper() for ch in literal)
            return leaf(f"like(/{regex}/)"), E if exact else S
        raise _NotSendable

    @staticmethod
    def _wall_leaf(leaf: Any, pred: Pred) -> Rendered:
        """A comparison on a date-time without time zone (``yyyy-MM-dd HH:mm`` in queries and
        answers, docs/notes/slingr-api.md "Value formats"): stored values are whole minutes, so a literal with
        seconds is moved to the minute that gives the same answer (``> 11:00:30`` is ``>= 11:01``)."""
        if not isinstance(pred, Cmp) or not isinstance(pred.value, dt.datetime) or pred.value.tzinfo is not None:
            raise _NotSendable
        v = pred.value
        floor = v.replace(second=0, microsecond=0)
        try:
            ceil = floor if floor == v else floor + _MINUTE
            after = floor + _MINUTE
        except OverflowError:
            raise _NotSendable from None

        def text(t: dt.datetime) -> str:
            return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"

        if pred.op is Op.EQ and floor == v:
            return leaf(text(v))
        if pred.op is Op.GE:
            return leaf(f"greaterOrEquals({text(ceil)})")
        if pred.op is Op.LT:
            return leaf(f"less({text(ceil)})")
        if pred.op is Op.GT:
            return leaf(f"greaterOrEquals({text(after)})")
        if pred.op is Op.LE:
            return leaf(f"less({text(after)})")
        raise _NotSendable  # <> and sub-minute equality: local

    def _value(self, c: _Col, value: Any, op: Op) -> str:
        """A value in the query language, quoted where needed; ``_NotSendable`` if it cannot be."""
        kind = c.kind
        if kind in ("number", "list", "flatlist") and isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and (c.integer or not math.isfinite(value)):
                raise _NotSendable  # (the query language has no spelling for inf or NaN)
            return str(int(value)) if isinstance(value, int) else repr(float(value))
        if kind == "boolean" and isinstance(value, bool):
            return "true" if value else "false"
        if kind == "datetime" and isinstance(value, dt.datetime) and value.tzinfo is not None:
            delta = value - _EPOCH
            if delta % dt.timedelta(milliseconds=1):
                raise _NotSendable  # stored values are whole milliseconds: keep sub-ms literals local
            return str(delta // dt.timedelta(milliseconds=1))
        if kind == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            if not 1 <= value.year <= 9999:
                raise _NotSendable
            return value.isoformat()
        if kind in ("text", "string", "choice", "other", "id", "list", "flatlist") and isinstance(value, str):
            if c.fmt is not None and not re.fullmatch(c.fmt, value):
                raise _NotSendable
            return _quote(value)
        raise _NotSendable

    def can_sort(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        if not keys:
            return True
        first = keys[0]
        info = table_as(table, SlingrTable).cols.get(first.column)
        if info is None:
            return False
        if info.kind == "id":
            return True  # unique: any later key is moot
        if len(keys) > 1 or info.kind not in ("number", "datetime", "date", "naive", "boolean"):
            return False  # one sort field only (docs/notes/slingr-api.md); text order depends on the server's collation
        # MongoDB puts missing values first ascending and last descending.
        return not info.nullable or first.nulls_first != first.descending

    def can_aggregate(self, table: TableDef, keys: Sequence[str], aggregates: Sequence[Aggregate],
                      filters: Sequence[Pred] = ()) -> bool:
        # PUT /data/{entity}/aggregate with `match` + `group` (docs/notes/slingr-api.md): MongoDB's $group, so
        # keys group by BSON equality (null and missing together, as SQL's NULL; strings binary) and
        # min/max ignore nulls. Only top-level scalar fields: the output name of a nested `by` path is
        # undocumented. There is no count of non-null values, so COUNT(col) and SUM/AVG (asked with
        # COUNT(col)) also group by `col`: per API group the count of `col` is then count() or 0, and
        # DuckDB's re-aggregation merges the finer groups again (more groups, never wrong ones).
        # The aggregate endpoint's `match` takes field filters only (docs/notes/slingr-api.md "Aggregate
        # queries": `_` parameters such as _query are ignored), so an OR cannot be sent there.
        if not self.options["aggregate_pushdown"]:
            return False
        rendered = [self._render_pred(table, p)[0] for p in filters]
        sent = [t for t in rendered if t is not None]
        if len(sent) < len(rendered) or any(t[0] == "or" for t in _flatten_and(sent)):
            return False
        cols = table_as(table, SlingrTable).cols

        def top(name: str | None, kinds: frozenset[str]) -> bool:
            info = cols.get(name) if name is not None else None
            return info is not None and info.path == info.field and info.kind in kinds

        if not all(top(k, _GROUPABLE) for k in keys):
            return False
        for agg in aggregates:
            if agg.func == "count_star":
                continue
            if agg.func in ("min", "max"):
                # text min/max would depend on the server's collation
                if not top(agg.column, frozenset({"number", "datetime", "date", "naive", "boolean"})):
                    return False
            elif not top(agg.column, _GROUPABLE if agg.func == "count" else frozenset({"number"})):
                return False
        return True

    def aggregate_path(self, agg: Aggregate) -> tuple[str, ...]:
        return (_agg_name(agg),)

    def _render_aggregate(self, table: TableDef, spec: ScanSpec, trees: list[Rendered],
                          notes: list[str]) -> ScanRequest:
        leaves = _flatten_and(trees)
        if any(t[0] != "f" for t in leaves):
            # only when two scans of one table in one query disagree (see classify)
            raise DialectError(f"slingr {table.name}: an OR cannot be sent to the aggregate endpoint; "
                               "rewrite the query with the grouped table in a subquery of its own")
        cols = table_as(table, SlingrTable).cols
        by = [cols[k].path for k in spec.group_by]
        group: dict[str, str] = {}
        for agg in spec.aggregates:
            if agg.func == "count_star":
                group[_agg_name(agg)] = "count()"
                continue
            if agg.column is None:  # pragma: no cover - only count_star has no column
                raise DialectError(f"slingr cannot aggregate {agg}")
            path = cols[agg.column].path
            if agg.func in ("count", "sum"):
                by.append(path)  # see can_aggregate: COUNT(col) per API group is count() or 0
            group[_agg_name(agg)] = "count()" if agg.func == "count" else f"{agg.func}({path})"
        by = list(dict.fromkeys(by))
        stages: list[dict[str, Any]] = []
        for path, expr in ((t[1], t[2]) for t in leaves):
            # consecutive match stages AND together: a path used twice opens a new stage
            if not stages or path in stages[-1]["match"]:
                stages.append({"match": {}})
            stages[-1]["match"][path] = expr
        stages.append({"group": ({"by": ",".join(by)} if by else {}) | group})
        return ScanRequest(HttpRequest("PUT", f"data/{table.name}/aggregate", json=stages), NoPaging(), tuple(notes))

    # --- rendering ------------------------------------------------------------------------------

    def render_scan(self, table: TableDef, spec: ScanSpec) -> ScanRequest:
        params: list[tuple[str, str]] = []
        notes = [f"{p}: {e.name.lower()}" for p, e in spec.pushed]
        trees = []
        for pred, _ in spec.pushed:
            tree, _ = self._render_pred(table, pred)
            if tree is None:  # pragma: no cover - classify keeps these local
                raise DialectError(f"slingr cannot render {pred}")
            trees.append(tree)
        if spec.grouped:
            return self._render_aggregate(table, spec, trees, notes)
        if trees:
            items = _merge_between(_flatten_and(trees))
            if self._needs_query(items):
                query = _query_text(items[0] if len(items) == 1 else ("and", items))
                params.append(("_query", query))
            else:
                params.extend((t[1], t[2]) for t in items)
        cols = table_as(table, SlingrTable).cols
        fields = sorted({cols[c].field for c in spec.columns if c in cols} - {"id", "label", "version"})
        params.append(("_fields", ",".join(fields) if fields else "id"))
        size = int(self.options["page_size"])
        sort_by_id = not spec.order or cols[spec.order[0].column].kind == "id"
        if spec.limit is not None:
            # A sort on a non-unique field promises no order among ties from one request to the next
            # (MongoDB), so a sorted LIMIT is one request whatever page_size says: the planner pushes
            # it only when LIMIT + OFFSET <= max_pushed_limit = the API's maximum _size (docs/notes/slingr-api.md).
            size = max(1, min(size if sort_by_id else (self.max_pushed_limit or 1000), spec.limit))
        if spec.order:
            key = spec.order[0]
            params += [("_sortField", cols[key.column].path), ("_sortType", "desc" if key.descending else "asc")]
        base = HttpRequest("GET", f"data/{table.name}", tuple(params))
        paging: OffsetPaging | CursorPaging
        if sort_by_id and not spec.offset and self.options["keyset"] and not spec.count_only:
            # docs/notes/slingr-api.md "System parameters": ids are the recommended way to scan; the id form works
            # only in id order (the default is id desc).
            paging = CursorPaging("_offset", "_size", size, max_rows=spec.limit)
        else:
            paging = OffsetPaging("_offset", "_size", size, start=spec.offset, max_rows=spec.limit)
        return ScanRequest(base, paging, tuple(notes))

    def parse_answer(self, table: TableDef, request: HttpRequest, body: Any) -> Page:
        # an aggregate answer is the answer to PUT data/{entity}/aggregate, whatever keys it has
        return self._parse(table, body, aggregate=request.method == "PUT" and request.path.endswith("/aggregate"))

    def parse_page(self, table: TableDef, body: Any) -> Page:
        """Without the request (tests, benchmarks): a body without ``offset`` is taken for an
        aggregate answer. The engine calls ``parse_answer``, which knows."""
        return self._parse(table, body, aggregate=isinstance(body, dict) and "offset" not in body)

    def _parse(self, table: TableDef, body: Any, *, aggregate: bool) -> Page:
        tdef = table_as(table, SlingrTable)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise DialectError(f"slingr {table.name}: expected a JSON object with 'items', got {type(body).__name__}")
        records = body["items"]
        if aggregate:  # an aggregate answer: {total, items}
            # No size limit or paging is documented for aggregates (docs/notes/slingr-api.md "[U]"): if the
            # answer ever holds fewer groups than its total, fail rather than drop groups silently.
            total = body.get("total")
            if isinstance(total, int) and total != len(records):
                raise DialectError(f"slingr {table.name}: the aggregate answer holds {len(records)} of {total} "
                                   "groups (a limit the API does not document); set the source option "
                                   "aggregate_pushdown = false")
            _fix_counts(table, records)
        flat = tdef.flat
        if flat:
            # inner fields of single nested groups / relationships as top-level keys, so the STRUCT
            # column and its `__` columns can be read in one pass (see the module docstring)
            for rec in records:
                if isinstance(rec, dict):
                    for col, fname, inner in flat:
                        parent = rec.get(fname)
                        rec[col] = parent.get(inner) if isinstance(parent, dict) else None
        for path, parse in tdef.lists:
            for rec in records:
                if isinstance(rec, dict) and isinstance(rec.get(path), list):
                    try:
                        rec[path] = [None if v is None else _PARSERS[parse](v) for v in rec[path]]
                    except (TypeError, ValueError, OverflowError) as e:
                        raise DialectError(f"slingr {table.name}.{path}: unexpected value in a multi-valued "
                                           f"date/time field: {e}") from None
        total = body.get("total")
        cursor = body.get("offset")
        if "offset" not in body and not aggregate and records and isinstance(records[-1], dict):
            # the documented ``offset`` is "the id of the page's last record" (docs/notes/slingr-api.md): an
            # answer without the key still names it, through that record
            cursor = records[-1].get("id")
        return Page(records, total if isinstance(total, int) else None, cursor or None)


_GROUPABLE = frozenset({"number", "datetime", "date", "naive", "boolean", "text", "string", "choice", "other", "id"})


def _fmt(typ: str | None, kind: str) -> str | None:
    """The regex a text value of this field must match to be sent: the wire format of time,
    month-day and year-month; nothing at all for opaque types (a multi-valued big number)."""
    if kind == "opaque":
        return r"(?!)"
    return _FORMATS.get((typ or "").replace("_", "").replace("-", "").lower())


def _agg_name(agg: Aggregate) -> str:
    # output names of letters and digits only (the documented rule for `count` names), with the
    # column spelled in hex so that parse_page can find it again
    if agg.func == "count_star":
        return "lccountall"
    return f"lc{agg.func}x{(agg.column or '').encode().hex()}"


def _fix_counts(table: TableDef, records: list[Any]) -> None:
    """COUNT(col) from count() of groups split by ``col``: 0 where ``col`` is null (see can_aggregate)."""
    cols = table_as(table, SlingrTable).cols
    for rec in records:
        if not isinstance(rec, dict):
            continue
        for key in list(rec):
            if key.startswith("lccountx"):
                info = cols.get(bytes.fromhex(key[8:]).decode())
                if info is not None and rec.get(info.path) is None:
                    rec[key] = 0
