"""Entu (entu.app) emulator, written from the Entu seed and API-NOTES §5, not from the dialect.

What is emulated, and where each behaviour comes from ("seed" = shared/seeds/001_*.txt, "notes" =
shared/API-NOTES.md §5, which cites the Nitro server ``entu/api`` routes/[db]/entity/index.get.js,
utils/entity.js, utils/aggregate.js, middleware/auth.js):

* Auth (seed "Authentication", notes "Auth"): ``GET /api/auth`` with ``Bearer <API key>`` returns
  ``{accounts, user, token, expires}``; the token is an HS256 JWT (claims ``accounts``, ``db``, ``aud``,
  ``iat``, ``exp``, ``jti``). Data calls send ``Bearer <JWT>``; an invalid/expired/revoked JWT is a 401.
  Like the real middleware, *no* token is not an error: the caller is anonymous and sees only public
  entities (none in this sandbox), so the list is silently empty. A wrong API key also still gets a
  token, with ``accounts: []``. ``GET /api/auth/refresh`` exchanges a JWT (also an expired one).
* List (notes "List call", "Entity shape"): ``GET /api/{db}/entity`` -> ``{entities, count, limit, skip}``;
  every property is an array of value objects with their own ``_id``.
* Filters (notes "Filters"): the key parser, the type-driven value conversion and its quirks, merged
  operators, and MongoDB query semantics over arrays (any element matches; ``$ne`` = no element
  equals; comparisons only within one BSON type bracket; NaN rules).
* ``props``, ``sort`` (Mongo array sort keys), ``limit``/``skip`` (JS ``parseInt``), ``group``, ``q``.

Where the notes and MongoDB/driver reality differ, MongoDB wins, because the sandbox must answer like
the real stack (each such place is marked "MONGO:" below):

* ``$exists`` takes any BSON value and uses its *truthiness* (``BSONElement::trueValue``): a double
  NaN is ``NaN != 0`` -> **true**, a Date is always true. So ``price.number.exists=false`` (-> NaN) means
  *exists: true*, ``price.number.exists=0`` means *exists: false*, and ``x.date.exists=<anything>``
  means *exists: true*.
* An Invalid Date (``new Date('junk')``) is serialised by js-bson as ``Long.fromNumber(NaN)`` = 0, i.e.
  1970-01-01T00:00:00Z, so ``published.date=junk`` matches the epoch date.
* js-bson writes a RegExp's flags as ``i`` (ignoreCase), ``s`` (for *global*!) and ``m``: the JS ``s``
  (dotAll) flag is silently dropped, and ``x`` makes ``new RegExp`` throw (-> 400 "Invalid regex").

Assumptions: the server's time zone is UTC (JS parses zone-less date-times as local time).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import random
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response
from lowcode_sql.sandbox._mongo import (
    ARRAY,
    MISSING,
    NULL,
    NUMBER,
    OBJECT,
    BDate,
    ObjectId,
    RegexSyntax,
    compare,
    compile_mongo_regex,
    days_from_civil,
    is_nan,
    iso_ms,
    pcre_to_python,
    sort_key,
)
from lowcode_sql.sandbox._mongo import Regex as _Regex
from lowcode_sql.sandbox._mongo import type_order as _bracket

__all__ = ["BDate", "EntuSandbox", "ObjectId", "iso_ms", "js_number", "parse_date", "pcre_to_python"]


# --------------------------------------------------------------------------------------------
# BSON-ish values
# --------------------------------------------------------------------------------------------


# Aggregation operand that is a JS array (a query key given twice: h3's getQuery makes it an array).
_JSArray = tuple


class _Ops(dict[str, Any]):
    """A Mongo operator object ``{$gte: .., $lte: ..}`` (keys without the ``$``)."""

    literal = False  # True: the object also had non-operator keys -> a literal document (never matches)


class EntuHTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _server_error(reason: str) -> EntuHTTPError:
    # An unhandled exception in Nitro becomes a 500 whose message hides the cause; keep it for debugging.
    err = EntuHTTPError(500, "Server Error")
    err.reason = reason  # type: ignore[attr-defined]
    return err


def _eq(c: Any, v: Any) -> bool:
    """Query equality of one candidate with the operand (same bracket; NaN equals NaN)."""
    if _bracket(c) != _bracket(v):
        return False
    return compare(c, v) == 0


def _range(op: str, c: Any, v: Any) -> bool:
    """$gt/$gte/$lt/$lte of one candidate: only within the operand's type bracket."""
    if _bracket(c) != _bracket(v) or _bracket(v) in (OBJECT, ARRAY):
        return False
    if is_nan(c) or is_nan(v):
        # MONGO (ComparisonMatchExpression): "NaN is equal to NaN but otherwise always compares to false".
        return op in ("gte", "lte") and is_nan(c) and is_nan(v)
    r = compare(c, v)
    return {"gt": r > 0, "gte": r >= 0, "lt": r < 0, "lte": r <= 0}[op]


