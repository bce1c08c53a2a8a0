"""Totalum (totalum.app): MongoDB-backed tables with typed properties, read through the REST API.

Spec: seed ``000`` (the OpenAPI page, "the platform's own word") and docs/notes/totalum-api.md (SDK 2.0.40 sources).

Tables and columns (README "Totalum"): discovery reads ``GET api/v1/integrations/get-tables``
(``[{id, label}]``) and, per table, ``get-table-structure?id=T&usage=read`` (``[{name, type, spec, ...}]``),
the two discovery calls whose answers the seed documents. Every table has ``_id`` (VARCHAR, the
ObjectId), its properties and ``createdAt``/``updatedAt`` (TIMESTAMPTZ). Property types: text, options
(and other text-like types) -> VARCHAR; number -> DOUBLE; date -> TIMESTAMPTZ (BSON dates hold
milliseconds); boolean -> BOOLEAN; file -> VARCHAR (the stored ``{name}``); many-to-one -> VARCHAR (the
referenced ``_id``). one-to-many properties are not columns (read the other side's many-to-one).

Many-to-many (seed "get many to many relation items of an item"): a property ``p`` of table ``t`` that
references table ``u`` becomes the table ``t__p``: the columns of ``u`` plus ``source_id``, the ``_id``
of the ``t`` record. The only documented read is per source record
(``GET api/v1/crud/{t}/{id}/{p}``), so a scan of ``t__p`` needs ``WHERE source_id = '<24-hex id>'``;
filters, ORDER BY and LIMIT on ``u``'s columns push down there like on ``u`` itself. That endpoint
documents no ``returnCount``, so its pages are read sequentially.

Request shape. The seed documents ``GET api/v1/crud/{typeId}`` with ``filter`` a JSON string and
``sort``/``pagination`` objects; public code sends those objects in qs bracket form
(``sort[createdAt]=1&pagination[page]=0&pagination[limit]=50``, docs/notes/totalum-api.md "Endpoints and auth"). That is
what we send by default: it is the platform's documented call and the form confirmed to work over
plain HTTP. The option ``request = "post"`` sends the SDK 2.0.40 call instead
(``POST api/v1/crud/query/{typeId}`` with a JSON body ``{filter, sort, pagination, returnCount}``).

Pushdown (Mongo semantics; a SQL NULL is a stored null *or* a missing field):

* The filter array is an AND; each top-level conjunct becomes its own array elements. ``c = v`` ->
  ``{c: v}``; ``c IS NULL`` -> ``{c: null}`` (matches null and missing); ``c IS NOT NULL`` ->
  ``{c: {ne: null}}``; ranges -> ``gt/gte/lt/lte``, only on number and date columns (SDK README: the
  server refuses them elsewhere). ``c <> v`` -> ``{c: {ne: v}}`` also matches NULLs, so at top level it is
  paired with ``{c: {ne: null}}`` (exact); ``NOT IN`` likewise.
* OR trees are put in disjunctive normal form (at most 32 branches) and sent as ``{or: [cond, ...]}``,
  each cond an object whose keys are ANDed (the seed's own examples put several keys in one element,
  ``[{"or": [...], "category": {...}, "createdDate": {...}}]``, and several in one ``or`` item).
  A cond cannot name a field twice with the same operator,
  so a leaf that does not fit (or cannot be sent) is dropped from its branch, which only widens it:
  the OR is then a SUPERSET and DuckDB re-checks it. ``or`` is never nested (the SDK's type has it only
  at the top). ``IN`` is an ``or`` of equalities; ``in``/``nin`` are sent only with the ``in_operator``
  option (docs/notes/totalum-api.md: conflicting evidence).
* LIKE -> ``regex`` with every literal character escaped, ``[\\s\\S]`` for wildcards and
  ``(?![\\s\\S])`` as the end anchor (PCRE's ``$`` also matches before a final newline). ILIKE is spelled
  out as per-letter classes (``[aA]``, ``[iIİ]``, ``[kKK]``) rather than ``options: 'i'``, because PCRE2's
  caseless matching is Unicode simple folding (``i`` does not match ``İ``, ``s`` matches U+017F LONG S) while
  DuckDB's ILIKE compares ``lower()``; it is pushed only when every cased literal is ASCII. A regex never
  matches a non-string (ObjectIds included), so LIKE on ``_id`` and references stays local; NOT LIKE
  stays local (there is no ``not``).
* ORDER BY via ``sort`` on text, number, date, boolean and ``_id`` columns (not references: see
  ``can_sort``), when NULLs go where Mongo puts
  them (lowest: first ascending, last descending), plus ``_id`` as the last key for a total order.
  LIMIT/OFFSET via ``pagination`` (``page`` counts pages of ``limit`` rows from 0, so an OFFSET needs a
  page size dividing it; when none is useful, a window of up to 5 pages is one ``$skip``/``$limit``
  aggregation request, see ``_window_by_pipeline``). COUNT(*) via ``returnCount`` (``metadata.count``).
* Boundary check while paging (``fetch/scan.py``): pages after the first are requested one row early,
  which ``page`` alone cannot express, so they are sent as ``page: 0`` plus ``skip`` = the row to start
  at. ``skip`` is in the query type (``interfaces.d.ts``: ``pagination?: { limit?: number; page?: number;
  skip?: number }``, docs/notes/totalum-api.md "Query shape" [C]); that the API adds it to ``page * limit`` (Mongo's
  ``.skip()``) is [U], so with ``page: 0`` either reading gives the same rows. A server that ignored it
  would answer page 0 again, which the check reports as such (``InconsistentScan`` naming the option);
  option ``drift_check = false`` then returns to plain page numbers without the check.
* GROUP BY with COUNT(*)/COUNT/SUM/AVG/MIN/MAX over exact filters: one ``POST
  api/v1/filter/custom-mongo-aggregation-query`` (seed "Do a custom mongodb aggregation query") with
  ``[{$match}, {$group}]`` as strict JSON text; see ``can_aggregate`` and ``_mongo`` for why its groups
  and NULL handling equal SQL's (DuckDB re-aggregates them). Opt-in (option ``aggregate = true``):
  the body is inferred from the seed's example, and the answer reports no total, so a server-side
  cap on its size would drop groups unseen (issue 13).
* Answers without a total (the seed's example answer is a bare JSON array, and the many-to-many
  endpoint documents no ``returnCount``): pages after the first ask at most 50 rows (the documented
  default ``limit``) and the scan ends only on a page that adds no row, never on a short one, since
  the maximum page size is undocumented (``OffsetPaging.short_page_ends``); a COUNT(*) then reads
  the rows. A server ignoring ``pagination[...]`` answers page 0 again, which the boundary check
  reports.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dialect._base import AuthPlan, ColumnDef, Dialect, Discovery, Secret, TableDef, table_as
from dialect._render import ascii_cased, case_class, int_if_whole, like_to_regex, object_id, sendable
from lowcode_sql.errors import DialectError, MissingRequiredFilter
from lowcode_sql.ir import And, Cmp, Const, Exactness, InList, IsNull, Like, LikePattern, Op, Or, Pred
from lowcode_sql.requests import HttpRequest, NoPaging, OffsetPaging, Page, ScanRequest
from lowcode_sql.scanspec import Aggregate, ScanSpec, SortKey

__all__ = ["Totalum", "like_regex"]

_TEXT_TYPES = frozenset({"text", "long-text", "longtext", "string", "options", "select", "email", "phone", "url"})
_REF_TYPES = frozenset({"many-to-one", "objectReference"})
_TS = pa.timestamp("us", tz="UTC")
# property kind -> how ``sendable`` checks a literal for it
_STORED = {"number": "number", "boolean": "boolean", "date": "instant", "id": "objectid", "ref": "objectid",
           "text": "text"}
_RANGE = {Op.LT: "lt", Op.LE: "lte", Op.GT: "gt", Op.GE: "gte"}
_MAX_BRANCHES = 32
_MAX_IN = 200  # values in one ``in`` array (option in_operator)
# seed "pagination": limit defaults to 50; no maximum is documented. Answers without a count (the
# seed's example is a bare array; the many-to-many endpoint) are read in pages of at most this, and
# only a page adding no row ends them: a short page may be a server cap (fetch/scan.py).
_DEFAULT_LIMIT = 50
_WINDOW_PAGES = 5  # an OFFSET window read by one aggregation request: at most this many pages
_SYSTEM = (
    ColumnDef("_id", pa.string(), doc="record id (ObjectId)"),
    ColumnDef("createdAt", _TS, parse="iso", doc="creation time"),
    ColumnDef("updatedAt", _TS, parse="iso", doc="last modification time"),
)
_SYSTEM_KINDS = {"_id": "id", "createdAt": "date", "updatedAt": "date"}


@dataclass(frozen=True, kw_only=True)
class TotalumTable(TableDef):
    """A Totalum table: ``kinds`` maps each column to its property kind (text, number, date, boolean,
    id, ref, file); a many-to-many ``link`` table reads ``table_id`` records per (source table,
    property) through ``source_id``."""

    table_id: str
    kinds: Mapping[str, str]
    link: tuple[str, str] | None = None


_EQUALITY = frozenset({"IS NULL", "IS NOT NULL", "=", "<>", "IN", "NOT IN"})
# What ``_translate`` may send, per property kind: ranges on numbers and dates only (SDK README), a
# regex for LIKE on text; files never.
_PUSHABLE = {"text": _EQUALITY | {"LIKE", "ILIKE"}, "number": _EQUALITY | {"<", "<=", ">", ">="},
             "date": _EQUALITY | {"<", "<=", ">", ">="}, "boolean": _EQUALITY, "id": _EQUALITY, "ref": _EQUALITY}


def _pushable(kinds: Mapping[str, str]) -> dict[str, frozenset[str]]:
    return {col: _PUSHABLE[kind] for col, kind in kinds.items() if kind in _PUSHABLE}


class Totalum(Dialect):
    name = "totalum"
    title = "Totalum (totalum.app)"
    CREDENTIALS = {"api_key": "API key, sent in the api-key header"}
    OPTIONS = {
        "page_size": (200, "records per page (the API's default is 50; its maximum is undocumented)"),
        "tables": ([], "restrict discovery to these table ids"),
        "request": ("get", "'get': GET api/v1/crud/{table} with a JSON filter (seed); "
                           "'post': POST api/v1/crud/query/{table} with a JSON body (SDK 2.0.40)"),
        "in_operator": (False, "the account accepts {field: {in: [...]}} (unconfirmed; default: or-lists)"),
        "drift_check": (True, "overlap each page with the one before by a row (sent as pagination.skip) to "
                              "detect rows moving during a scan; false saves that row per page, unchecked"),
        "aggregate": (False, "push GROUP BY with COUNT/SUM/AVG/MIN/MAX, and OFFSET windows, through the custom "
                             "Mongo aggregation endpoint (POST api/v1/filter/custom-mongo-aggregation-query); "
                             "opt-in: its body is inferred from the seed's example and its answer has no "
                             "total, so a server-side cap on it could not be detected"),
    }

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        if self.options["request"] not in ("get", "post"):
            raise DialectError("totalum option request must be 'get' or 'post'")
        size = self.options["page_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise DialectError("totalum option page_size must be a positive integer")

    # --- auth (seed "api-key header") -----------------------------------------------------------

    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan:
        if "api_key" not in credentials:
            raise DialectError("totalum needs the credential 'api_key' (a Totalum API key)")
        return AuthPlan(headers=(("api-key", credentials["api_key"]),))

    # --- discovery ------------------------------------------------------------------------------

    def discover(self) -> Discovery:
        listed = yield HttpRequest("GET", "api/v1/integrations/get-tables")
        if not isinstance(listed, list):
            raise DialectError("totalum: get-tables did not answer a JSON array")
        wanted = set(self.options["tables"] or [])
        structures: dict[str, list[Mapping[str, Any]]] = {}
        labels: dict[str, str] = {}
        for item in listed:
            tid = item.get("id") if isinstance(item, dict) else None
            if not isinstance(tid, str) or (wanted and tid not in wanted):
                continue
            props = yield HttpRequest("GET", "api/v1/integrations/get-table-structure",
                                      (("id", tid), ("usage", "read")))
            structures[tid] = [p for p in (props or []) if isinstance(p, dict) and isinstance(p.get("name"), str)]
            labels[tid] = str(item.get("label") or tid)
        return self.tables_from_structures(structures, labels)

    def tables_from_structures(self, structures: Mapping[str, Sequence[Mapping[str, Any]]],
                               labels: Mapping[str, str] | None = None) -> list[TableDef]:
        """TableDefs from ``get-table-structure`` answers (one per table id), link tables included."""
        labels = labels or {}
        tables: dict[str, TableDef] = {}
        links: list[tuple[str, str, str]] = []
        for tid, props in structures.items():
            columns = [_SYSTEM[0]]
            kinds: dict[str, str] = dict(_SYSTEM_KINDS)
            for p in props:
                name, ptype = p["name"], str(p.get("type") or "")
                if name in kinds:
                    continue
                col = _column(name, ptype, p)
                if col is not None:
                    columns.append(col)
                    kinds[name] = _kind(ptype)
                elif ptype == "many-to-many":
                    target = _target(p)
                    if target is not None:
                        links.append((tid, name, target))
            columns.extend(_SYSTEM[1:])
            tables[tid] = TotalumTable(tid, tuple(columns), doc=f"Totalum table {labels.get(tid, tid)!r}",
                                       key="_id", pushable=_pushable(kinds), table_id=tid, kinds=kinds)
        for tid, prop, target in links:
            if target not in tables:
                continue
            tgt = table_as(tables[target], TotalumTable)
            name = f"{tid}__{prop}"
            source = ColumnDef("source_id", pa.string(), filter_only=True,
                               doc=f"_id of the {tid} record; required: WHERE source_id = '<id>'")
            tables[name] = TotalumTable(
                name, (source, *tgt.columns),
                doc=f"Totalum many-to-many {tid}.{prop}: {target} records linked to one {tid} record",
                key="_id", pushable={**tgt.pushable, "source_id": frozenset({"="})},
                required_filters=frozenset({"source_id"}), table_id=target, kinds=dict(tgt.kinds),
                link=(tid, prop),
            )
        return list(tables.values())

    # --- pushdown -------------------------------------------------------------------------------

    def classify(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
        return [self._translate(table, p)[1] for p in conjuncts]

    def _translate(self, table: TableDef, pred: Pred) -> tuple[list[dict[str, Any]], Exactness]:
        """One top-level conjunct as filter-array elements and how exactly they select it."""
        tdef = table_as(table, TotalumTable)
        kinds = tdef.kinds
        if tdef.link is not None and getattr(pred, "column", None) == "source_id":
            ok = isinstance(pred, Cmp) and pred.op is Op.EQ and object_id(pred.value)
            return [], Exactness.EXACT if ok else Exactness.LOCAL
        if isinstance(pred, Cmp) and pred.op is Op.NE and (ne := self._leaf(kinds, pred)) is not None:
            # ne also matches missing/null: a separate "not null" element makes it exact
            return [{pred.column: {"ne": ne[1]["ne"]}}, {pred.column: {"ne": None}}], Exactness.EXACT
        if isinstance(pred, InList) and pred.negated:
            if not pred.values or any(v is None for v in pred.values) or kinds.get(pred.column) not in _EQ_KINDS:
                return [], Exactness.LOCAL
            if len(pred.values) > _MAX_BRANCHES:
                return [], Exactness.LOCAL  # one element per value: the filter travels in the URL
            if not all(_value_ok(kinds[pred.column], v, Op.NE) for v in pred.values):
                return [], Exactness.LOCAL
            out = [{pred.column: {"ne": _wire(kinds[pred.column], v)}} for v in pred.values]
            return [*out, {pred.column: {"ne": None}}], Exactness.EXACT
        if isinstance(pred, Or | InList):
            return self._disjunction(kinds, pred)
        leaf = self._leaf(kinds, pred)
        if leaf is None:
            return [], Exactness.LOCAL
        (field, cond), exact = leaf, self._leaf_exact(pred)
        return [{field: cond}], exact

    @staticmethod
    def _leaf_exact(pred: Pred) -> Exactness:
        # alone, ``ne`` matches missing/null too (a superset of SQL's <>)
        return Exactness.SUPERSET if isinstance(pred, Cmp) and pred.op is Op.NE else Exactness.EXACT

    def _leaf(self, kinds: Mapping[str, str], pred: Pred) -> tuple[str, Any] | None:
        """(field, condition) for one leaf, or None when it cannot be sent."""
        col: str | None = getattr(pred, "column", None)
        kind = kinds.get(col) if col else None
        if not col or kind is None or kind == "file":
            return None
        if isinstance(pred, IsNull):
            return (col, {"ne": None}) if pred.negated else (col, None)
        if isinstance(pred, Cmp):
            if pred.value is None or not _value_ok(kind, pred.value, pred.op):
                return None
            v = _wire(kind, pred.value)
            if pred.op is Op.EQ:
                return col, v
            if pred.op is Op.NE:
                return col, {"ne": v}
            if kind not in ("number", "date"):
                return None  # gt/gte/lt/lte only on number and date properties (SDK README)
            return col, {_RANGE[pred.op]: v}
        if isinstance(pred, Like) and not pred.negated and kind == "text":
            regex = like_regex(pred.pattern, pred.case_insensitive)
            return None if regex is None else (col, {"regex": regex})
        return None

    def _disjunction(self, kinds: Mapping[str, str], pred: Pred) -> tuple[list[dict[str, Any]], Exactness]:
        branches = _dnf(pred, self.options["in_operator"])
        if not branches:
            return [], Exactness.LOCAL
        exact = True
        conds: list[dict[str, Any]] = []
        for branch in branches:
            cond: dict[str, Any] = {}
            null_free: set[str] = set()
            pending_ne: list[str] = []
            for leaf in branch:
                if isinstance(leaf, InList) and not leaf.negated:  # only with in_operator (see _dnf)
                    kind = kinds.get(leaf.column)
                    vals = [v for v in leaf.values if v is not None]
                    if kind not in _EQ_KINDS or not all(_value_ok(kind, v, Op.EQ) for v in vals) or \
                            leaf.column in cond:
                        exact = False
                        continue
                    cond[leaf.column] = {"in": [_wire(kind, v) for v in vals]}
                    null_free.add(leaf.column)
                    continue
                got = self._leaf(kinds, leaf)
                if got is None or not _merge(cond, *got):
                    exact = False  # dropping a leaf widens only its branch: a superset
                    continue
                field = got[0]
                if isinstance(leaf, Cmp) and leaf.op is Op.NE:
                    pending_ne.append(field)
                elif not (isinstance(leaf, IsNull) and not leaf.negated):
                    null_free.add(field)
            # a branch's ``ne`` is exact when another leaf of the branch rejects NULL on that field
            if any(f not in null_free for f in pending_ne):
                exact = False
            if not cond:
                return [], Exactness.LOCAL  # a branch with nothing sendable is TRUE: the OR says nothing
            conds.append(cond)
        element = conds[0] if len(conds) == 1 else {"or": conds}
        return [element], Exactness.EXACT if exact else Exactness.SUPERSET

    def can_sort(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        kinds = table_as(table, TotalumTable).kinds
        for k in keys:
            # not references: a many-to-one may hold an ObjectId or its text (see ``_mongo``), and
            # BSON sorts every string before every ObjectId, whatever the hex digits say
            if kinds.get(k.column) not in ("text", "number", "date", "boolean", "id"):
                return False
            # Mongo orders null and missing lowest: first ascending, last descending (the system
            # fields are never null, so there NULL placement is moot)
            if k.column not in _SYSTEM_KINDS and k.nulls_first != (not k.descending):
                return False
        return True

    def can_count(self, table: TableDef) -> bool:
        return table_as(table, TotalumTable).link is None  # the many-to-many endpoint documents no returnCount

    def can_aggregate(self, table: TableDef, keys: Sequence[str], aggregates: Sequence[Aggregate],
                      filters: Sequence[Pred] = ()) -> bool:
        tdef = table_as(table, TotalumTable)
        # ``$group`` on ``{k: "$k"}`` keys groups by BSON equality: 1 and 1.0 together, strings
        # binary, dates by instant, as SQL's GROUP BY on these types. A missing key and a stored null
        # are two Mongo groups (``{}`` vs ``{k: null}``) but one SQL group: a split DuckDB merges again.
        # ``$sum`` ignores non-numbers (NULL and missing) and answers 0 over none: the engine also asks
        # ``count`` and makes such a SUM NULL. ``$min``/``$max`` ignore null and missing and order a
        # single-typed column as SQL does. File and many-to-many data stay out (objects, junctions).
        if not self.options["aggregate"] or tdef.link is not None:
            return False
        kinds = tdef.kinds
        if any(kinds.get(k) not in _EQ_KINDS for k in keys):
            return False
        for a in aggregates:
            if a.func == "count_star":
                continue
            kind = kinds.get(a.column or "")
            if kind not in _EQ_KINDS or (a.func == "sum" and kind != "number"):
                return False
            if a.func in ("min", "max") and kind == "ref":
                return False  # mixed ObjectId/text references: BSON order is not the text order
        return True

    # --- rendering ------------------------------------------------------------------------------

    def render_scan(self, table: TableDef, spec: ScanSpec) -> ScanRequest:
        tdef = table_as(table, TotalumTable)
        flt: list[dict[str, Any]] = []
        notes = []
        for pred, exactness in spec.pushed:
            notes.append(f"{pred}: {exactness.name.lower()}")
            flt.extend(e for e in self._translate(table, pred)[0] if e not in flt)
        sort: dict[str, int] = {}
        for k in spec.order:
            sort.setdefault(k.column, -1 if k.descending else 1)  # a repeated key is moot: the first wins
        sort.setdefault("_id", 1)  # a total order, so pages never overlap or skip ties
        link = tdef.link
        if spec.grouped:
            return self._render_aggregate(table, spec, flt, tuple(notes))
        if link is not None:
            ids = {p.value for p, _ in spec.pushed if isinstance(p, Cmp) and p.column == "source_id"}
            if len(ids) != 1:
                # a query error, not a dialect bug: the platform serves these rows per source record only
                raise MissingRequiredFilter(
                    f"totalum {table.name}: many-to-many rows are read per {link[0]} record; "
                    f"add WHERE source_id = '<{link[0]} _id>' (one {link[0]} record's _id)")
            path = f"api/v1/crud/{link[0]}/{ids.pop()}/{link[1]}"
        else:
            path = f"api/v1/crud/{tdef.table_id}"
            if self._window_by_pipeline(spec):
                return self._render_window(table, spec, flt, sort, tuple(notes))
        size = self._page_size(spec, link is not None)
        count = link is None
        if self.options["request"] == "post" and link is None:
            body: dict[str, Any] = {"filter": flt, "sort": sort, "returnCount": True}
            paging = OffsetPaging("pagination.page", "pagination.limit", size, start=spec.offset,
                                  max_rows=spec.limit, page_number=True, container="body",
                                  overlap=bool(self.options["drift_check"]), skip_param="pagination.skip",
                                  short_page_ends=False, untotalled_page_size=_DEFAULT_LIMIT)
            return ScanRequest(HttpRequest("POST", f"api/v1/crud/query/{tdef.table_id}", json=body),
                               paging, tuple(notes))
        params: list[tuple[str, str]] = []
        if flt:
            params.append(("filter", json.dumps(flt, ensure_ascii=False, separators=(",", ":"))))
        params.extend((f"sort[{k}]", str(v)) for k, v in sort.items())
        if count:
            params.append(("returnCount", "true"))
        paging = OffsetPaging("pagination[page]", "pagination[limit]", size, start=spec.offset, max_rows=spec.limit,
                              page_number=True, overlap=bool(self.options["drift_check"]),
                              skip_param="pagination[skip]", short_page_ends=False,
                              untotalled_page_size=_DEFAULT_LIMIT)
        return ScanRequest(HttpRequest("GET", path, tuple(params)), paging, tuple(notes))

    def _render_aggregate(self, table: TableDef, spec: ScanSpec, flt: list[dict[str, Any]],
                          notes: tuple[str, ...]) -> ScanRequest:
        """One pipeline: ``$match`` (the pushed filter in Mongo's own language), ``$group``."""
        kinds = table_as(table, TotalumTable).kinds
        group: dict[str, Any] = {"_id": {k: "$" + k for k in spec.group_by} if spec.group_by else None}
        for a in spec.aggregates:
            field = "$" + (a.column or "")
            if a.func == "count_star":
                group[a.name] = {"$sum": 1}
            elif a.func == "count":
                # values above null: missing < null < any value in aggregation comparisons
                group[a.name] = {"$sum": {"$cond": [{"$gt": [field, None]}, 1, 0]}}
            else:
                group[a.name] = {"$" + a.func: field}
        return _pipeline_request(table, [*_match(kinds, flt), {"$group": group}], notes)

    def _window_by_pipeline(self, spec: ScanSpec) -> bool:
        """Whether a pushed OFFSET is cheaper as one ``$skip``/``$limit`` pipeline than as pages.

        ``page`` counts pages of ``limit`` rows, so the REST call reaches row ``o`` only with a page
        size dividing ``o``: OFFSET 211 LIMIT 20 would be 20 one-row pages. The engine cannot start
        at an aligned page below the OFFSET and drop the rows before it, so such a window is read in
        one aggregation request instead (seed "Do a custom mongodb aggregation query"; the same
        endpoint, ``$match`` and sort order as GROUP BY pushdown). Only for a LIMIT of at most
        ``_WINDOW_PAGES`` pages: that answer has no total, so an (undocumented) cap on its size could
        not be told from the end of the data, whereas REST pages are checked against ``returnCount``."""
        if not self.options["aggregate"] or not spec.offset or spec.limit is None:
            return False
        size = int(self.options["page_size"])
        if not 1 <= spec.limit <= _WINDOW_PAGES * size:
            return False
        ideal = -(-spec.limit // min(size, spec.limit))  # pages without the OFFSET
        return -(-spec.limit // self._page_size(spec)) > ideal + 1  # pages of a size dividing the OFFSET

    def _render_window(self, table: TableDef, spec: ScanSpec, flt: list[dict[str, Any]], sort: dict[str, int],
                       notes: tuple[str, ...]) -> ScanRequest:
        """``[{$match}, {$sort}, {$skip: OFFSET}, {$limit: LIMIT}]``: the same rows, order and tie-breaker
        as the REST pages, in one request (``_window_by_pipeline``)."""
        stages = [*_match(table_as(table, TotalumTable).kinds, flt), {"$sort": sort}, {"$skip": spec.offset},
                  {"$limit": spec.limit}]
        why = f"OFFSET {spec.offset}: no useful page size divides it, one $skip/$limit aggregation request"
        return _pipeline_request(table, stages, (*notes, why))

    def _page_size(self, spec: ScanSpec, link: bool = False) -> int:
        size = int(self.options["page_size"])
        if link:
            # no total on the relation endpoint: a short page is read as the end, so the page size
            # must be one the server never clamps; 50 is its documented default (seed "pagination")
            size = min(size, _DEFAULT_LIMIT)
        if spec.limit is not None:
            size = max(1, min(size, spec.limit))
        if spec.offset:
            # ``page`` counts pages of ``limit`` rows: the page size must divide the OFFSET
            size = max(d for d in range(1, size + 1) if spec.offset % d == 0)
        return size

    def parse_page(self, table: TableDef, body: Any) -> Page:
        if isinstance(body, list):  # the seed's example answer is a bare array
            return Page(body)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise DialectError(f"totalum {table.name}: expected a JSON object with 'data', got {type(body).__name__}")
        meta = body.get("metadata")
        count = meta.get("count") if isinstance(meta, dict) else None
        records = body["data"]
        if records and isinstance(records[0], dict) and "_id" in records[0] and not isinstance(records[0]["_id"], str):
            # a $group answer: the keys are inside _id ({k: v}, or null for one global group)
            records = [{**(r.get("_id") or {}), **{k: v for k, v in r.items() if k != "_id"}} for r in records]
        return Page(records, count if isinstance(count, int) and not isinstance(count, bool) else None)

    def page_layout(self, table: TableDef, request: ScanRequest) -> tuple[str, tuple[str, ...]] | None:
        """``parse_page``'s CRUD answer as data (``Dialect.page_layout``). A pipeline's answer (POST)
        may hold ``$group`` records, which ``parse_page`` reshapes: never read straight."""
        if request.base.method != "GET":
            return None
        return ("data", ("metadata", "count"))

    def echo_values(self, spec: ScanSpec) -> dict[str, Any]:
        for p, _ in spec.pushed:
            if isinstance(p, Cmp) and p.column == "source_id" and p.op is Op.EQ:
                return {"source_id": p.value}
        return {}


# --- helpers ------------------------------------------------------------------------------------

_EQ_KINDS = frozenset({"text", "number", "date", "boolean", "id", "ref"})


def _kind(ptype: str) -> str:
    if ptype in _TEXT_TYPES:
        return "text"
    if ptype in _REF_TYPES:
        return "ref"
    return ptype  # number | date | boolean | file


def _target(prop: Mapping[str, Any]) -> str | None:
    for s in prop.get("spec") or []:
        if isinstance(s, dict) and s.get("type") == "table" and isinstance(s.get("name"), str):
            return str(s["name"])
    return None


def _column(name: str, ptype: str, prop: Mapping[str, Any]) -> ColumnDef | None:
    label = str(prop.get("label") or name)
    if ptype in _TEXT_TYPES:
        return ColumnDef(name, pa.string(), doc=f"{label} ({ptype})")
    if ptype == "number":
        return ColumnDef(name, pa.float64(), doc=f"{label} (number)")
    if ptype == "date":
        return ColumnDef(name, _TS, parse="iso", doc=f"{label} (date)")
    if ptype == "boolean":
        return ColumnDef(name, pa.bool_(), doc=f"{label} (boolean)")
    if ptype == "file":
        return ColumnDef(name, pa.string(), path=(name, "name"), doc=f"{label} (file name id)")
    if ptype in _REF_TYPES:
        target = _target(prop)
        return ColumnDef(name, pa.string(), doc=f"{label}: _id of the referenced {target or 'record'}")
    return None  # one-to-many (the other side's many-to-one), many-to-many (a link table), unknown


def _value_ok(kind: str, value: Any, op: Op) -> bool:
    # JSON has no NaN or Infinity; BSON dates hold milliseconds; the server casts ids to ObjectId;
    # text is compared for (in)equality only (see ``sendable``); files never
    return sendable(value, _STORED.get(kind, ""), op, text_ranges=False)


def _wire(kind: str, value: Any) -> Any:
    if kind == "date":
        v = value.astimezone(dt.UTC)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
    return int_if_whole(value) if kind == "number" else value


def _match(kinds: Mapping[str, str], flt: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The pushed filter elements as a ``$match`` stage (none when there is no filter)."""
    if not flt:
        return []
    match = [_mongo(kinds, e) for e in flt]
    return [{"$match": match[0] if len(match) == 1 else {"$and": match}}]


def _pipeline_request(table: TableDef, stages: list[dict[str, Any]], notes: tuple[str, ...]) -> ScanRequest:
    """One ``POST api/v1/filter/custom-mongo-aggregation-query``; the pipeline goes as strict JSON text."""
    body = {"customMongoQuery": json.dumps(stages, ensure_ascii=False, separators=(",", ":")),
            "type": table_as(table, TotalumTable).table_id}
    return ScanRequest(HttpRequest("POST", "api/v1/filter/custom-mongo-aggregation-query", json=body),
                       NoPaging(), notes)


_MONGO_OP = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte", "ne": "$ne"}


def _mongo(kinds: Mapping[str, str], element: Mapping[str, Any]) -> dict[str, Any]:
    """A Totalum filter element in MongoDB's query language, for a raw ``$match``.

    The REST filter casts operands by property type; a raw pipeline does not, so dates and ObjectIds
    are compared through ``$expr`` with ``$toDate``/``$toObjectId`` (pure JSON, whatever parses the
    pipeline text). In ``$expr`` a null or missing field sorts below every value, so ``lt``/``lte``
    also demand a non-null field, as the REST operators (and SQL) do."""
    parts: list[dict[str, Any]] = []
    for field, cond in element.items():
        if field == "or":
            parts.append({"$or": [_mongo(kinds, c) for c in cond]})
            continue
        kind = kinds.get(field)
        cast = {"date": "$toDate", "id": "$toObjectId", "ref": "$toObjectId"}.get(kind or "")
        ops = cond if isinstance(cond, dict) else {"eq": cond}
        for op, v in ops.items():
            if v is None:
                parts.append({field: None} if op == "eq" else {field: {"$ne": None}})
            elif op == "regex":
                parts.append({field: {"$regex": v}})
            elif op == "in":
                parts.append({"$or": [_mongo(kinds, {field: x}) for x in v]})
            elif cast is None:
                parts.append({field: v} if op == "eq" else {field: {_MONGO_OP[op]: v}})
            else:
                test: dict[str, Any] = {"$expr": {_MONGO_OP.get(op, "$eq"): ["$" + field, {cast: v}]}}
                if kind == "ref":
                    # a many-to-one "stores the referenced _id" (docs/notes/totalum-api.md), as an ObjectId or as
                    # its text: match either form (= is either equal, <> is both unequal)
                    plain = {field: v} if op == "eq" else {field: {"$ne": v}}
                    test = {"$or" if op == "eq" else "$and": [plain, test]}
                parts.append({"$and": [{field: {"$ne": None}}, test]} if op in ("lt", "lte") else test)
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _merge(cond: dict[str, Any], field: str, c: Any) -> bool:
    """Add ``field: c`` to a cond object (keys ANDed); False when it cannot share the object."""
    if field not in cond:
        cond[field] = c
        return True
    old = cond[field]
    if isinstance(old, dict) and isinstance(c, dict) and not (set(old) & set(c)) and "regex" not in old:
        old.update(c)
        return True
    return old == c


def _dnf(pred: Pred, in_operator: bool) -> list[list[Pred]] | None:
    """OR-of-ANDs of leaves (IN expanded to equalities unless ``in_operator``), None when too big."""
    if isinstance(pred, Or):
        out: list[list[Pred]] = []
        for item in pred.items:
            sub = _dnf(item, in_operator)
            if sub is None:
                return None
            out.extend(sub)
            if len(out) > _MAX_BRANCHES:
                return None
        return out
    if isinstance(pred, And):
        acc: list[list[Pred]] = [[]]
        for item in pred.items:
            sub = _dnf(item, in_operator)
            if sub is None:
                return None
            acc = [a + b for a, b in itertools.product(acc, sub)]
            if len(acc) > _MAX_BRANCHES:
                return None
        return acc
    if isinstance(pred, InList) and not pred.negated:
        vals = [v for v in pred.values if v is not None]  # x IN (.., NULL) keeps the same rows in WHERE
        if not vals:
            return None
        if in_operator:
            # one array, but still in the URL of a GET: a long list stays local
            return [[InList(pred.column, tuple(vals))]] if len(vals) <= _MAX_IN else None
        if len(vals) > _MAX_BRANCHES:
            return None
        return [[Cmp(pred.column, Op.EQ, v)] for v in vals]
    if isinstance(pred, Const):
        return [[]] if pred.value else []
    return [[pred]]


# --- LIKE -> PCRE -------------------------------------------------------------------------------

_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _escape(ch: str, case_insensitive: bool) -> str:
    if case_insensitive and _ASCII_LETTER.match(ch):
        return case_class(ch)
    if ch == "\n":
        return r"\n"
    if ch.isascii() and not ch.isalnum():
        return "\\" + ch if ch.isprintable() else f"\\x{ord(ch):02x}"
    return ch


def like_regex(pattern: LikePattern, case_insensitive: bool = False) -> str | None:
    """A PCRE regex (no options) matching exactly the strings the (I)LIKE pattern matches, or None
    when ILIKE would need Unicode case folding (a cased non-ASCII literal)."""
    if case_insensitive and not ascii_cased(pattern):
        return None
    return like_to_regex(pattern, lambda ch: _escape(ch, case_insensitive), trim=True)
