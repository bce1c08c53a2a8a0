"""Totalum (totalum.app) emulator, written from the Totalum seed and API-NOTES §4, not from the dialect.

Sources: "seed" = shared/seeds/000_30ec6917395b0b50.txt (the OpenAPI page, Totalum API 1.1.3);
"notes" = shared/API-NOTES.md §4 (SDK ``totalum-api-sdk@2.0.40``: ``interfaces.d.ts``, ``CrudService.js``,
``endpoints.js``; public code calling the REST API).

What is emulated:

* Auth (seed "api-key header"): every call needs ``api-key: <key>``; a missing or unknown key is a 401,
  a key restricted to some tables (``restricted_keys``) gets a 403 for the others. Errors are
  problem-details objects ``{type, title, status, detail, traceId}`` (seed "status codes"), also for
  400/404/429 (429 carries ``Retry-After``; the framework adds it).
* Discovery: ``GET /api/v1/integrations/get-tables`` -> ``[{id, label}]`` and
  ``GET /api/v1/integrations/get-table-structure?id=T&usage=read|filter|create|edit|files`` ->
  ``[{name, label, type, required, value, spec}]`` (both shapes from the seed). ``GET /api/v1/data-structure/``
  (shape undocumented: the seed shows ``{ }``) -> ``{data: [{_id, name, label, properties: [...]}]}``.
  Property types (notes "Storage and types"; names beyond the docs' list are [U]): ``text``, ``number``,
  ``date``, ``boolean``, ``options`` (a string among ``spec``), ``file`` (stored ``{name: fileNameId}``),
  ``many-to-one`` (stores the referenced ``_id``), ``one-to-many`` (virtual), ``many-to-many`` (a hidden
  junction, read through the relation endpoint). For reference types the referenced table id is in
  ``spec[0].name`` with ``type: "table"`` (our assumption: the documented ``spec`` is ``[{name, label, type}]``).
* Lists, three request shapes, one semantics (notes "Query shape"):
  - ``GET /api/v1/crud/{typeId}`` as the seed documents: ``filter`` a JSON string; ``sort`` and
    ``pagination`` objects, accepted as qs bracket keys (``sort[name]=1``, ``pagination[page]=0``; the form
    public code uses), as JSON strings, or as plain ``page``/``limit`` (the seed's pagination prose);
    ``returnCount=true``. A bracket ``filter[0][f][gte]=5`` (inferred form) is accepted too: its values are
    strings, cast by the property type.
  - ``POST /api/v1/crud/query/{typeId}`` with the JSON body ``{filter, sort, pagination, returnCount}``
    (SDK 2.0.40 ``getItems``).
  Answer ``{data: [...], metadata: {count}}``, ``metadata`` only with ``returnCount`` (notes "Response").
  Paging: ``page`` from 0, ``limit`` default 50 (seed "pagination"), ``skip`` added to ``page*limit``
  (``interfaces.d.ts`` has it; its exact meaning is [U]); ``limit: 0`` = no limit (Mongo's
  ``.limit(0)``); ``max_page_size`` clamps (the real maximum is [U]).
* Filters with MongoDB semantics over the stored documents (a null field may be stored as ``null`` or
  be absent; ``nulls`` option of ``load_table``): the filter array is an AND; an element's keys are
  ANDed; ``{or: [cond, ...]}`` is an OR of conds (which may nest ``or`` again); a scalar means equality
  (``{f: null}`` matches null *and* missing); operator objects ``{gt, gte, lt, lte, ne, regex, options,
  in, nin, exists}``. ``ne`` matches documents where the field is missing or null (Mongo ``$ne``).
  ``gt/gte/lt/lte`` are only allowed on number and date properties (SDK README): anything else is a 400.
  Comparisons never cross BSON types (a string never compares with a number). ``regex`` never matches
  a non-string; ``options`` ``i`` is PCRE2 caseless matching (Unicode simple folding without Turkish
  casing: ``i`` does not match ``İ``, ``k`` matches KELVIN SIGN), ``m``, ``s``, ``x`` as in PCRE.
  Operands for date properties (and ``createdAt``/``updatedAt``) are cast like ``new Date(str)`` (the
  server knows the schema; notes: "dates are BSON Date, so send ISO strings").
* Sort: ``{field: 1|-1}`` in key order, BSON order (null and missing lowest). Ties come in an order
  that varies between requests (MongoDB promises none for a non-unique sort key, so paging over ties
  without a unique last key can repeat or skip rows).
* ``GET /api/v1/crud/{typeId}/{id}`` one record; ``GET /api/v1/crud/{typeId}/{id}/{propertyName}`` the
  records linked through a many-to-many property, with ``filter``/``sort``/``pagination`` (the seed lists no
  ``returnCount`` there, so none is reported).
* ``POST /api/v1/filter/custom-mongo-aggregation-query`` ``{customMongoQuery: "<JSON pipeline>", type}``:
  ``$match`` (Mongo query operators ``$eq $ne $gt $gte $lt $lte $in $nin $regex $options $exists $and $or
  $nor $expr``; no casting: ids and dates compare through ``$toObjectId``/``$toDate``), ``$group``
  (``$sum $min $max $avg $first $count``; expressions ``$field``, ``$cond``, ``$gt``,
  ``$eq``, ``$ne``, ``$lt``, ``$gte``, ``$lte``, ``$ifNull``), ``$sort``, ``$skip``, ``$limit``, ``$count``,
  ``$project`` (inclusion). Answers ``{data: [...]}``. Only strict JSON is parsed (the seed's example is
  JavaScript-like text; what the server really parses is [U]).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response
from lowcode_sql.sandbox._mongo import MISSING, BDate, Regex, RegexSyntax, compare, field_sort_key, pcre_to_python
from lowcode_sql.sandbox._mongo import type_order as _bracket

__all__ = ["BDate", "TotalumSandbox"]

API = "/api/v1"
_OPS = ("gt", "gte", "lt", "lte", "ne", "regex", "options", "in", "nin", "exists")
_RANGE = ("gt", "gte", "lt", "lte")
_RANGE_TYPES = ("number", "date")
_DATE_PROPS = ("createdAt", "updatedAt")
_HEX24 = re.compile(r"^[0-9a-f]{24}$")


class TotalumHTTPError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# --------------------------------------------------------------------------------------------
# BSON-ish values and comparison
# --------------------------------------------------------------------------------------------


_ISO = re.compile(
    r"^([+-]\d{6}|\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def parse_date(value: Any) -> BDate | None:
    """``new Date(value)`` for ISO-8601 text and epoch-millisecond numbers; None when invalid.

    Date-only text is UTC midnight and zone-less date-times are local time, which is UTC on the
    server (JS ``Date`` rules)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) or math.isinf(value) else BDate(int(value))
    if not isinstance(value, str):
        return None
    m = _ISO.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        base = dt.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), tzinfo=dt.UTC)
    except ValueError:
        return None
    ms = BDate.of(base).ms + (int((frac or "0")[:3].ljust(3, "0")))
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
    return BDate(ms)