def _true_value(v: Any) -> bool:
    """MONGO ``BSONElement::trueValue``: numbers are ``!= 0`` (so NaN is true), bool itself, null false,
    anything else (strings, dates, ObjectIds) true."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    return True


# --------------------------------------------------------------------------------------------
# JavaScript conversions used by the real server
# --------------------------------------------------------------------------------------------

_JS_WS = " \t\n\v\f\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(map(chr, range(0x2000, 0x200B)))
_JS_DECIMAL = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Infinity)")
_JS_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")


def js_string(v: str | tuple[str, ...]) -> str:
    """``String(v)``: an array joins with commas."""
    return ",".join(v) if isinstance(v, tuple) else v


def js_number(v: str | tuple[str, ...]) -> float:
    """``Number(v)`` for a string (StringToNumber)."""
    s = js_string(v).strip(_JS_WS)
    if s == "":
        return 0
    if _JS_RADIX.fullmatch(s):
        return int(s[2:], {"x": 16, "o": 8, "b": 2}[s[1].lower()])
    if _JS_DECIMAL.fullmatch(s):
        if s.endswith("Infinity"):
            return -math.inf if s.startswith("-") else math.inf
        f = float(s)
        return int(f) if f.is_integer() and abs(f) < 2**53 and not (f == 0 and s.startswith("-")) else f
    return math.nan


def js_parse_int(v: str | tuple[str, ...] | None) -> float:
    """``Number.parseInt(v)`` (no radix): leading sign, ``0x`` prefix, digits up to the first non-digit."""
    if v is None:
        return math.nan
    s = js_string(v).lstrip(_JS_WS)
    m = re.match(r"([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)", s)
    if not m:
        return math.nan
    digits = m.group(2)
    n = int(digits[2:], 16) if digits[:2] in ("0x", "0X") else int(digits)
    return -n if m.group(1) == "-" else n


def _js_or(x: float, default: int) -> Any:
    """``x || default`` for a number."""
    return default if x == 0 or (isinstance(x, float) and math.isnan(x)) else x


def _js_lower(v: str | tuple[str, ...]) -> str:
    if isinstance(v, tuple):
        raise _server_error("TypeError: v.toLowerCase is not a function")
    return v.lower()


def _js_split(v: str | tuple[str, ...]) -> list[str]:
    if isinstance(v, tuple):
        raise _server_error("TypeError: v.split is not a function")
    return v.split(",")


_HEX24 = re.compile(r"[0-9a-fA-F]{24}")


def object_id(v: str | tuple[str, ...]) -> ObjectId:
    """``new ObjectId(v)`` (bson 6): only a 24-hex string; anything else throws (-> 500)."""
    if isinstance(v, str) and _HEX24.fullmatch(v):
        return ObjectId(v.lower())
    raise _server_error("BSONError: input must be a 24 character hex string, 12 byte Uint8Array, or an integer")


_MAX_MS = 8.64e15
_ISO = re.compile(
    r"(?P<y>[+-]\d{6}|\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?(?P<z>Z|[+-]\d{2}:?\d{2})?)?"
)
_SLASH_DATE = re.compile(
    r"(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2})(?: (?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
)


def _date_from_string(s: str) -> float:
    """``new Date(string)`` for the ISO forms (and V8's ``YYYY/MM/DD``); NaN when unparseable."""
    s = s.strip()
    m = _ISO.fullmatch(s) or _SLASH_DATE.fullmatch(s)
    if not m:
        return math.nan
    g = m.groupdict()
    y = int(g["y"])
    mo, d = int(g.get("mo") or 1), int(g.get("d") or 1)
    h, mi, sec = int(g.get("h") or 0), int(g.get("mi") or 0), int(g.get("s") or 0)
    frac = g.get("f") or ""
    ms = int((frac + "000")[:3]) if frac else 0
    if not (1 <= mo <= 12 and 1 <= d <= 31 and mi <= 59 and sec <= 59):
        return math.nan
    if h > 24 or (h == 24 and (mi or sec or ms)):
        return math.nan
    offset = 0
    z = g.get("z")
    if z and z != "Z":
        zz = z.replace(":", "")
        offset = (int(zz[1:3]) * 60 + int(zz[3:5])) * (1 if zz[0] == "+" else -1)
    # V8 lets the day overflow into the next month (2019-02-31 -> 2019-03-03).
    t = ((days_from_civil(y, mo, 1) + d - 1) * 86400 + h * 3600 + mi * 60 + sec - offset * 60) * 1000 + ms
    return t if abs(t) <= _MAX_MS else math.nan


def parse_date(v: str | tuple[str, ...]) -> BDate:
    """``parseDate`` of routes/[db]/entity/index.get.js: a numeric string is epoch ms, otherwise
    ``new Date(v)``. MONGO: an Invalid Date reaches MongoDB as epoch 0 (js-bson ``Long.fromNumber(NaN)``)."""
    n = js_number(v)
    if isinstance(n, float) and math.isnan(n):
        t = _date_from_string(js_string(v))
    else:
        t = math.trunc(n) if math.isfinite(n) and abs(n) <= _MAX_MS else math.nan  # TimeClip
    return BDate(0 if isinstance(t, float) and math.isnan(t) else int(t))


def _js_slice_utf16(s: str, n: int) -> str:
    """``s.slice(0, n)`` counted in UTF-16 code units (a cut emoji leaves a lone surrogate)."""
    units = s.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * n:
        return s
    return units[: 2 * n].decode("utf-16-le", "surrogatepass")


def _js_regex(value: str) -> _Regex:
    """The ``regex`` branch of the filter parser: ``/pattern/flags``.

    ``parts = v.split('/')`` and only ``parts[1]`` is the pattern, so a ``/`` inside the pattern cuts
    it (notes "Filters"); flags keep only ``imsx``; ``new RegExp`` failure -> 400 "Invalid regex".
    """
    parts = value.split("/")
    pattern = parts[1]
    flags = re.sub(r"[^imsx]", "", parts[2] if len(parts) > 2 else "")
    if "x" in flags or len(set(flags)) != len(flags):
        raise EntuHTTPError(400, "Invalid regex")  # JS: "Invalid flags supplied to RegExp constructor"
    # MONGO/js-bson: RegExp -> BSON regex with source and flags i, m (dotAll 's' is dropped).
    source = pattern if pattern else "(?:)"
    mongo_flags = "".join(f for f in "im" if f in flags)
    try:
        compiled, js_ok = compile_mongo_regex(source, mongo_flags)
    except RegexSyntax as exc:
        if exc.js_ok:
            raise _server_error(f"MongoServerError: Regular expression is invalid: {exc}") from exc
        raise EntuHTTPError(400, "Invalid regex") from exc
    if not js_ok:  # e.g. (?i) or a possessive quantifier: new RegExp throws first
        raise EntuHTTPError(400, "Invalid regex")
    return _Regex(source, mongo_flags, compiled)


def _mongo_regex_string(value: str) -> _Regex:
    """``$regex: "<string>"`` (a value without ``/``): PCRE compiles it; an error is a MongoServerError (500)."""
    try:
        return _Regex(value, "", compile_mongo_regex(value, "")[0])
    except RegexSyntax as exc:
        raise _server_error(f"MongoServerError: Regular expression is invalid: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------

_OPERATORS = ("gt", "gte", "lt", "lte", "ne", "regex", "exists", "in")
_WORD = re.compile(r"[A-Za-z0-9_]+")


def _convert(type_: str, op: str | None, v: str | tuple[str, ...]) -> Any:
    """The type switch of routes/[db]/entity/index.get.js (notes "Filters" table).

    MONGO/notes "exists caveat": ``exists`` becomes a boolean only in the boolean and default branches.
    """
    if type_ == "reference":
        return [object_id(x) for x in _js_split(v)] if op == "in" else object_id(v)
    if type_ == "boolean":
        if op == "in":
            return [x.lower() == "true" for x in _js_split(v)]
        return _js_lower(v) == "true"
    if type_ in ("number", "filesize"):
        return [js_number(x) for x in _js_split(v)] if op == "in" else js_number(v)
    if type_ in ("date", "datetime"):
        return [parse_date(x) for x in _js_split(v)] if op == "in" else parse_date(v)
    if op == "regex" and "/" in v:  # String#includes, or Array#includes for a repeated key
        return _js_regex(v) if isinstance(v, str) else v
    if op == "exists":
        return _js_lower(v) == "true"
    if op == "in":
        return _js_split(v)
    return v


def _query_args(request: Request) -> dict[str, str | tuple[str, ...]]:
    """h3 ``getQuery``: first-appearance key order; a repeated key becomes an array."""
    out: dict[str, str | tuple[str, ...]] = {}
    for k, v in request.query:
        if k in out:
            prev = out[k]
            out[k] = (*prev, v) if isinstance(prev, tuple) else (prev, v)
        else:
            out[k] = v
    return out


def parse_filters(query: Mapping[str, str | tuple[str, ...]]) -> dict[tuple[str, str], Any]:
    """Query parameters -> ``{(prop, type): operand-or-_Ops}`` exactly like the server's loop."""
    filters: dict[tuple[str, str], Any] = {}
    for k, v in query.items():
        if "." not in k:
            continue
        parts = k.split(".")
        field, type_ = parts[0], parts[1]
        op = parts[2] if len(parts) > 2 else None
        if not _WORD.fullmatch(field) or not _WORD.fullmatch(type_):
            continue  # notes: "other keys ... are silently ignored"
        value = _convert(type_, op, v)
        key = (field, type_)
        if op in _OPERATORS:
            # filter[k] = {...filter[k] || {}, [`$${op}`]: value}: spreading an earlier plain string
            # (or array) yields index keys, making a literal document that matches nothing.
            prev = filters.get(key)
            ops = _Ops(prev) if isinstance(prev, _Ops) else _Ops()
            ops.literal = (isinstance(prev, _Ops) and prev.literal) or (isinstance(prev, str | tuple) and len(prev) > 0)
            if op == "regex" and not isinstance(value, _Regex):
                if isinstance(value, str):
                    value = _mongo_regex_string(value)
                else:
                    raise _server_error("MongoServerError: $regex has to be a string")
            ops[op] = value
            filters[key] = ops
        else:
            filters[key] = value
    return filters


def _candidates(private: Mapping[str, Any], prop: str, type_: str) -> tuple[bool, list[Any]]:
    """Values reachable by ``private.<prop>.<type>``: (some value object has the key, the values)."""
    arr = private.get(prop)
    if not isinstance(arr, list):
        return False, []
    vals = [sub[type_] for sub in arr if isinstance(sub, dict) and type_ in sub]
    return bool(vals), vals


def _match_cond(private: Mapping[str, Any], prop: str, type_: str, cond: Any) -> bool:
    has, vals = _candidates(private, prop, type_)
    if not isinstance(cond, _Ops):
        if isinstance(cond, tuple):  # equality with an array operand: no scalar value equals it
            return False
        return any(_eq(c, cond) for c in vals)
    if cond.literal:
        return False
    for op, v in cond.items():
        if op in ("gt", "gte", "lt", "lte"):
            ok = not isinstance(v, tuple | list) and any(_range(op, c, v) for c in vals)
        elif op == "ne":
            ok = isinstance(v, tuple) or not any(_eq(c, v) for c in vals)
        elif op == "in":
            ok = any(_eq(c, x) for c in vals for x in v)
        elif op == "exists":
            ok = has if _true_value(v) else not has
        else:  # regex
            ok = any(isinstance(c, str) and v.compiled.search(c) is not None for c in vals)
        if not ok:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Paths, projection, sort keys
# --------------------------------------------------------------------------------------------


def _sort_values(node: Any, parts: list[str]) -> list[Any]:
    """Sort-key candidates of a dotted path (Mongo key generation: array elements without the field
    contribute null; a terminal array contributes its elements)."""
    if not parts:
        return list(node) if isinstance(node, list) else [node]
    if isinstance(node, list):
        out: list[Any] = []
        for el in node:
            out.extend(_sort_values(el, parts) if isinstance(el, dict) else [None])
        return out
    if isinstance(node, dict):
        return _sort_values(node[parts[0]], parts[1:]) if parts[0] in node else []
    return []


def _agg_path(node: Any, parts: list[str]) -> Any:
    """An aggregation field path (``$private.a.b``): arrays map over their documents."""
    if not parts:
        return node
    if isinstance(node, dict):
        return _agg_path(node[parts[0]], parts[1:]) if parts[0] in node else MISSING
    if isinstance(node, list):
        out = []
        for el in node:
            if isinstance(el, dict | list):
                r = _agg_path(el, parts)
                if r is not MISSING:
                    out.append(r)
        return out
    return MISSING


def _projection_tree(props: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for p in props:
        parts = p.split(".")
        node = tree
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            cur = node.get(part)
            if cur is True or (last and isinstance(cur, dict)):
                if cur is True and last:
                    break
                raise _server_error(f"MongoServerError: Path collision at {p}")
            if last:
                node[part] = True
            else:
                node = node.setdefault(part, {})
    return tree


def _project(node: Any, tree: Mapping[str, Any]) -> Any:
    """Mongo inclusion projection (document order kept; array elements that are not documents dropped)."""
    if isinstance(node, list):
        return [_project(el, tree) for el in node if isinstance(el, dict | list)]
    out: dict[str, Any] = {}
    for k, v in node.items():
        sub = tree.get(k)
        if sub is True:
            out[k] = v
        elif isinstance(sub, dict) and isinstance(v, dict | list):
            out[k] = _project(v, sub)
    return out


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        doc = doc.setdefault(part, {})
    doc[parts[-1]] = value


def _canon(v: Any) -> Any:
    """A hashable key with Mongo's equality (1 == 1.0, NaN == NaN, brackets distinct)."""
    b = _bracket(v)
    if b == NUMBER:
        return (NUMBER, "nan" if is_nan(v) else float(v) if abs(v) < 2**53 else v)
    if b == OBJECT:
        return (OBJECT, tuple((k, _canon(x)) for k, x in v.items()))
    if b == ARRAY:
        return (ARRAY, tuple(_canon(x) for x in v))
    if b == NULL:
        return (NULL,)
    return (b, v)


def _jsonify(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonify(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonify(x) for x in v]
    if isinstance(v, ObjectId):
        return v.hex
    if isinstance(v, BDate):
        return iso_ms(v.ms)
    if isinstance(v, float):
        if not math.isfinite(v):
            return None  # JSON.stringify(NaN) === 'null'
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return v


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

_SYSTEM_DBS = ("admin", "config", "local")
_DB_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@dataclass
class _PropDef:
    name: str
    type: str  # string | number | boolean | date | datetime | reference
    search: bool = False
    list: bool = False
    reference_type: str | None = None


class EntuSandbox(Platform):
    """The Entu REST API over in-memory entities (see the module docstring for the sources)."""

    name = "entu"
    #: what ``lowcode_sql.demo()`` and sandbox sources use
    DEMO_CREDENTIALS = {"key": "demo-api-key"}
    DEMO_OPTIONS = {"db": "demo"}

    USER_NAME = "Sandbox User"

    def __init__(
        self,
        *,
        db: str = "demo",
        api_keys: tuple[str, ...] = ("demo-api-key",),
        token_ttl: float = 12 * 3600,
        sample_data: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(sample_data=sample_data, **kw)
        if not _DB_NAME.fullmatch(db) or db in _SYSTEM_DBS:
            raise ValueError(f"invalid Entu database name {db!r}")
        self.db = db
        self.api_keys = tuple(api_keys)
        self.token_ttl = float(token_ttl)
        self._secret = hashlib.sha256(f"entu-sandbox-secret:{self.seed}".encode()).digest()
        self._next_jti = 1
        self._min_jti = 1  # expire_tokens(): every jti below this is revoked
        self._oid_rng = random.Random(f"entu-oid:{self.seed}")
        self._oid_process = self._oid_rng.getrandbits(40)
        self._oid_counter = 0
        # entities in insertion (natural) order; each: {"_id": ObjectId, "private": {...}, "search": [...]}
        self._entities: dict[ObjectId, dict[str, Any]] = {}
        self._types: dict[str, ObjectId] = {}  # type name -> type-definition entity id (set by _bootstrap_meta)
        self._prop_defs: dict[str, list[_PropDef]] = {}
        self.user_id = self._new_oid()
        self._meta_entity = self._new_oid()
        self._meta_property = self._new_oid()
        self._bootstrap_meta()
        if sample_data:
            self.load_sample_data()

    # -- framework hooks ---------------------------------------------------------------------

    def error_response(self, status: int, message: str, url: str = "/") -> Response:
        # h3 createError({statusCode, statusMessage}) as serialised by Nitro's error handler.
        return json_response(
            {"error": True, "url": url, "statusCode": status, "statusMessage": message, "message": message}, status
        )

    def expire_tokens(self) -> None:
        self._min_jti = self._next_jti

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        try:
            return self._route(request, path)
        except EntuHTTPError as exc:
            return self.error_response(exc.status, exc.message, url=path)

    # -- ids ---------------------------------------------------------------------------------

    def _new_oid(self) -> ObjectId:
        """Deterministic, increasing ObjectIds: 4-byte time, 5-byte 'process' value, 3-byte counter."""
        self._oid_counter += 1
        ts = 1_700_000_000 + self._oid_counter
        return ObjectId(f"{ts:08x}{self._oid_process:010x}{self._oid_counter & 0xFFFFFF:06x}")

    # -- routing -----------------------------------------------------------------------------

    def _route(self, request: Request, path: str) -> Response:
        parts = path.split("/")[1:]
        if not parts or parts[0] != "api" or len(parts) < 2:
            raise EntuHTTPError(404, f"Cannot find any path matching {path}.")
        rest = parts[1:]
        if rest[0] == "auth":
            if rest == ["auth"]:
                self._need_get(request)
                return self._auth(request)
            if rest == ["auth", "refresh"]:
                self._need_get(request)
                return self._refresh(request)
            raise EntuHTTPError(404, f"Cannot find any path matching {path}.")
        db = rest[0]
        if not _DB_NAME.fullmatch(db) or db in _SYSTEM_DBS:
            raise EntuHTTPError(400, f"Invalid database name: {db}")
        user = self._authenticate(request, db)
        if db != self.db:
            raise EntuHTTPError(404, f"Account {db} not found")
        if len(rest) == 1:
            self._need_get(request)
            return self._account(user)
        if rest[1] == "entity" and len(rest) == 2:
            self._need_get(request)
            return json_response(self._list(request, user))
        if rest[1] == "entity" and len(rest) == 3:
            self._need_get(request)
            return self._one(request, rest[2], user)
        raise EntuHTTPError(404, f"Cannot find any path matching {path}.")

    @staticmethod
    def _need_get(request: Request) -> None:
        if request.method.upper() not in ("GET", "HEAD"):
            raise EntuHTTPError(405, "Method Not Allowed")

    # -- auth --------------------------------------------------------------------------------

    @staticmethod
    def _bearer(request: Request) -> str:
        # (authorization || '').replace('Bearer ', '').trim()
        return (request.headers.get("authorization") or "").replace("Bearer ", "", 1).strip()

    def _issue(self, accounts: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        exp: float = now + self.token_ttl
        if self.token_ttl >= 1 and self.token_ttl.is_integer():
            exp = int(now) + int(self.token_ttl)
        payload: dict[str, Any] = {"accounts": accounts}
        if len(accounts) == 1:
            payload["db"] = next(iter(accounts))
        payload |= {"aud": "127.0.0.1", "iat": int(now), "exp": exp, "jti": str(self._next_jti)}
        self._next_jti += 1
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
        sig = _b64url(hmac.new(self._secret, f"{header}.{body}".encode(), hashlib.sha256).digest())
        return {
            "accounts": [
                {"_id": db, "name": db, "user": {"_id": uid, "name": self.USER_NAME}} for db, uid in accounts.items()
            ],
            "user": {},
            "token": f"{header}.{body}.{sig}",
            "expires": iso_ms(int(exp * 1000)),
        }

    def _decode(self, token: str, *, ignore_expiration: bool = False) -> dict[str, Any]:
        """jsonwebtoken ``verify`` with its error messages."""
        parts = token.split(".")
        if len(parts) != 3:
            raise EntuHTTPError(401, "jwt malformed")
        try:
            payload = json.loads(_b64url_decode(parts[1]))
            json.loads(_b64url_decode(parts[0]))
        except (ValueError, UnicodeDecodeError) as exc:
            raise EntuHTTPError(401, "invalid token") from exc
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            good = hmac.compare_digest(_b64url_decode(parts[2]), expected)
        except ValueError:
            good = False
        if not good or not isinstance(payload, dict):
            raise EntuHTTPError(401, "invalid signature")
        if not ignore_expiration:
            exp = payload.get("exp")
            if not isinstance(exp, int | float) or time.time() >= exp:
                raise EntuHTTPError(401, "jwt expired")
            if int(payload.get("jti", "0")) < self._min_jti:
                raise EntuHTTPError(401, "jwt expired")  # expire_tokens(): as if the clock jumped
        return payload

    def _auth(self, request: Request) -> Response:
        key = self._bearer(request)
        if not key:
            raise EntuHTTPError(400, "No key")
        only = request.arg("db") or request.arg("account")
        accounts: dict[str, str] = {}
        # A wrong key is not an error in the real route: it just finds no person in any database.
        if key in self.api_keys and (not only or only == self.db):
            accounts[self.db] = self.user_id.hex
        return json_response(self._issue(accounts))

    def _refresh(self, request: Request) -> Response:
        key = self._bearer(request)
        if not key:
            raise EntuHTTPError(400, "No key")
        try:
            decoded = self._decode(key, ignore_expiration=True)
        except EntuHTTPError as exc:
            raise EntuHTTPError(401, "Invalid token") from exc
        claimed = decoded.get("accounts") or {}
        accounts = {db: uid for db, uid in claimed.items() if db == self.db and uid == self.user_id.hex}
        if not accounts:
            raise EntuHTTPError(401, "No accessible accounts")
        return json_response(self._issue(accounts))

    def _authenticate(self, request: Request, db: str) -> ObjectId | None:
        """middleware/auth.js: no token -> anonymous (public view); a bad one -> 401."""
        token = self._bearer(request)
        if not token:
            return None
        payload = self._decode(token)
        uid = (payload.get("accounts") or {}).get(db)
        return ObjectId(uid) if isinstance(uid, str) and _HEX24.fullmatch(uid) else None

    # -- reads -------------------------------------------------------------------------------

    def _account(self, user: ObjectId | None) -> Response:
        props = sum(len(v) for e in self._entities.values() for v in e["private"].values())
        return json_response(
            {
                "entities": len(self._entities),
                "deletedEntities": 0,
                "properties": props,
                "deletedProperties": 0,
                "files": 0,
                "filesSize": 0,
                "deletedFiles": 0,
                "deletedFilesSize": 0,
            }
        )

    def _visible(self, user: ObjectId | None) -> bool:
        # Every sandbox entity is private to the API user (access = [user]); anonymous sees nothing.
        return user == self.user_id

    def _one(self, request: Request, raw_id: str, user: ObjectId | None) -> Response:
        query = _query_args(request)
        props = self._split_param(query, "props")
        oid = object_id(raw_id)
        entity = self._entities.get(oid)
        if entity is None:
            raise EntuHTTPError(404, f"Entity {oid.hex} not found")
        if not self._visible(user):
            raise EntuHTTPError(403, "No accessible properties")
        private = _project(entity["private"], _projection_tree(props)) if props else entity["private"]
        return json_response({"entity": _jsonify({"_id": oid, **private})})

    @staticmethod
    def _split_param(query: Mapping[str, str | tuple[str, ...]], name: str) -> list[str]:
        v = query.get(name) or ""
        if isinstance(v, tuple):
            raise _server_error(f"TypeError: query.{name}.split is not a function")
        return [x for x in v.split(",") if x]

    def _list(self, request: Request, user: ObjectId | None) -> dict[str, Any]:
        query = _query_args(request)
        props = self._split_param(query, "props")
        group = self._split_param(query, "group")
        sort = self._split_param(query, "sort")
        limit = _js_or(js_parse_int(query.get("limit")), 100)  # `|| 100`: NaN and 0 -> 100
        skip = _js_or(js_parse_int(query.get("skip")), 0)
        q = query.get("q") or ""
        if isinstance(q, tuple):
            raise _server_error("TypeError: query.q.toLowerCase is not a function")
        terms = [_js_slice_utf16(t, 20) for t in q.lower().split(" ") if t]
        filters = parse_filters(query)
        tree = _projection_tree(props) if props else None
        if not group:
            # MONGO: $limit must be positive, $skip non-negative (a Mongo error, i.e. a 500).
            if limit < 0 or limit >= 2**63:
                raise _server_error("MongoServerError: the limit must be positive")
            if skip < 0 or skip >= 2**63:
                raise _server_error("MongoServerError: the skip must be non-negative")

        matched = [e for e in self._entities.values() if self._visible(user) and self._matches(e, filters, terms)]

        sort_fields: dict[str, int] = {}
        for f in sort:  # sortFields[`private.${f}`]: a later duplicate keeps the first position
            if f.startswith("-"):
                sort_fields[f[1:]] = -1
            else:
                sort_fields[f] = 1

        if group:
            rows = self._group(matched, group, props)
            ordered = self._sort([(r, None, i) for i, r in enumerate(rows)], sort_fields)
            entities = [_jsonify(r) for r, _, _ in ordered]
            return {"entities": entities, "count": len(entities), "limit": limit, "skip": skip}

        ordered = self._sort([(e["private"], e["_id"], 0) for e in matched], sort_fields)
        entities = []
        for private, oid, _ in ordered[int(skip) : int(skip) + int(limit)]:
            shown = _project(private, tree) if tree is not None else private
            entities.append(_jsonify({"_id": oid, **shown}))
        return {"entities": entities, "count": len(matched), "limit": limit, "skip": skip}

    def _matches(self, entity: dict[str, Any], filters: Mapping[tuple[str, str], Any], terms: list[str]) -> bool:
        private = entity["private"]
        for (prop, type_), cond in filters.items():
            if not _match_cond(private, prop, type_, cond):
                return False
        if terms:
            # search.private $all terms: every term is a substring (<= 20 chars) of some indexed word.
            words = entity["search"]
            return all(any(t in w for w in words) for t in terms)
        return True

    @staticmethod
    def _sort(items: list[tuple[Any, Any, int]], sort_fields: Mapping[str, int]) -> list[tuple[Any, Any, int]]:
        """Mongo $sort on ``private.<f>``: ascending uses the smallest array element, descending the
        largest; missing sorts as null (lowest). Ties: ``_id`` ascending (groups: first appearance)."""
        fields = [(f.split("."), d) for f, d in sort_fields.items()]

        keyed = [([sort_key(_sort_values(p, parts), d) for parts, d in fields], p, oid, idx) for p, oid, idx in items]

        def cmp(a: Any, b: Any) -> int:
            for (_, d), ka, kb in zip(fields, a[0], b[0]):
                c = compare(ka, kb)
                if c:
                    return c * d
            if a[2] is not None and b[2] is not None:
                return compare(a[2], b[2])
            return (a[3] > b[3]) - (a[3] < b[3])

        keyed.sort(key=functools.cmp_to_key(cmp))
        return [(k[1], k[2], k[3]) for k in keyed]

    @staticmethod
    def _group(matched: list[dict[str, Any]], group: list[str], props: list[str]) -> list[dict[str, Any]]:
        """$group by the ``$private.<g>`` values (whole arrays), ``_count``, ``$first`` of each props
        field, then $project: rows ``{_count, <props>...}`` without ``_id`` (notes "group")."""
        _projection_tree(props)  # the $project would fail on colliding paths
        groups: dict[Any, dict[str, Any]] = {}
        for e in matched:
            key_parts = []
            for g in group:
                v = _agg_path(e["private"], g.split("."))
                if v is not MISSING:
                    key_parts.append((g.replace(".", "#"), _canon(v)))
            key = tuple(key_parts)
            row = groups.get(key)
            if row is None:
                row = {"_count": 0}
                for f in props:
                    v = _agg_path(e["private"], f.split("."))
                    _set_path(row, f, None if v is MISSING else v)  # $first of a missing field is null
                groups[key] = row
            row["_count"] += 1
        return list(groups.values())

    # -- data ------------------------------------------------------------------------------

    def _bootstrap_meta(self) -> None:
        """The two system types: ``entity`` (the type of every type definition) and ``property``."""
        for oid, name in ((self._meta_entity, "entity"), (self._meta_property, "property")):
            self._entities[oid] = {
                "_id": oid,
                "props": {"_type": [("reference", self._meta_entity)], "name": [("string", name)]},
                "search_props": ("name",),
            }
        self._types = {"entity": self._meta_entity, "property": self._meta_property}
        self._resolve()

    def _add_entity(
        self,
        type_name: str,
        props: Mapping[str, list[tuple[str, Any]]],
        search_props: Iterable[str] = (),
        oid: ObjectId | None = None,
    ) -> ObjectId:
        """Store an entity: ``props`` maps property -> [(value key, value)], in property order."""
        oid = oid or self._new_oid()
        if oid in self._entities:
            raise ValueError(f"duplicate entity _id {oid.hex}")
        self._entities[oid] = {
            "_id": oid,
            "props": {"_type": [("reference", self._types[type_name])], **props},
            "search_props": tuple(search_props),
        }
        return oid

    def _define_type(self, name: str, defs: list[_PropDef]) -> None:
        """The type-definition entity (``_type`` entity) and its property definitions (``_type``
        property, ``_parent`` -> the type), as an Entu database holds them."""
        tid = self._types.get(name)
        if tid is not None:
            parent = [("reference", tid)]
            for oid in [o for o, e in self._entities.items() if e["props"].get("_parent") == parent]:
                del self._entities[oid]
        else:
            tid = self._new_oid()
            self._entities[tid] = {
                "_id": tid,
                "props": {"_type": [("reference", self._meta_entity)], "name": [("string", name)]},
                "search_props": ("name",),
            }
            self._types[name] = tid
        self._prop_defs[name] = defs
        for d in defs:
            self._add_entity(
                "property",
                {
                    "_parent": [("reference", tid)],
                    "name": [("string", d.name)],
                    "type": [("string", d.type)],
                    "search": [("boolean", d.search)],
                    "list": [("boolean", d.list)],
                },
                search_props=("name",),
            )

    def _resolve(self) -> None:
        """(Re)build every entity's ``private`` view like utils/aggregate.js ``propertiesToEntity``:
        reference values gain ``property_type``, ``string`` (the target's first name, null if it has
        none) and ``entity_type`` (the target's first ``_type`` string); non-system references are also
        collected in ``_reference``; the ``search`` words come from the searchable properties
        (``makeSearchArray``: lower-cased, split on ``/[\\s,;]+/``)."""
        names: dict[ObjectId, Any] = {}
        for oid, e in self._entities.items():
            name_vals = [v for k, v in e["props"].get("name", []) if k == "string"]
            names[oid] = name_vals[0] if name_vals else None

        def type_name(oid: ObjectId) -> Any:
            refs = [v for k, v in self._entities[oid]["props"].get("_type", []) if k == "reference"]
            return names.get(refs[0]) if refs else None

        for e in self._entities.values():
            ids = e.setdefault("value_ids", {})
            private: dict[str, list[dict[str, Any]]] = {}
            for prop, values in e["props"].items():
                for n, (key, val) in enumerate(values):
                    vid = ids.get((prop, n))
                    if vid is None:
                        vid = ids[(prop, n)] = self._new_oid()
                    obj: dict[str, Any] = {"_id": vid, key: val}
                    private.setdefault(prop, [])
                    if key == "reference":
                        if val in self._entities:
                            obj |= {"property_type": prop, "string": names[val], "entity_type": type_name(val)}
                        if not prop.startswith("_"):
                            private.setdefault("_reference", []).append(obj)
                    private[prop].append(obj)
            e["private"] = private
            words: list[str] = []
            for prop in e["search_props"]:
                for v in private.get(prop, []):
                    text = v.get("string")
                    if text is None and "number" in v:
                        text = str(_jsonify(v["number"]))
                    if isinstance(text, str):
                        words.extend(w for w in re.split(r"[\s,;]+", text.lower()) if w)
            e["search"] = words

    def load_table(self, name: str, table: pa.Table, **options: Any) -> None:
        """Entities of ``_type`` ``name`` from Arrow rows (replacing earlier ones of that type).

        Options: ``references`` (column names, or ``{column: target type}``) whose 24-hex string
        values become reference values; ``searchable`` (columns indexed for ``q``; default: the string
        columns); ``id_column`` (default ``_id``; 24-hex strings; otherwise ids are generated).
        Null -> property absent; a list -> one value object per non-null element (an empty list is an
        absent property, as Entu cannot store one); ints/floats -> ``number``, bool -> ``boolean``,
        date -> ``date`` (UTC midnight), timestamp -> ``datetime`` (UTC, milliseconds, floored).
        """
        refs_opt = options.get("references") or ()
        references = dict(refs_opt) if isinstance(refs_opt, Mapping) else {c: None for c in refs_opt}
        id_column = options.get("id_column", "_id")
        if name in ("entity", "property"):
            raise ValueError(f"{name!r} is a system type")
        columns: list[tuple[str, str, list[list[Any] | None]]] = []
        ids: list[ObjectId | None] | None = None
        for col_name, column in zip(table.column_names, table.columns):
            if col_name == id_column:
                ids = [_load_oid(x) for x in column.to_pylist()]
                continue
            if not _WORD.fullmatch(col_name) or col_name.startswith("_"):
                raise ValueError(f"Entu property names must match /^\\w+$/ and not start with _: {col_name!r}")
            kind, rows = _arrow_values(column)
            if col_name in references:
                kind = "reference"
                rows = [None if r is None else [_load_oid(x) for x in r] for r in rows]
            columns.append((col_name, kind, rows))
        searchable = options.get("searchable")
        if searchable is None:
            searchable = [c for c, kind, _ in columns if kind == "string"]
        defs = [
            _PropDef(c, kind, search=c in searchable, list=any(r is not None and len(r) > 1 for r in rows),
                     reference_type=references.get(c))
            for c, kind, rows in columns
        ]  # fmt: skip
        self._remove_type_entities(name)
        self._define_type(name, defs)
        for i in range(table.num_rows):
            values: dict[str, list[tuple[str, Any]]] = {}
            for col_name, kind, rows in columns:
                cell = rows[i]
                if cell:
                    values[col_name] = [(kind, v) for v in cell]
            self._add_entity(name, values, search_props=searchable, oid=ids[i] if ids is not None else None)
        self._resolve()

    def _remove_type_entities(self, name: str) -> None:
        tid = self._types.get(name)
        if tid is None:
            return
        typed = [("reference", tid)]
        for oid in [o for o, e in self._entities.items() if e["props"].get("_type") == typed]:
            del self._entities[oid]

    def load_sample_data(self) -> None:
        _SampleBuilder(self, random.Random(self.seed)).build()
        self._resolve()


# --------------------------------------------------------------------------------------------
# Arrow -> values
# --------------------------------------------------------------------------------------------


def _arrow_values(column: pa.ChunkedArray | pa.Array) -> tuple[str, list[list[Any] | None]]:
    """(value key, per row: None or the non-null values)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        if pa.types.is_fixed_size_list(t):
            arr = arr.cast(pa.list_(t.value_type))
        kind, flat = _scalar_values(arr.values)
        offsets = arr.offsets.to_pylist()
        valid = arr.is_valid().to_pylist()
        rows: list[list[Any] | None] = []
        for i in range(len(arr)):
            if not valid[i]:
                rows.append(None)
                continue
            vals = [v for v in flat[offsets[i] : offsets[i + 1]] if v is not None]
            rows.append(vals or None)
        return kind, rows
    kind, flat = _scalar_values(arr)
    return kind, [None if v is None else [v] for v in flat]


def _scalar_values(arr: pa.Array) -> tuple[str, list[Any]]:
    t = arr.type
    if pa.types.is_dictionary(t):
        return _scalar_values(arr.dictionary_decode())
    if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
        return "string", arr.to_pylist()
    if pa.types.is_boolean(t):
        return "boolean", arr.to_pylist()
    if pa.types.is_integer(t):
        return "number", [v if v is None or abs(v) <= 2**53 else float(v) for v in arr.to_pylist()]
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number", [None if v is None else _num(float(v)) for v in arr.to_pylist()]
    if pa.types.is_date32(t):
        return "date", [None if v is None else BDate(v * 86_400_000) for v in arr.cast(pa.int32()).to_pylist()]
    if pa.types.is_date64(t):
        return "date", [None if v is None else BDate(v) for v in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_timestamp(t):
        div = {"s": None, "ms": 1, "us": 1000, "ns": 1_000_000}[t.unit]
        raw = arr.cast(pa.int64()).to_pylist()
        return "datetime", [None if v is None else BDate(v * 1000 if div is None else v // div) for v in raw]
    if pa.types.is_null(t):
        return "string", [None] * len(arr)
    raise TypeError(f"Entu sandbox cannot store Arrow type {t}")


def _load_oid(x: Any) -> ObjectId | None:
    if x is None:
        return None
    if isinstance(x, str) and _HEX24.fullmatch(x):
        return ObjectId(x.lower())
    raise ValueError(f"Entu ids and references are 24-hex ObjectId strings, not {x!r}")


def _num(f: float) -> float:
    return int(f) if f.is_integer() and abs(f) < 2**53 and not (f == 0 and math.copysign(1, f) < 0) else f


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------

_FORENAMES = [
    "Anna", "Mari", "Jüri", "İlkay", "Zoë", "José", "Łukasz", "Søren", "Ólafur", "Émile", "Kalle", "Liis",
    "Mart", "Tõnu", "Ülle", "Aivar", "Kadri", "anna", "ANNA", "Ørjan", "Çağla", "Nguyễn", "Ines", "Peeter",
]  # fmt: skip
_SURNAMES = [
    "Tamm", "Saar", "Müller", "Öztürk", "O'Brien", "Smith", "smith", "SMITH", "García", "Straßberg",
    "van der Berg", "Dupont-Lefèvre", "李", "Kask", "Mägi", "Õun", "Kuusk", "Ilves", "Weiß", "Weiss",
]  # fmt: skip
_TITLE_WORDS = [
    "Secret", "Garden", "River", "Night", "Winter", "Empire", "Shadow", "Light", "Stone", "Forest", "City",
    "Ocean", "Dream", "Machine", "Song", "Hidden", "Last", "First", "Silent", "Broken", "Golden", "Iron",
]  # fmt: skip
_SPECIAL_TITLES = [
    "C++ Primer", "What? (Really) [2nd] {ed.} | ^$ \\ / .*", "100% Pure_Python", "a/b/c", "Hello, World",
    "", " Leading space", "Trailing space ", "apple", "Apple", "APPLE", "İstanbul Nights", "Straße der Träume",
    "STRASSE", "Café Crème", "Cafe Creme", "naïve résumé", "📚 Emoji Book 🎉", "Tab\tSeparated", "Line\nBreak",
    "back\\slash", "dollar$sign", "caret^top", "under_score", "quote'single", 'quote"double', "semi;colon",
    "Κόσμε", "ǅungla", "ﬁle ligature", "Ωmega", "zzz last", "0 starts with digit", "a.b.c", "x*y+z?",
    "Supercalifragilisticexpialidocious and more", "tie", "tie", "tie",
]  # fmt: skip
_TAGS = ["classic", "fantasy", "sci-fi", "Sci-Fi", "history", "c++", "c#", "über", "tag with space", "a,b", "%", "_"]
_CURRENCIES = ["EUR", "USD", "GBP", "JPY", "eur", "€"]


class _SampleBuilder:
    """Deterministic sample database (``random.Random(seed)``): person (80), book (300), invoice (200)."""

    def __init__(self, sandbox: EntuSandbox, rng: random.Random) -> None:
        self.s = sandbox
        self.r = rng

    def _date(self, y0: int, y1: int) -> BDate:
        days0, days1 = days_from_civil(y0, 1, 1), days_from_civil(y1, 12, 31)
        return BDate(self.r.randint(days0, days1) * 86_400_000)

    def _datetime(self, y0: int, y1: int) -> BDate:
        return BDate(self._date(y0, y1).ms + self.r.randint(0, 86_399_999))

    def build(self) -> None:
        s = self.s
        s._define_type("person", [
            _PropDef("name", "string", search=True), _PropDef("forename", "string", search=True),
            _PropDef("surname", "string", search=True), _PropDef("email", "string", search=True, list=True),
            _PropDef("birthday", "date"), _PropDef("created", "datetime"),
        ])  # fmt: skip
        s._define_type("book", [
            _PropDef("name", "string", search=True), _PropDef("isbn", "string", search=True),
            _PropDef("price", "number"), _PropDef("pages", "number"), _PropDef("published", "date"),
            _PropDef("in_stock", "boolean"), _PropDef("author", "reference", list=True, reference_type="person"),
            _PropDef("tags", "string", search=True, list=True),
        ])  # fmt: skip
        s._define_type("invoice", [
            _PropDef("number", "string", search=True), _PropDef("amount", "number"),
            _PropDef("currency", "string"), _PropDef("issued", "datetime"), _PropDef("paid", "boolean"),
            _PropDef("customer", "reference", reference_type="person"),
        ])  # fmt: skip
        people = [self._person(i) for i in range(80)]
        for i in range(300):
            self._book(i, people)
        for i in range(200):
            self._invoice(i, people)

    def _person(self, i: int) -> ObjectId:
        r = self.r
        fore, sur = _FORENAMES[i % len(_FORENAMES)], r.choice(_SURNAMES)
        v: dict[str, list[tuple[str, Any]]] = {
            "name": [("string", f"{fore} {sur}")],
            "forename": [("string", fore)],
            "surname": [("string", sur)],
        }
        if i % 9 != 4:
            v["email"] = [
                ("string", f"{fore.lower()}.{k}{i}@example.{r.choice(['com', 'ee', 'org'])}")
                for k in range(r.choice([1, 1, 1, 2, 3]))
            ]
        if i == 7:
            v["birthday"] = [("date", BDate(0))]  # 1970-01-01: what an invalid date filter hits
        elif i % 10 != 3:
            v["birthday"] = [("date", self._date(1900, 2010))]
        if i % 20 == 5:
            v["created"] = [("datetime", BDate(1_600_000_000_123))]  # ties
        else:
            v["created"] = [("datetime", self._datetime(2015, 2025))]
        return self.s._add_entity("person", v, search_props=("name", "forename", "surname", "email"))

    def _book(self, i: int, people: list[ObjectId]) -> None:
        r = self.r
        if i < len(_SPECIAL_TITLES):
            title = _SPECIAL_TITLES[i]
        else:
            title = f"The {r.choice(_TITLE_WORDS)} {r.choice(_TITLE_WORDS)}"
        v: dict[str, list[tuple[str, Any]]] = {"name": [("string", title)]}
        if i % 37 == 11:
            v["name"].append(("string", f"{title} (alternative title)"))
        if i % 10 != 7:
            v["isbn"] = [("string", f"978-{r.randint(0, 9)}-{r.randint(1000, 9999)}-{r.randint(100, 999)}-{i % 10}")]
        if i % 10 != 2:
            price = r.choice([9.99, 9.99, 0, 15, 19.5, 4.25]) if i % 4 == 0 else round(r.uniform(1, 120), 2)
            v["price"] = [("number", _num(float(price)))]
            if i % 20 == 6:
                v["price"].append(("number", _num(round(r.uniform(150, 300), 2))))  # two prices: any-element
        special_prices = {13: -1.5, 14: 1e9, 15: 0.30000000000000004, 16: 2**53, 17: -0.0001}
        if i in special_prices:
            v["price"] = [("number", special_prices[i])]
        if i % 3 == 0:
            v["pages"] = [("number", r.randint(10, 2000))]
        if i == 21:
            v["published"] = [("date", BDate(0))]
        elif i % 20 != 9:
            v["published"] = [("date", self._date(1800, 2030))]
        if i % 10 != 5:
            v["in_stock"] = [("boolean", r.random() < 0.6)]
            if i % 33 == 1:
                v["in_stock"] = [("boolean", True), ("boolean", False)]
        if i % 10 != 8:
            v["author"] = [("reference", people[r.randrange(len(people))])]
            if i % 20 == 3:
                v["author"].append(("reference", people[r.randrange(len(people))]))
        if i % 6 != 1:
            v["tags"] = [("string", t) for t in r.sample(_TAGS, r.choice([1, 1, 2, 3, 4]))]
        self.s._add_entity("book", v, search_props=("name", "isbn", "tags"))

    def _invoice(self, i: int, people: list[ObjectId]) -> None:
        r = self.r
        year = 2019 + i % 6
        v: dict[str, list[tuple[str, Any]]] = {
            "number": [("string", f"INV-{year}-{(i if i % 25 else i - 1):04d}")],  # some duplicate numbers
            "amount": [("number", _num(round(r.uniform(-5000, 1_000_000), 2)))],
            "issued": [("datetime", BDate(1_700_000_000_000) if i % 30 == 0 else self._datetime(year, year))],
            "paid": [("boolean", r.random() < 0.5)],
        }
        special = {3: 0, 4: -0.01, 5: 1e12, 6: 123456789012.34, 7: -1e15, 8: 0.1}
        if i in special:
            v["amount"] = [("number", special[i])]
        if i % 12 != 7:
            v["currency"] = [("string", r.choice(_CURRENCIES))]
        if i % 20 != 13:
            v["customer"] = [("reference", people[r.randrange(len(people))])]
        self.s._add_entity("invoice", v, search_props=("number",))


SANDBOX = EntuSandbox  # found by lowcode_sql.sandbox.get_sandbox
