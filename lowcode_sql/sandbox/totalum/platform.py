"""The Totalum emulator: routing, auth, discovery, lists and data loading.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response, warn_beyond_double
from lowcode_sql.sandbox._mongo import MISSING, BDate, ObjectId
from lowcode_sql.sandbox.totalum import sample
from lowcode_sql.sandbox.totalum.aggregate import _aggregate
from lowcode_sql.sandbox.totalum.filters import _sort_docs, compile_filter, sort_keys
from lowcode_sql.sandbox.totalum.query import (
    BODY_KEYS,
    LIST_PARAMS,
    _int,
    _json_or_qs,
    _strict_json,
    _truthy,
    undocumented_params,
    undocumented_query,
)
from lowcode_sql.sandbox.totalum.values import API, TotalumHTTPError, _Prop, _Table


def _fold_equalities(table: _Table, flt: Any) -> Any:
    """Variant ``case_insensitive_eq``: a text equality becomes a caseless whole-string regex, as a
    case-insensitive collation would compare it."""
    if isinstance(flt, list):
        return [_fold_equalities(table, e) for e in flt]
    if isinstance(flt, dict):
        out: dict[str, Any] = {}
        for k, v in flt.items():
            prop = table.props.get(k)
            if k == "or":
                out[k] = _fold_equalities(table, v)
            elif isinstance(v, str) and prop is not None and prop.type in ("text", "options"):
                out[k] = {"regex": "^" + re.escape(v) + r"(?![\s\S])", "options": "i"}
            else:
                out[k] = v
        return out
    return flt


# --------------------------------------------------------------------------------------------
# The platform
# --------------------------------------------------------------------------------------------


class TotalumSandbox(Platform):
    """The Totalum REST API over in-memory tables (see the module docstring for the sources)."""

    name = "totalum"
    #: what ``lowcode_sql.demo()`` and sandbox sources use
    DEMO_CREDENTIALS = {"api_key": "demo-api-key"}
    DEMO_OPTIONS: dict[str, Any] = {}
    VARIANTS = {
        # seed "get items": its example answer is a bare JSON array; the {data, metadata} envelope is
        # what the SDK reads (notes "Response"). A bare array carries no count.
        "bare_array": "list answers are a bare JSON array (the seed's example): no metadata.count",
        # seed "pagination": limit defaults to 50; a maximum is not documented
        "page_cap_50": "pagination.limit is capped at 50 (the documented default); limit 0 too",
        "page_cap_20": "pagination.limit is capped at 20 (below the documented default)",
        "ignore_pagination": "pagination[...] is ignored: every list answers page 0 of 50 rows",
        "ignore_skip": "pagination.skip is ignored (its meaning is [U] in the notes)",
        "sort_ignored": "sort is ignored: rows come in insertion order",
        "case_insensitive_eq": "text equality compares case-insensitively (a collation with strength 2)",
        "nulls_last": "a sort puts null and missing values last in both directions (not Mongo's lowest)",
        "aggregation_cap_20": "the custom aggregation endpoint answers at most 20 documents",
    }

    def __init__(
        self,
        *,
        api_keys: tuple[str, ...] = ("demo-api-key",),
        restricted_keys: Mapping[str, Iterable[str]] | None = None,
        max_page_size: int | None = None,
        supports_in: bool = True,
        sample_data: bool | str = True,
        **kw: Any,
    ) -> None:
        super().__init__(sample_data=sample_data, **kw)
        #: whether the filter accepts ``in``/``nin`` (docs/notes/totalum-api.md: conflicting evidence; False answers
        #: them with a 400, as an account without them would)
        self.supports_in = supports_in
        self.api_keys = tuple(api_keys)
        self.restricted_keys = {k: frozenset(v) for k, v in (restricted_keys or {}).items()}
        self.max_page_size = max_page_size
        self.tables: dict[str, _Table] = {}
        self.links: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (table, m2m prop) -> (id, target id)
        self._oid_counter = 0
        self._trace = 0
        self._sorts = 0
        self._oid_rng = random.Random(f"totalum-oid:{self.seed}")
        self._oid_process = self._oid_rng.getrandbits(40)
        if self.sample_data:
            self.load_sample_data()

    # -- framework hooks ---------------------------------------------------------------------

    def error_response(self, status: int, message: str) -> Response:
        self._trace += 1
        titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
        trace = hashlib.sha1(f"{self.seed}:{self._trace}".encode()).hexdigest()[:16]
        return json_response({
            "type": f"https://httpstatuses.io/{status}", "title": titles.get(status, "Error"), "status": status,
            "detail": message, "traceId": f"00-{trace}-01",
        }, status)

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except TotalumHTTPError as exc:
            return self.error_response(exc.status, exc.detail)

    # -- ids ---------------------------------------------------------------------------------

    def new_oid(self) -> str:
        """Deterministic, increasing ObjectIds (4-byte time, 5-byte process value, 3-byte counter)."""
        self._oid_counter += 1
        ts = 1_700_000_000 + self._oid_counter
        return f"{ts:08x}{self._oid_process:010x}{self._oid_counter & 0xFFFFFF:06x}"

    def _tie_rng(self) -> random.Random:
        """A different, reproducible order of ties for each sorted request."""
        self._sorts += 1
        return random.Random(f"totalum-ties:{self.seed}:{self._sorts}")

    # -- routing -----------------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if not path.startswith(API + "/"):
            raise TotalumHTTPError(404, f"Cannot {request.method} {request.path}")
        key = request.header("api-key") or request.header("authorization")
        if not key or (key not in self.api_keys and key not in self.restricted_keys):
            raise TotalumHTTPError(401, "The API key provided was missing or invalid.")
        allowed = self.restricted_keys.get(key)
        parts = path[len(API) + 1:].split("/")
        method = request.method.upper()
        if parts == ["data-structure"] and method == "GET":
            return json_response({"data": [self._structure(t) for t in self._visible(allowed)]})
        if parts == ["integrations", "get-tables"] and method == "GET":
            return json_response([{"id": t.name, "label": t.label} for t in self._visible(allowed)])
        if parts == ["integrations", "get-table-structure"] and method == "GET":
            table = self._table(request.arg("id") or "", allowed)
            return json_response(self._table_structure(table, request.arg("usage") or "read"))
        if parts[0] == "crud":
            if len(parts) == 3 and parts[1] == "query" and method == "POST":
                table = self._table(parts[2], allowed)
                body = self._body(request)
                if self.strict and (extra := sorted(set(body) - BODY_KEYS)):
                    raise TotalumHTTPError(400, f"undocumented body key {extra[0]!r}")
                return json_response(self._list(table, table.rows, body.get("filter"), body.get("sort"),
                                                body.get("pagination"), _truthy(body.get("returnCount")), False))
            if method != "GET" or len(parts) not in (2, 3, 4):
                raise TotalumHTTPError(404, f"Cannot {request.method} {request.path}")
            table = self._table(parts[1], allowed)
            if len(parts) == 2:
                return self._list_get(request, table, table.rows, count_allowed=True)
            doc = table.by_id(parts[2])
            if doc is None:
                raise TotalumHTTPError(404, f"item {parts[2]!r} not found in table {table.name!r}")
            if len(parts) == 3:
                return json_response({"data": self._out(doc)})
            prop = table.props.get(parts[3])
            if prop is None or prop.type != "many-to-many" or prop.target is None:
                raise TotalumHTTPError(400, f"{parts[3]!r} is not a many-to-many property of {table.name!r}")
            target = self._table(prop.target, allowed)
            ids = [t for s, t in self.links.get((table.name, prop.name), []) if s == doc["_id"]]
            wanted = set(ids)
            linked = [r for r in target.rows if r["_id"] in wanted]
            return self._list_get(request, target, linked, count_allowed=False)
        if parts == ["filter", "custom-mongo-aggregation-query"] and method == "POST":
            body = self._body(request)
            if self.strict and (extra := sorted(set(body) - {"customMongoQuery", "type"})):  # seed's example body
                raise TotalumHTTPError(400, f"undocumented body key {extra[0]!r}")
            table = self._table(str(body.get("type") or ""), allowed)
            text = body.get("customMongoQuery")
            try:
                pipeline = _strict_json(text) if isinstance(text, str) else text
            except ValueError as exc:
                raise TotalumHTTPError(400, f"customMongoQuery is not valid JSON: {exc}") from None
            if not isinstance(pipeline, list):
                raise TotalumHTTPError(400, "customMongoQuery must be an array of pipeline stages")
            docs = _aggregate(table, list(table.rows), pipeline, self._tie_rng(),
                              caseless=self.variant("case_insensitive_eq"))
            if self.variant("aggregation_cap_20"):
                docs = docs[:20]
            return json_response({"data": [self._out(d) for d in docs]})
        raise TotalumHTTPError(404, f"Cannot {request.method} {request.path}")

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise TotalumHTTPError(400, "the request body is not valid JSON") from None
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise TotalumHTTPError(400, "the request body must be a JSON object")
        return body

    def _visible(self, allowed: frozenset[str] | None) -> list[_Table]:
        return [t for t in self.tables.values() if allowed is None or t.name in allowed]

    def _table(self, name: str, allowed: frozenset[str] | None) -> _Table:
        table = self.tables.get(name)
        if table is None:
            raise TotalumHTTPError(404, f"table {name!r} does not exist")
        if allowed is not None and name not in allowed:
            raise TotalumHTTPError(403, f"The API key provided does not have access to table {name!r}.")
        return table

    # -- discovery ---------------------------------------------------------------------------

    @staticmethod
    def _prop_json(p: _Prop) -> dict[str, Any]:
        spec: list[dict[str, Any]] = [{"name": c, "label": c, "type": "option"} for c in p.choices]
        if p.target is not None:
            spec = [{"name": p.target, "label": p.target, "type": "table"}]
        return {"name": p.name, "label": p.label or p.name, "type": p.type, "required": p.required,
                "value": "", "spec": spec}

    def _structure(self, t: _Table) -> dict[str, Any]:
        return {"_id": t.oid, "name": t.name, "label": t.label,
                "properties": [{"_id": hashlib.sha1(f"{t.name}.{p.name}".encode()).hexdigest()[:24],
                                **self._prop_json(p)} for p in t.props.values()]}

    def _table_structure(self, t: _Table, usage: str) -> list[dict[str, Any]]:
        if usage not in ("read", "filter", "create", "edit", "files"):
            raise TotalumHTTPError(400, f"usage must be one of read, filter, create, edit, files; got {usage!r}")
        out = []
        for p in t.props.values():
            if usage == "files" and p.type != "file":
                continue
            if usage in ("filter", "create", "edit") and p.type in ("one-to-many", "many-to-many"):
                continue
            out.append(self._prop_json(p))
        return out

    # -- lists -------------------------------------------------------------------------------

    def _list_get(self, request: Request, table: _Table, rows: list[dict[str, Any]], count_allowed: bool) -> Response:
        allowed = LIST_PARAMS if count_allowed else LIST_PARAMS - {"returnCount"}
        if self.strict and (bad := undocumented_params(request, allowed)) is not None:
            raise TotalumHTTPError(400, f"undocumented query parameter {bad!r}")
        flt, flt_text = _json_or_qs(request, "filter")
        sort, _ = _json_or_qs(request, "sort")
        pagination, _ = _json_or_qs(request, "pagination")
        if pagination is None and (request.arg("page") is not None or request.arg("limit") is not None):
            pagination = {"page": request.arg("page"), "limit": request.arg("limit")}
        count = count_allowed and _truthy(request.arg("returnCount"))
        return json_response(self._list(table, rows, flt, sort, pagination, count, flt_text))

    def _list(self, table: _Table, rows: list[dict[str, Any]], flt: Any, sort: Any, pagination: Any,
              return_count: bool, flt_text: bool) -> dict[str, Any] | list[dict[str, Any]]:
        if not self.supports_in and flt is not None and re.search(r'"n?in"\s*:', json.dumps(flt)):
            raise TotalumHTTPError(400, "unknown filter operator 'in': use 'or' with equalities")
        if self.strict and (bad := undocumented_query(flt, sort, pagination)) is not None:
            raise TotalumHTTPError(400, f"undocumented: {bad}")
        if self.variant("case_insensitive_eq"):
            flt = _fold_equalities(table, flt)
        match = compile_filter(table, flt, from_text=flt_text)
        # the whole table, unfiltered (what a scan reads): the stored list itself, only ever sliced
        plain = flt in (None, [], {}) and rows is table.rows
        if isinstance(sort, dict) and not self.variant("sort_ignored"):
            docs = self._sorted(table, rows, sort, match, plain)
        else:
            docs = rows if plain else [d for d in rows if match(d)]
            if sort is not None and not isinstance(sort, dict):
                raise TotalumHTTPError(400, "sort must be an object {property: 1 | -1}")
        if self.variant("nulls_last") and sort:  # after either path: a sorted answer's NULLs go last
            first = next(iter(sort))
            docs = [d for d in docs if d.get(first) is not None] + [d for d in docs if d.get(first) is None]
        if pagination is not None and not isinstance(pagination, dict):
            raise TotalumHTTPError(400, "pagination must be an object {page, limit}")
        pg = {} if self.variant("ignore_pagination") else (pagination or {})
        limit = _int(pg.get("limit"), "limit", 50)
        page = _int(pg.get("page"), "page", 0)
        skip = 0 if self.variant("ignore_skip") else _int(pg.get("skip"), "skip", 0)
        cap = self.max_page_size
        for name, size in (("page_cap_50", 50), ("page_cap_20", 20)):
            if self.variant(name):
                cap = size if cap is None else min(cap, size)
        if cap is not None and (limit == 0 or limit > cap):
            limit = cap
        start = page * limit + skip
        chosen = docs[start:] if limit == 0 else docs[start:start + limit]
        if self.variant("bare_array"):
            return [self._out(d) for d in chosen]
        out: dict[str, Any] = {"data": [self._out(d) for d in chosen]}
        if return_count:
            out["metadata"] = {"count": len(docs)}
        return out

    def _sorted(self, table: _Table, rows: list[dict[str, Any]], sort: dict[str, Any], match: Any,
                plain: bool) -> list[dict[str, Any]]:
        """The matching rows in ``sort`` order with this request's tie order (``_sort_docs``).

        A sort with ``_id`` among its keys (the dialect always adds it) over a table whose ``_id``
        values are distinct has no ties, so the tie order cannot show: the whole table sorted once
        (remembered until it changes) and filtered in that order is the same answer, without
        sorting on every page. Sorted by ``_id`` alone, distinct strings compare by code point in
        Mongo as in Python, so a key sort replaces the comparison sort."""
        rng = self._tie_rng()  # drawn for every sorted request, shortcut or not: later ties stay as they were
        keys = sort_keys(sort)  # a bad direction is a 400 either way
        if rows is table.rows and any(name == "_id" for name, _ in keys) and _unique_ids(table):
            if keys[0][0] == "_id":
                ordered = table.memo.get(table.stamp(), keys[0], lambda: _by_id(rows, keys[0][1]))
            else:
                ordered = table.memo.get(table.stamp(), tuple(keys), lambda: _sort_docs(rows, sort, rng))
            return ordered if plain else [d for d in ordered if match(d)]
        return _sort_docs(rows if plain else [d for d in rows if match(d)], sort, rng)

    @staticmethod
    def _out(doc: Mapping[str, Any]) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, BDate):
                return v.iso()
            if isinstance(v, ObjectId):
                return v.hex  # pipeline results (aggregate._bson_ids); JSON writes an ObjectId as its hex
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list):
                return [conv(x) for x in v]
            if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
                return int(v)  # JSON from JavaScript: 3.0 is written 3
            return v

        return {k: conv(v) for k, v in doc.items()}

    # -- data loading ------------------------------------------------------------------------

    def define_table(self, name: str, props: Iterable[_Prop], label: str = "") -> _Table:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", name):
            raise ValueError(f"invalid Totalum table name {name!r}")
        t = _Table(name, label or name.replace("_", " ").title(), {p.name: p for p in props}, oid=self.new_oid())
        self.tables[name] = t
        return t

    def add_row(self, table: str, values: Mapping[str, Any], oid: str | None = None,
                created: BDate | None = None) -> str:
        t = self.tables[table]
        oid = oid or self.new_oid()
        stamp = created or BDate(1_700_000_000_000 + self._oid_counter * 1000)
        doc: dict[str, Any] = {"_id": oid}
        doc.update({k: v for k, v in values.items() if v is not MISSING})
        doc["createdAt"] = stamp
        doc["updatedAt"] = stamp
        t.rows.append(doc)
        t.version += 1
        return oid

    def link(self, table: str, prop: str, source_id: str, target_id: str) -> None:
        """Add a many-to-many reference (both directions, like Totalum's junction)."""
        p = self.tables[table].props[prop]
        self.links.setdefault((table, prop), []).append((source_id, target_id))
        if p.target is not None and p.reverse is not None:
            self.links.setdefault((p.target, p.reverse), []).append((target_id, source_id))

    def define_many_to_many(self, table: str, prop: str, target: str, reverse: str) -> None:
        self.tables[table].props[prop] = _Prop(prop, "many-to-many", target=target, reverse=reverse)
        self.tables[target].props[reverse] = _Prop(reverse, "many-to-many", target=table, reverse=prop)

    def load_table(self, name: str, table: pa.Table, **options: Any) -> None:
        """A Totalum table from Arrow rows (replacing one of that name).

        Options: ``references`` ({column: target table}) makes many-to-one properties of 24-hex string
        columns; ``options`` ({column: [choices]} or a list of columns) makes options properties;
        ``id_column`` (default ``_id``; otherwise ids are generated); ``nulls``: how a NULL is stored:
        ``"absent"`` (default: the field is left out), ``"null"`` (stored null) or ``"mixed"``
        (alternating, so both shapes occur). Types: strings (any Arrow string type) -> text,
        integers/floats/decimals -> number (a double: integers beyond 2**53 warn), bool -> boolean,
        date/timestamp -> date (UTC, milliseconds, floored). Totalum has one date type, a date-time,
        so a DATE column reads back as TIMESTAMPTZ at midnight UTC.
        """
        refs = dict(options.get("references") or {})
        opts_opt = options.get("options") or {}
        choices = dict(opts_opt) if isinstance(opts_opt, Mapping) else {c: None for c in opts_opt}
        id_column = options.get("id_column", "_id")
        nulls = options.get("nulls", "absent")
        if nulls not in ("absent", "null", "mixed"):
            raise ValueError("nulls must be 'absent', 'null' or 'mixed'")
        props: list[_Prop] = []
        columns: list[tuple[str, list[Any]]] = []
        ids: list[Any] | None = None
        for col_name, column in zip(table.column_names, table.columns, strict=True):
            values = column.to_pylist()
            if col_name == id_column:
                ids = values
                continue
            if col_name in ("_id", "createdAt", "updatedAt"):
                raise ValueError(f"{col_name!r} is a system field")
            typ = column.type
            if col_name in refs:
                kind = "many-to-one"
            elif col_name in choices:
                kind = "options"
            elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or str(typ) == "string_view":
                kind = "text"
            elif pa.types.is_boolean(typ):
                kind = "boolean"
            elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
                kind = "number"
                warn_beyond_double("totalum", name, col_name, values)
                values = [None if v is None else float(v) for v in values]
            elif pa.types.is_date(typ) or pa.types.is_timestamp(typ):
                kind = "date"
                values = [None if v is None else BDate.of(v) for v in values]
            elif pa.types.is_null(typ):
                kind = "text"
            else:
                raise ValueError(f"column {col_name!r}: Arrow type {typ} has no Totalum property type")
            given = choices.get(col_name)
            opts = tuple(given) if given else tuple(sorted({v for v in values if v is not None}))
            props.append(_Prop(col_name, kind, choices=opts if kind == "options" else (),
                               target=refs.get(col_name)))
            columns.append((col_name, values))
        self.tables.pop(name, None)
        self.define_table(name, props)
        flips = dict.fromkeys((c for c, _ in columns), 0)
        for i in range(table.num_rows):
            doc: dict[str, Any] = {}
            for col_name, values in columns:
                v = values[i]
                if v is None:
                    store_null = nulls == "null" or (nulls == "mixed" and flips[col_name] % 2 == 1)
                    flips[col_name] += 1
                    if not store_null:
                        continue
                doc[col_name] = v
            oid = None
            if ids is not None and ids[i] is not None:
                oid = str(ids[i])
            self.add_row(name, doc, oid=oid)

    def load_sample_data(self) -> None:
        sample.load(self)


def _unique_ids(table: _Table) -> bool:
    """Whether every row's ``_id`` is a string no other row has (remembered until the rows change)."""
    def check() -> bool:
        ids = [r.get("_id") for r in table.rows]
        return all(type(i) is str for i in ids) and len(set(ids)) == len(ids)

    return bool(table.memo.get(table.stamp(), "unique ids", check))


def _by_id(rows: list[dict[str, Any]], direction: int) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["_id"], reverse=direction < 0)