def _eq(a: Any, b: Any) -> bool:
    """Mongo equality of a stored value with an operand (null operand: null or missing)."""
    if b is None:
        return a is None or a is MISSING
    if a is MISSING or a is None or _bracket(a) != _bracket(b):
        return False
    return compare(a, b) == 0


# --------------------------------------------------------------------------------------------
# Regex: PCRE2 semantics on top of Python ``re``
# --------------------------------------------------------------------------------------------

# PCRE2 (no Turkish casing) has no caseless partner for U+0130 and U+0131, whereas Python's re.I
# pairs them with i/I. Mapping both to private-use code points (no case) on both sides removes
# that difference; every other pair (K/KELVIN SIGN, S/LONG S, sigma forms, ß/ẞ) agrees.
_TURKIC = str.maketrans({"\u0130": "\ue130", "\u0131": "\ue131"})


@dataclass(frozen=True, slots=True)
class _Regex(Regex):
    """A ``regex`` operand (``flags`` are Totalum's ``options``)."""

    def search(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False  # a regex never matches a number, date, boolean, null or missing field
        subject = value.translate(_TURKIC) if "i" in self.flags else value
        return self.compiled.search(subject) is not None


@functools.lru_cache(maxsize=1024)
def compile_regex(source: str, options: str) -> _Regex:
    if not isinstance(source, str) or not isinstance(options, str) or set(options) - set("imsx"):
        raise TotalumHTTPError(400, f"invalid regex options {options!r}: expected a combination of i, m, s, x")
    flags = 0
    for ch, f in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL), ("x", re.VERBOSE)):
        if ch in options:
            flags |= f
    try:
        py, _ = pcre_to_python(source)
        if "i" in options:
            py = py.translate(_TURKIC)
        return _Regex(source, options, re.compile(py, flags))
    except (RegexSyntax, re.error) as exc:
        raise TotalumHTTPError(400, f"invalid regular expression {source!r}: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


@dataclass
class _Prop:
    name: str
    type: str  # text | number | date | boolean | options | file | many-to-one | one-to-many | many-to-many
    label: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()  # options
    target: str | None = None  # reference types: the referenced table
    reverse: str | None = None  # many-to-many: the property on the target table


@dataclass
class _Table:
    name: str
    label: str
    props: dict[str, _Prop] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    oid: str = ""

    def by_id(self, oid: str) -> dict[str, Any] | None:
        for r in self.rows:
            if r["_id"] == oid:
                return r
        return None


def _ptype(table: _Table, name: str) -> str | None:
    if name in _DATE_PROPS:
        return "date"
    if name == "_id":
        return "id"
    p = table.props.get(name)
    return p.type if p else None


def _get(doc: Mapping[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


# --------------------------------------------------------------------------------------------
# The Totalum filter language (``FilterSearchQueryI``)
# --------------------------------------------------------------------------------------------


def _cast(table: _Table, name: str, value: Any, from_text: bool) -> Any:
    """An operand as the server stores it for that property (dates parsed; bracket text typed)."""
    kind = _ptype(table, name)
    if value is None:
        return None
    if kind == "date":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            d = parse_date(value)
            if d is None:
                raise TotalumHTTPError(400, f"invalid date {value!r} for property {name!r}")
            return d
        return value
    if from_text and isinstance(value, str):
        if kind == "number":
            try:
                return float(value)
            except ValueError:
                return value
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def _field_matcher(table: _Table, name: str, cond: Any, from_text: bool) -> Any:
    """A predicate over a document for one ``field: cond`` pair."""
    if isinstance(cond, dict) and cond and set(cond) <= set(_OPS):
        tests = []
        kind = _ptype(table, name)
        if "options" in cond and "regex" not in cond:
            raise TotalumHTTPError(400, f"'options' without 'regex' on property {name!r}")
        for op, raw in cond.items():
            if op == "options":
                continue
            if op in _RANGE:
                if kind not in _RANGE_TYPES:
                    raise TotalumHTTPError(
                        400, f"operator {op!r} is only allowed for properties of type date or number "
                             f"({name!r} is {kind or 'unknown'})")
                v = _cast(table, name, raw, from_text)
                tests.append(_range_test(op, v))
            elif op == "ne":
                v = _cast(table, name, raw, from_text)
                tests.append(lambda x, v=v: not _eq(x, v))
            elif op == "regex":
                rx = compile_regex(raw, cond.get("options", "") or "")
                tests.append(rx.search)
            elif op in ("in", "nin"):
                if not isinstance(raw, list):
                    raise TotalumHTTPError(400, f"{op!r} needs an array on property {name!r}")
                vals = [_cast(table, name, v, from_text) for v in raw]
                hit = lambda x, vals=vals: any(_eq(x, v) for v in vals)  # noqa: E731
                tests.append(hit if op == "in" else (lambda x, hit=hit: not hit(x)))
            elif op == "exists":
                want = raw not in (False, 0, "false", "0", None)
                tests.append(lambda x, want=want: (x is not MISSING) == want)
        return lambda doc: all(t(_get(doc, name)) for t in tests)
    if isinstance(cond, dict):
        if any(k.startswith("$") for k in cond) or any(k in _OPS for k in cond):
            bad = sorted(k for k in cond if k not in _OPS)
            raise TotalumHTTPError(400, f"unknown filter operator {bad[0]!r} on property {name!r}")
        return lambda doc: _eq(_get(doc, name), cond)  # a literal document
    v = _cast(table, name, cond, from_text)
    return lambda doc: _eq(_get(doc, name), v)


def _range_test(op: str, v: Any) -> Any:
    def test(x: Any) -> bool:
        if x is MISSING or x is None or v is None or _bracket(x) != _bracket(v):
            return False  # comparisons stay inside one BSON type bracket
        c = compare(x, v)
        return {"gt": c > 0, "gte": c >= 0, "lt": c < 0, "lte": c <= 0}[op]

    return test


def _cond_matcher(table: _Table, cond: Any, from_text: bool) -> Any:
    if not isinstance(cond, dict):
        raise TotalumHTTPError(400, f"each filter condition must be an object, got {type(cond).__name__}")
    parts = []
    for key, value in cond.items():
        if key == "or":
            if not isinstance(value, list) or not value:
                raise TotalumHTTPError(400, "'or' needs a non-empty array of conditions")
            branches = [_cond_matcher(table, c, from_text) for c in value]
            parts.append(lambda doc, b=branches: any(m(doc) for m in b))
        else:
            parts.append(_field_matcher(table, key, value, from_text))
    return lambda doc: all(m(doc) for m in parts)


def compile_filter(table: _Table, flt: Any, from_text: bool = False) -> Any:
    if flt is None:
        return lambda doc: True
    if isinstance(flt, dict):
        flt = [flt]
    if not isinstance(flt, list):
        raise TotalumHTTPError(400, f"filter must be an array of conditions, got {type(flt).__name__}")
    parts = [_cond_matcher(table, c, from_text) for c in flt]
    return lambda doc: all(m(doc) for m in parts)


def _sort_docs(docs: list[dict[str, Any]], sort: Mapping[str, Any],
               rng: random.Random | None = None) -> list[dict[str, Any]]:
    keys = []
    for name, direction in sort.items():
        try:
            d = int(direction)
        except (TypeError, ValueError):
            d = {"asc": 1, "desc": -1, "ascending": 1, "descending": -1}.get(str(direction).lower(), 0)
        if d not in (1, -1):
            raise TotalumHTTPError(400, f"sort direction for {name!r} must be 1 or -1")
        keys.append((name, d))
    if not keys:
        return docs

    def cmp(a: dict[str, Any], b: dict[str, Any]) -> int:
        for name, d in keys:
            c = compare(field_sort_key(_get(a, name), d), field_sort_key(_get(b, name), d))
            if c:
                return c * d
        return 0

    if rng is not None:
        docs = rng.sample(docs, len(docs))  # the sort below is stable: ties keep this random order
    return sorted(docs, key=functools.cmp_to_key(cmp))


# --------------------------------------------------------------------------------------------
# Query-string decoding (qs bracket form, JSON strings)
# --------------------------------------------------------------------------------------------


def _qs_tree(query: Iterable[tuple[str, str]], name: str) -> Any:
    """``name[a][0][b]=v`` pairs as nested dicts/lists (qs); None when absent."""
    root: dict[str, Any] = {}
    found = False
    for key, value in query:
        if not key.startswith(name + "["):
            continue
        found = True
        parts = re.findall(r"\[([^\]]*)\]", key[len(name):])
        node = root
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    if not found:
        return None

    def listify(n: Any) -> Any:
        if isinstance(n, dict):
            n = {k: listify(v) for k, v in n.items()}
            if n and all(k.isdigit() for k in n):
                return [n[k] for k in sorted(n, key=int)]
        return n

    return listify(root)


def _json_or_qs(request: Request, name: str) -> tuple[Any, bool]:
    """A parameter sent as a JSON string or in qs bracket form: (value, came as bracket text)."""
    raw = request.arg(name)
    if raw is not None:
        try:
            return _strict_json(raw), False
        except ValueError:
            raise TotalumHTTPError(400, f"{name} is not valid JSON") from None
    return _qs_tree(request.query, name), True


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _strict_json(text: str) -> Any:
    """``JSON.parse``: no NaN/Infinity tokens (Python's json module would accept them)."""
    return json.loads(text, parse_constant=_no_constant)


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise TotalumHTTPError(400, f"pagination.{name} must be an integer") from None
    if n < 0:
        raise TotalumHTTPError(400, f"pagination.{name} must not be negative")
    return n


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


# --------------------------------------------------------------------------------------------
# The platform
# --------------------------------------------------------------------------------------------


class TotalumSandbox(Platform):
    """The Totalum REST API over in-memory tables (see the module docstring for the sources)."""

    name = "totalum"
    #: what ``lowcode_sql.demo()`` and sandbox sources use
    DEMO_CREDENTIALS = {"api_key": "demo-api-key"}
    DEMO_OPTIONS: dict[str, Any] = {}

    def __init__(
        self,
        *,
        api_keys: tuple[str, ...] = ("demo-api-key",),
        restricted_keys: Mapping[str, Iterable[str]] | None = None,
        max_page_size: int | None = None,
        supports_in: bool = True,
        sample_data: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(sample_data=sample_data, **kw)
        #: whether the filter accepts ``in``/``nin`` (API-NOTES: conflicting evidence; False answers
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
        if sample_data:
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
            table = self._table(str(body.get("type") or ""), allowed)
            text = body.get("customMongoQuery")
            try:
                pipeline = _strict_json(text) if isinstance(text, str) else text
            except ValueError as exc:
                raise TotalumHTTPError(400, f"customMongoQuery is not valid JSON: {exc}") from None
            if not isinstance(pipeline, list):
                raise TotalumHTTPError(400, "customMongoQuery must be an array of pipeline stages")
            docs = _aggregate(table, list(table.rows), pipeline, self._tie_rng())
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
        flt, flt_text = _json_or_qs(request, "filter")
        sort, _ = _json_or_qs(request, "sort")
        pagination, _ = _json_or_qs(request, "pagination")
        if pagination is None and (request.arg("page") is not None or request.arg("limit") is not None):
            pagination = {"page": request.arg("page"), "limit": request.arg("limit")}
        count = count_allowed and _truthy(request.arg("returnCount"))
        return json_response(self._list(table, rows, flt, sort, pagination, count, flt_text))

    def _list(self, table: _Table, rows: list[dict[str, Any]], flt: Any, sort: Any, pagination: Any,
              return_count: bool, flt_text: bool) -> dict[str, Any]:
        if not self.supports_in and flt is not None and re.search(r'"n?in"\s*:', json.dumps(flt)):
            raise TotalumHTTPError(400, "unknown filter operator 'in': use 'or' with equalities")
        match = compile_filter(table, flt, from_text=flt_text)
        docs = [d for d in rows if match(d)]
        if sort is not None:
            if not isinstance(sort, dict):
                raise TotalumHTTPError(400, "sort must be an object {property: 1 | -1}")
            docs = _sort_docs(docs, sort, self._tie_rng())
        if pagination is not None and not isinstance(pagination, dict):
            raise TotalumHTTPError(400, "pagination must be an object {page, limit}")
        pg = pagination or {}
        limit = _int(pg.get("limit"), "limit", 50)
        page = _int(pg.get("page"), "page", 0)
        skip = _int(pg.get("skip"), "skip", 0)
        if self.max_page_size is not None and (limit == 0 or limit > self.max_page_size):
            limit = self.max_page_size
        start = page * limit + skip
        chosen = docs[start:] if limit == 0 else docs[start:start + limit]
        out: dict[str, Any] = {"data": [self._out(d) for d in chosen]}
        if return_count:
            out["metadata"] = {"count": len(docs)}
        return out

    @staticmethod
    def _out(doc: Mapping[str, Any]) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, BDate):
                return v.iso()
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
        (alternating, so both shapes occur). Types: strings -> text, integers/floats/decimals -> number,
        bool -> boolean, date/timestamp -> date (UTC, milliseconds, floored).
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
            elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
                kind = "text"
            elif pa.types.is_boolean(typ):
                kind = "boolean"
            elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
                kind = "number"
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
        _build_sample(self, random.Random(self.seed))


# --------------------------------------------------------------------------------------------
# Aggregation pipelines (subset)
# --------------------------------------------------------------------------------------------


def _expr(doc: Mapping[str, Any], e: Any) -> Any:
    if isinstance(e, str) and e.startswith("$"):
        return _get(doc, e[1:])
    if isinstance(e, dict) and len(e) == 1 and next(iter(e)).startswith("$"):
        (op, arg), = e.items()
        if op == "$cond":
            if isinstance(arg, dict):
                arg = [arg.get("if"), arg.get("then"), arg.get("else")]
            test = _expr(doc, arg[0])
            return _expr(doc, arg[1] if test not in (None, False, 0, MISSING) else arg[2])
        if op in ("$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$cmp"):
            a, b = (_expr(doc, x) for x in arg)
            c = _expr_cmp(a, b)
            return {"$gt": c > 0, "$gte": c >= 0, "$lt": c < 0, "$lte": c <= 0, "$eq": c == 0, "$ne": c != 0,
                    "$cmp": c}[op]
        if op == "$ifNull":
            for x in arg:
                v = _expr(doc, x)
                if v is not None and v is not MISSING:
                    return v
            return None
        if op == "$literal":
            return arg
        if op == "$toDate":
            v = _expr(doc, arg)
            if v is None or v is MISSING or isinstance(v, BDate):
                return None if v is MISSING else v
            d = parse_date(v)
            if d is None:
                raise TotalumHTTPError(400, f"$toDate cannot convert {v!r}")
            return d
        if op == "$toObjectId":
            v = _expr(doc, arg)
            if isinstance(v, str) and not _HEX24.match(v):
                raise TotalumHTTPError(400, f"$toObjectId: {v!r} is not an ObjectId")
            return None if v is MISSING else v  # ObjectIds are kept as their hex text here
        raise TotalumHTTPError(400, f"unsupported aggregation expression {op!r}")
    if isinstance(e, dict):
        return {k: _expr(doc, v) for k, v in e.items()}
    return e


def _expr_cmp(a: Any, b: Any) -> int:
    # In aggregation expressions a missing field sorts below null (BSON "undefined" vs null).
    if a is MISSING or b is MISSING:
        if a is MISSING and b is MISSING:
            return 0
        return -1 if a is MISSING else 1
    return compare(a, b)


def _mongo_query(table: _Table, q: Any) -> Any:
    """A ``$match`` document (Mongo query language with ``$`` operators)."""
    if not isinstance(q, dict):
        raise TotalumHTTPError(400, "$match needs an object")
    parts = []
    for key, cond in q.items():
        if key == "$expr":
            parts.append(lambda d, e=cond: _expr(d, e) not in (None, False, 0, MISSING))
            continue
        if key in ("$and", "$or", "$nor"):
            subs = [_mongo_query(table, c) for c in cond]
            if key == "$and":
                parts.append(lambda d, s=subs: all(m(d) for m in s))
            elif key == "$or":
                parts.append(lambda d, s=subs: any(m(d) for m in s))
            else:
                parts.append(lambda d, s=subs: not any(m(d) for m in s))
            continue
        if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            mapped = {}
            for op, v in cond.items():
                name = op[1:]
                if name == "eq":
                    parts.append(lambda d, k=key, v=v: _eq(_get(d, k), v))
                    continue
                if name not in _OPS:
                    raise TotalumHTTPError(400, f"unsupported query operator {op!r}")
                mapped[name] = v
            if mapped:
                # $match is raw Mongo: no property-type restriction on ranges
                tests = []
                for name, v in mapped.items():
                    if name in _RANGE:
                        tests.append(_range_test(name, v))
                    elif name == "ne":
                        tests.append(lambda x, v=v: not _eq(x, v))
                    elif name == "regex":
                        rx = compile_regex(v, mapped.get("options", ""))
                        tests.append(rx.search)
                    elif name in ("in", "nin"):
                        hit = lambda x, vals=v: any(_eq(x, y) for y in vals)  # noqa: E731
                        tests.append(hit if name == "in" else (lambda x, hit=hit: not hit(x)))
                    elif name == "exists":
                        tests.append(lambda x, w=bool(v): (x is not MISSING) == w)
                parts.append(lambda d, k=key, t=tests: all(f(_get(d, k)) for f in t))
            continue
        parts.append(lambda d, k=key, v=cond: _eq(_get(d, k), v))
    return lambda d: all(m(d) for m in parts)


def _accumulate(op: str, values: list[Any]) -> Any:
    if op == "$sum":
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        total = sum(nums)
        return total
    if op == "$avg":
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        return sum(nums) / len(nums) if nums else None
    if op in ("$min", "$max"):
        present = [v for v in values if v is not None and v is not MISSING]
        if not present:
            return None
        key = functools.cmp_to_key(compare)
        return min(present, key=key) if op == "$min" else max(present, key=key)
    if op == "$first":
        return None if not values or values[0] is MISSING else values[0]
    raise TotalumHTTPError(400, f"unsupported accumulator {op!r}")


def _aggregate(table: _Table, docs: list[dict[str, Any]], pipeline: list[Any],
               rng: random.Random | None = None) -> list[dict[str, Any]]:
    for stage in pipeline:
        if not isinstance(stage, dict) or len(stage) != 1:
            raise TotalumHTTPError(400, "each pipeline stage must be an object with one operator")
        (op, arg), = stage.items()
        if op == "$match":
            m = _mongo_query(table, arg)
            docs = [d for d in docs if m(d)]
        elif op == "$group":
            if not isinstance(arg, dict) or "_id" not in arg:
                raise TotalumHTTPError(400, "$group needs an _id")
            groups: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
            for d in docs:
                key = _expr(d, arg["_id"])
                key = None if key is MISSING else key
                if isinstance(key, dict):
                    key = {k: (None if v is MISSING else v) for k, v in key.items()}
                canon = json.dumps(_canon(key), sort_keys=True)
                groups.setdefault(canon, (key, []))[1].append(d)
            out = []
            for key, members in groups.values():
                row: dict[str, Any] = {"_id": key}
                for name, acc in arg.items():
                    if name == "_id":
                        continue
                    if not isinstance(acc, dict) or len(acc) != 1:
                        raise TotalumHTTPError(400, f"bad accumulator for {name!r}")
                    (aop, aexpr), = acc.items()
                    if aop == "$count":
                        row[name] = len(members)
                        continue
                    row[name] = _accumulate(aop, [_expr(m, aexpr) for m in members])
                out.append(row)
            docs = out
        elif op == "$sort":
            docs = _sort_docs(docs, arg, rng)
        elif op == "$skip":
            docs = docs[int(arg):]
        elif op == "$limit":
            docs = docs[: int(arg)]
        elif op == "$count":
            docs = [{str(arg): len(docs)}] if docs else []
        elif op == "$project":
            keep = [k for k, v in arg.items() if v not in (0, False)]
            docs = [{k: d[k] for k in keep if k in d} | ({"_id": d["_id"]} if arg.get("_id", 1) and "_id" in d else {})
                    for d in docs]
        else:
            raise TotalumHTTPError(400, f"unsupported pipeline stage {op!r}")
    return docs


def _canon(v: Any) -> Any:
    # 1 and 1.0 are one group key in Mongo; dates and strings stay apart
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return ["n", float(v)]
    if isinstance(v, BDate):
        return ["d", v.ms]
    if isinstance(v, dict):
        return {k: _canon(x) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------

_FIRST = ["Ana", "Bruno", "Carla", "Dmitri", "Eva", "Farid", "Greta", "Hugo", "İlkay", "Jürgen", "Kelvin",
          "\u212aarl", "Lena", "Marta", "Nils", "Óscar", "Paula", "Quentin", "Rosa", "Straße", "Tomás", "Uma"]
_LAST = ["García", "Smith", "O'Neil", "Müller", "Nováková", "Rossi", "Dubois", "Y\u0131lmaz", "Kowalski", "Silva"]
_COUNTRIES = ["ES", "FR", "DE", "TR", "US", "PT"]
_CATEGORIES = ["hardware", "software", "services", "books"]
_PRODUCTS = ["Widget", "Gadget (XL)", "Cable [2m]", "Adapter 50% off", "Router*", "Switch+", "Hub?", "Plug^",
             "Lamp $9", "Desk|Chair", "a.b tool", "Screws_100", "back\\slash kit", "Sensor/IoT", "Straße map",
             "İzmir guide", "KELVIN thermometer", "\u212aelvin probe"]
_STATUSES = ["pending", "paid", "shipped", "cancelled"]


def _build_sample(sb: TotalumSandbox, r: random.Random) -> None:
    """clients, products, orders (many-to-one to both) and clients.favorites <-> products.fans."""
    sb.define_table("client", [
        _Prop("name", "text", "Name", required=True), _Prop("email", "text", "E-mail"),
        _Prop("country", "options", "Country", choices=tuple(_COUNTRIES)), _Prop("vip", "boolean", "VIP"),
        _Prop("credit", "number", "Credit limit"), _Prop("since", "date", "Client since"),
        _Prop("contract", "file", "Signed contract"),
    ], "Clients")
    sb.define_table("product", [
        _Prop("name", "text", "Name", required=True), _Prop("price", "number", "Price"),
        _Prop("category", "options", "Category", choices=tuple(_CATEGORIES)), _Prop("launched", "date", "Launched"),
    ], "Products")
    sb.define_table("order", [
        _Prop("number", "text", "Order number", required=True),
        _Prop("client", "many-to-one", "Client", target="client"),
        _Prop("product", "many-to-one", "Product", target="product"),
        _Prop("quantity", "number", "Quantity"), _Prop("total", "number", "Total"),
        _Prop("status", "options", "Status", choices=tuple(_STATUSES)), _Prop("ordered", "date", "Ordered at"),
    ], "Orders")
    sb.tables["client"].props["orders"] = _Prop("orders", "one-to-many", "Orders", target="order")
    sb.define_many_to_many("client", "favorites", "product", "fans")
    base = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)

    def maybe(v: Any, p_missing: float = 0.08, p_null: float = 0.05) -> Any:
        x = r.random()
        return MISSING if x < p_missing else (None if x < p_missing + p_null else v)

    clients = []
    for i in range(60):
        first, last = _FIRST[i % len(_FIRST)], r.choice(_LAST)
        clients.append(sb.add_row("client", {
            "name": f"{first} {last}",
            "email": maybe(f"{first.lower()}.{i}@example.com"),
            "country": maybe(r.choice(_COUNTRIES)),
            "vip": maybe(r.random() < 0.3),
            "credit": maybe(float(r.choice([0, 500, 1000, 2500, 10000]) + r.choice([0, 0.5]))),
            "since": maybe(BDate.of(base + dt.timedelta(days=r.randrange(-900, 900), seconds=r.randrange(86400)))),
            "contract": maybe({"name": f"contract-{i:03d}.pdf"}, 0.3, 0.1),
        }))
    products = []
    for i, name in enumerate(_PRODUCTS):
        products.append(sb.add_row("product", {
            "name": name, "price": maybe(round(r.uniform(1, 500), 2)),
            "category": maybe(_CATEGORIES[i % len(_CATEGORIES)]),
            "launched": maybe(BDate.of(base + dt.timedelta(days=r.randrange(-2000, 300)))),
        }))
    for i in range(240):
        q = r.randint(1, 9)
        sb.add_row("order", {
            "number": f"ORD-{i:05d}", "client": maybe(r.choice(clients), 0.03, 0.02),
            "product": r.choice(products), "quantity": float(q), "total": maybe(round(q * r.uniform(1, 500), 2)),
            "status": maybe(r.choice(_STATUSES)),
            "ordered": BDate.of(base + dt.timedelta(minutes=r.randrange(0, 2 * 525600))),
        })
    for c in clients:
        for p in r.sample(products, r.choice([0, 0, 1, 2, 3])):
            sb.link("client", "favorites", c, p)


SANDBOX = TotalumSandbox  # found by lowcode_sql.sandbox.get_sandbox
