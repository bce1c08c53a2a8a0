"""Slingr emulator, written from the Slingr API documentation and its notes, not from the dialect.

What is emulated, and where it comes from ("seed" = the Slingr "Apps API" REST page, "notes" = docs/notes/slingr-api.md,
which cites slingr-stack/slingr-docs: query-language.md, aggregate-queries.md, data/restapi/data/list.yml):

* Auth (seed "Authentication"): ``POST /auth/login`` with ``{"email", "password"}`` answers
  ``{app, adminUserEmail, ip, userEmail, userName, userId, token}``. Every other call needs the
  header ``token``; a token expires after ``token_ttl`` seconds of *inactivity* (seed: "usually after
  8 hours of inactivity") and then answers 401. Bad credentials: 401; a body without email or
  password: 400.
* Records (seed "App data"): ``id``, ``version``, ``label`` always present; nested fields are objects
  (or arrays of objects for multi-valued ones) with their own ``id``/``label``; relationships are
  ``{"id", "label"}``; date-time (and date record created/modified) values are epoch milliseconds,
  dates ``yyyy-MM-dd``, date-times without time zone ``yyyy-MM-dd HH:mm``, times ``HH:mm``,
  month-days ``MM-dd``, year-months ``yyyy-MM`` (all text, compared as text, a value in another
  shape is a 400), time durations milliseconds, big numbers strings compared as numbers
  (slingr-docs data/types/*.yml).
* ``GET /data/{entity}`` (seed "List records", notes "Field filters", "System parameters"):
  ``field=value`` (comma list = OR, ``"..."`` quotes a value holding commas), ``field=op(args)`` with
  ``equals notEquals like between greater greaterOrEquals less lessOrEquals empty notEmpty``,
  ``like`` forms (``x`` contains, ``/x`` starts with, ``x/`` ends with, ``/re/`` regex), nested paths
  ``a.b`` matching when *any* element of a multi-valued nested field matches, relationship
  ``company=<label or id>``/``company.id``/``company.label``, ``_query=and(...)/or(filter('f','v'))``,
  the per-type operator table (a misuse is a 400), ``_fields``, ``_size`` (default 20, clamped to
  1000), ``_offset`` as a number (skip) or a record id (keyset: records *after* it in the current
  order; only with no sort or a sort by id), ``_sortField``/``_sortType`` (one field; default
  ``id desc``). The answer is ``{total, offset, items}``: ``total`` counts every match (not just the
  page) and ``offset`` is the id of the page's last record.
* ``GET /data/{entity}/{id}``.
* ``PUT /data/{entity}/aggregate`` (notes "Aggregate queries"): a JSON array of single-key stages
  ``match``, ``group`` (``by`` plus ``sum/avg/count/min/max/first/last``), ``sort``, ``project``,
  ``limit``, ``skip``, ``count``; answer ``{total, items}``.
* Errors (seed "General error codes"): ``{"code", "message"}`` JSON (plus ``errors`` for validation
  problems, as in the seed's log sample), 400/401/403/404/409/500/503; 429 with ``Retry-After``
  comes from the framework.

Choices where the sources are silent (each marked "ASSUMED:" below): inside ``_query`` strings are
single-quoted with no escape for a quote; in the plain form a double-quoted item has no escape for a
double quote; ``empty()`` matches null, a missing field and an empty array; ``like`` is
case-insensitive unless ``like_case_insensitive=False``; sorting puts missing values first ascending
(MongoDB, which the aggregate docs name as the engine). Ties under a sort field other than ``id``
come back in an order that varies with ``_offset``/``_size`` (MongoDB's "sort consistency" note: a
sort on duplicate values promises no order among them, add a unique key for consistent paging), so
a client that pages a non-unique sort across requests is caught.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import random
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response

__all__ = ["FieldDef", "SlingrSandbox"]

TEXT_TYPES = frozenset({"text", "email", "url", "phone", "html", "longText", "maskedText", "qr"})
# slingr-docs data/types/*.yml: big number reads as a string of up to 34 significant digits and
# compares as a number; time duration is milliseconds
NUMBER_TYPES = frozenset({"integer", "decimal", "money", "percentage", "bigNumber", "autoIncrement", "timeDuration"})
INTEGER_TYPES = frozenset({"integer", "autoIncrement", "timeDuration"})
EPOCH_MS_TYPES = frozenset({"dateTime", "dateRecordCreated", "dateRecordModified"})
# notes "Value formats in queries": text formats of the other date/time types
TEXT_DATE_FORMATS = {"date": r"\d{4}-\d{2}-\d{2}", "dateTimeNoTimezone": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}",
                     "time": r"\d{2}:\d{2}", "monthDay": r"\d{2}-\d{2}", "yearMonth": r"\d{4}-\d{2}"}
DATE_TYPES = EPOCH_MS_TYPES | frozenset(TEXT_DATE_FORMATS)
ALL_OPS = frozenset({"equals", "notEquals", "like", "between", "greater", "greaterOrEquals", "less",
                     "lessOrEquals", "empty", "notEmpty"})
# notes "Operators supported per type"
_OPS_BY_KIND: dict[str, frozenset[str]] = {
    "text": ALL_OPS,
    "number": ALL_OPS - {"like"},
    "date": ALL_OPS - {"like"},
    "boolean": frozenset({"equals", "notEquals"}),
    "choice": frozenset({"equals", "notEquals", "empty", "notEmpty"}),
    "relationship": frozenset({"equals", "notEquals", "empty", "notEmpty", "like"}),
    "nestedFields": frozenset({"equals", "empty", "notEmpty"}),
}
_OP_CALL = re.compile(r"^(" + "|".join(sorted(ALL_OPS)) + r"|near)\((.*)\)$", re.S)
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_AGG = re.compile(r"^(sum|avg|count|min|max|first|last)\(([\w.]*)\)$")
_PREFIX = re.compile(r"^/(?:[^/]+/)?runtime/api(?=/)")
_SYSTEM = ("id", "version", "label")


class SlingrError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def _bad(message: str, field_name: str | None = None) -> SlingrError:
    errors = [{"code": "invalid", "field": field_name, "message": message}] if field_name else None
    return SlingrError(400, "badRequest", message, errors)


@dataclass
class FieldDef:
    """One field of an entity: a Slingr type name, multiplicity and, for nested fields, sub-fields."""

    name: str
    type: str
    multiple: bool = False
    fields: dict[str, FieldDef] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.type in TEXT_TYPES:
            return "text"
        if self.type in NUMBER_TYPES:
            return "number"
        if self.type in DATE_TYPES:
            return "date"
        return self.type


@dataclass
class _Entity:
    fields: dict[str, FieldDef]
    records: list[dict[str, Any]] = field(default_factory=list)  # wire format, in insertion order


# --------------------------------------------------------------------------------------------
# Query language parsing
# --------------------------------------------------------------------------------------------


def split_items(text: str) -> list[str]:
    """A comma list; ``"..."`` quotes an item (ASSUMED: no escape for a double quote inside)."""
    items: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _bad(f"unterminated quote in value [{text}]")
            items.append(text[i + 1 : end])
            i = end + 1
            if i < n and text[i] != ",":
                raise _bad(f"unexpected character after a quoted value in [{text}]")
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            items.append(text[i:end])
            i = end
        if i >= n:
            return items
        i += 1  # the comma


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1]:
        return text[1:-1]
    return text


def parse_expr(text: str) -> tuple[str, list[str]]:
    """``op(args)`` or a comma list (``equals`` with one or more values)."""
    m = _OP_CALL.match(text)
    if m is None:
        return "equals", split_items(text)
    op, arg = m.group(1), m.group(2)
    if op in ("empty", "notEmpty"):
        if arg.strip():
            raise _bad(f"{op}() takes no argument")
        return op, []
    if op == "between":
        args = split_items(arg)
        if len(args) != 2:
            raise _bad("between() needs two values: between(from,to)")
        return op, args
    if op == "near":
        raise _bad("near() is only valid on geo point fields")
    return op, [_unquote(arg)]  # one argument: the whole text (a like regex may hold commas)


class _QueryParser:
    """``and(...)``, ``or(...)``, ``filter('name','value')`` (ASSUMED: no escape for ``'``)."""

    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def parse(self) -> tuple[Any, ...]:
        node = self.node()
        self.ws()
        if self.i != len(self.s):
            raise _bad(f"invalid _query: unexpected text at position {self.i}")
        return node

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def expect(self, ch: str) -> None:
        self.ws()
        if not self.s.startswith(ch, self.i):
            raise _bad(f"invalid _query: expected {ch!r} at position {self.i}")
        self.i += 1

    def string(self) -> str:
        self.expect("'")
        end = self.s.find("'", self.i)
        if end < 0:
            raise _bad("invalid _query: unterminated string")
        out = self.s[self.i : end]
        self.i = end + 1
        return out

    def node(self) -> tuple[Any, ...]:
        self.ws()
        m = re.compile(r"(and|or|filter)\(").match(self.s, self.i)
        if m is None:
            raise _bad(f"invalid _query: expected and(, or( or filter( at position {self.i}")
        self.i = m.end()
        word = m.group(1)
        if word == "filter":
            name = self.string()
            self.expect(",")
            value = self.string()
            self.expect(")")
            return ("filter", name, value)
        items = [self.node()]
        while True:
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                items.append(self.node())
                continue
            self.expect(")")
            return (word, items)


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class SlingrSandbox(Platform):
    """The Slingr REST API (runtime API: auth and app data) over in-memory entities."""

    name = "slingr"
    DEMO_CREDENTIALS = {"email": "user@test.com", "password": "abcdefgh"}  # the seed's login example
    #: issue 13: plausible answers the seed leaves open (see ``Platform.VARIANTS``)
    VARIANTS = {"list_without_offset": "list answers carry no 'offset' key (only {total, items})"}

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        token_ttl: float = 8 * 3600,
        like_case_insensitive: bool = True,
        sample_data: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(sample_data=sample_data, **kw)
        self.users = dict(users or {"user@test.com": "abcdefgh"})
        self.token_ttl = float(token_ttl)
        self.like_case_insensitive = like_case_insensitive
        self.entities: dict[str, _Entity] = {}
        self._sessions: dict[str, float] = {}  # token -> last use (self.clock)
        self._oid_counter = 0
        self._oid_rng = random.Random(f"slingr-oid:{self.seed}")
        self.logins = 0
        if sample_data:
            self.load_sample_data()

    @property
    def DEMO_OPTIONS(self) -> dict[str, Any]:  # type: ignore[override]  # computed from the data
        """The source options a user would write for this app: its entities and field types."""
        fields: dict[str, dict[str, str]] = {}
        for name, entity in self.entities.items():
            types = fields.setdefault(name, {})
            for f in entity.fields.values():
                types[f.name] = f.type
                types.update((f"{f.name}.{sub.name}", sub.type) for sub in f.fields.values())  # inner fields
        return {"entities": sorted(self.entities), "fields": fields}

    # -- framework hooks ---------------------------------------------------------------------

    def error_response(self, status: int, message: str) -> Response:
        codes = {401: "unauthorized", 403: "forbidden", 404: "notFound", 409: "optimisticLocking",
                 429: "tooManyRequests", 503: "serviceUnavailable"}
        code = codes.get(status, "badRequest" if status < 500 else "error")
        return json_response({"code": code, "message": message}, status)

    def expire_tokens(self) -> None:
        self._sessions.clear()

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except SlingrError as exc:
            body: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.errors:
                body["errors"] = exc.errors
            return json_response(body, exc.status)

    def new_id(self) -> str:
        """Deterministic ObjectId-like ids that increase with insertion."""
        self._oid_counter += 1
        return f"{0x57FD0000 + self._oid_counter:08x}{self._oid_rng.getrandbits(64):016x}"

    # -- routing -----------------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        path = _PREFIX.sub("", request.path).rstrip("/")
        parts = path.split("/")[1:]
        if parts == ["auth", "login"]:
            if request.method != "POST":
                raise SlingrError(405, "badRequest", "use POST /auth/login")
            return self._login(request)
        self._authenticate(request)
        if len(parts) >= 2 and parts[0] == "data":
            entity = self.entities.get(parts[1])
            if entity is None:
                raise SlingrError(404, "notFound", f"Entity [{parts[1]}] does not exist")
            if len(parts) == 2 and request.method == "GET":
                return json_response(self._list(entity, request))
            if len(parts) == 3 and parts[2] == "aggregate" and request.method == "PUT":
                return json_response(self._aggregate(entity, request))
            if len(parts) == 3 and request.method == "GET":
                for rec in entity.records:
                    if rec["id"] == parts[2]:
                        return json_response(self._project(rec, request.arg("_fields")))
                raise SlingrError(404, "notFound", f"Record [{parts[2]}] not found")
            raise SlingrError(400, "badRequest", f"{request.method} {path} is not supported by the sandbox")
        raise SlingrError(404, "notFound", f"Resource [{path}] not found")

    def _login(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            raise SlingrError(400, "badRequest", "Malformed request: the body is not valid JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("email"), str) or not isinstance(
            body.get("password"), str
        ):
            raise SlingrError(400, "badRequest", "Malformed request: email and password are required")
        if self.users.get(body["email"]) != body["password"]:
            raise SlingrError(401, "invalidCredentials", "Invalid credentials")
        token = secrets.token_urlsafe(24)
        self._sessions[token] = self.clock()
        self.logins += 1
        return json_response({"app": "sandbox", "adminUserEmail": None, "ip": "127.0.0.1",
                              "userEmail": body["email"], "userName": "Sandbox User",
                              "userId": "57fce0c3e4b0ce322b0c06b2", "token": token})

    def _authenticate(self, request: Request) -> None:
        token = request.header("token")
        last = self._sessions.get(token or "")
        now = self.clock()
        if last is None or now - last > self.token_ttl:
            self._sessions.pop(token or "", None)
            raise SlingrError(401, "unauthorized",
                              "Unauthorized. You need to log in or the provided token is not valid.")
        self._sessions[token] = now  # inactivity expiry: every use extends the token

    # -- paths and values ---------------------------------------------------------------------

    def _field(self, entity: _Entity, path: str) -> FieldDef:
        """The field a dotted path names (system fields are text/integer)."""
        parts = path.split(".")
        fields = entity.fields
        fd: FieldDef | None = None
        for i, part in enumerate(parts):
            if part in ("id", "label"):
                fd = FieldDef(part, "text")
            elif part == "version" and i == 0:
                fd = FieldDef(part, "integer")
            elif fd is not None and fd.type == "relationship":
                raise _bad(f"Field [{path}] does not exist", path)
            else:
                fd = fields.get(part)
                if fd is None:
                    raise _bad(f"Field [{path}] does not exist", path)
            if i < len(parts) - 1:
                if fd.type not in ("nestedFields", "relationship"):
                    raise _bad(f"Field [{path}] does not exist", path)
                fields = fd.fields
        assert fd is not None
        return fd

    @staticmethod
    def _values(record: Any, path: list[str]) -> list[Any]:
        """Every value at ``path``, descending into arrays (any-element semantics)."""
        nodes = [record]
        for part in path:
            nxt = []
            for node in nodes:
                if isinstance(node, dict) and part in node:
                    v = node[part]
                    nxt.extend(v if isinstance(v, list) else [v])
            nodes = nxt
        out = []
        for v in nodes:
            if isinstance(v, list):
                out.extend(v)
            elif v is not None:
                out.append(v)
        return out

    def _typed(self, fd: FieldDef, text: str, path: str) -> Any:
        kind = fd.kind
        try:
            if fd.type in INTEGER_TYPES:
                return int(text)
            if fd.type == "bigNumber":
                v = decimal.Decimal(text)
                if not v.is_finite():
                    raise ValueError(text)
                return v
            if kind == "number":
                v = float(text)
                if not math.isfinite(v):
                    raise ValueError(text)
                return v
            if fd.type in EPOCH_MS_TYPES:
                return int(text)  # notes "Value formats": epoch milliseconds (UTC)
        except (ValueError, decimal.InvalidOperation):
            raise _bad(f"Invalid value [{text}] for field [{path}] of type {fd.type}", path) from None
        if fd.type == "boolean":
            if text not in ("true", "false"):
                raise _bad(f"Invalid value [{text}] for boolean field [{path}]", path)
            return text == "true"
        fmt = TEXT_DATE_FORMATS.get(fd.type)
        if fmt is not None and not re.fullmatch(fmt, text):
            raise _bad(f"Invalid value [{text}] for field [{path}] of type {fd.type}", path)
        return text

    # -- filters -------------------------------------------------------------------------------

    def _condition(self, entity: _Entity, path: str, expr: str) -> Any:
        """A compiled condition: a function record -> bool."""
        fd = self._field(entity, path)
        op, args = parse_expr(expr)
        kind = fd.kind
        if fd.type == "nestedFields":
            raise _bad(f"Cannot filter by nested field [{path}] itself: use its inner fields", path)
        allowed = _OPS_BY_KIND.get(kind, frozenset())
        if op not in allowed:
            raise _bad(f"Operator [{op}] is not supported for field [{path}] of type {fd.type}", path)
        parts = path.split(".")
        is_rel = fd.type == "relationship"
        if is_rel:
            # notes: company=<label> or the id (company.id / company.label filter the parts).
            def rel_values(rec: Any) -> list[Any]:
                out = []
                for v in self._values(rec, parts):
                    if isinstance(v, dict):
                        out += [x for x in (v.get("id"), v.get("label")) if x is not None]
                return out

            values_of = rel_values
        elif fd.type == "bigNumber":
            def big(rec: Any) -> list[Any]:  # strings on the wire, numbers to the server
                return [decimal.Decimal(v) if isinstance(v, str) else v for v in self._values(rec, parts)]

            values_of = big
        else:
            def plain(rec: Any) -> list[Any]:
                return self._values(rec, parts)

            values_of = plain
        if op == "empty":
            return lambda rec: not values_of(rec)
        if op == "notEmpty":
            return lambda rec: bool(values_of(rec))
        if op == "like":
            matcher = self._like(args[0], path)
            return lambda rec: any(isinstance(v, str) and matcher(v) for v in values_of(rec))
        typed = [self._typed(fd, a, path) for a in args]
        if op == "equals":
            wanted = typed
            return lambda rec: any(_same(v, w) for v in values_of(rec) for w in wanted)
        if op == "notEquals":
            if len(typed) != 1:
                raise _bad("notEquals() takes one value", path)
            w0 = typed[0]
            return lambda rec: not any(_same(v, w0) for v in values_of(rec))
        if op == "between":
            lo, hi = typed
            # MongoDB {$gte, $lte} on an array: each bound may be met by a different element.
            return lambda rec: (any(_cmp(v, lo) is not None and _cmp(v, lo) >= 0 for v in values_of(rec))
                                and any(_cmp(v, hi) is not None and _cmp(v, hi) <= 0 for v in values_of(rec)))
        w = typed[0]
        test = {"greater": lambda c: c > 0, "greaterOrEquals": lambda c: c >= 0,
                "less": lambda c: c < 0, "lessOrEquals": lambda c: c <= 0}[op]
        return lambda rec: any((c := _cmp(v, w)) is not None and test(c) for v in values_of(rec))

    def _like(self, arg: str, path: str) -> Any:
        flags = re.IGNORECASE if self.like_case_insensitive else 0
        if len(arg) >= 2 and arg.startswith("/") and arg.endswith("/"):
            try:
                rx = re.compile(arg[1:-1], flags)
            except re.error as e:
                raise _bad(f"Invalid regular expression in like() for field [{path}]: {e}", path) from None
            return lambda v: rx.search(v) is not None
        if arg.startswith("/"):
            rx = re.compile("^" + re.escape(arg[1:]), flags)
        elif arg.endswith("/"):
            rx = re.compile(re.escape(arg[:-1]) + r"\Z", flags)
        else:
            rx = re.compile(re.escape(arg), flags)
        return lambda v: rx.search(v) is not None

    def _query_tree(self, entity: _Entity, node: tuple[Any, ...]) -> Any:
        if node[0] == "filter":
            return self._condition(entity, node[1], node[2])
        subs = [self._query_tree(entity, n) for n in node[1]]
        if node[0] == "and":
            return lambda rec: all(s(rec) for s in subs)
        return lambda rec: any(s(rec) for s in subs)

    def _filters(self, entity: _Entity, request: Request) -> list[Any]:
        conds = []
        seen: set[str] = set()
        for key, value in request.query:
            if key.startswith("_"):
                if key == "_query":
                    conds.append(self._query_tree(entity, _QueryParser(value).parse()))
                continue
            if key in seen:  # notes: "The same key cannot repeat."
                raise _bad(f"Parameter [{key}] is repeated", key)
            seen.add(key)
            conds.append(self._condition(entity, key, value))
        return conds

    # -- list ----------------------------------------------------------------------------------

    def _sorted(self, entity: _Entity, records: list[dict[str, Any]], request: Request) -> tuple[list[Any], str, bool]:
        sort_field = request.arg("_sortField") or "id"
        sort_type = request.arg("_sortType") or ("desc" if sort_field == "id" else "asc")
        if sort_type not in ("asc", "desc"):
            raise _bad(f"Invalid _sortType [{sort_type}]: use asc or desc", "_sortType")
        desc = sort_type == "desc"
        if "," in sort_field:
            raise _bad("Only one sort field is supported", "_sortField")
        if sort_field != "id":
            fd = self._field(entity, sort_field)
            if fd.multiple or fd.type == "nestedFields" or any(
                self._field(entity, ".".join(sort_field.split(".")[: i + 1])).multiple
                for i in range(sort_field.count("."))
            ):
                raise _bad(f"Cannot sort by multi-valued or nested field [{sort_field}]", "_sortField")
        parts = sort_field.split(".")
        if sort_field == "id":
            return sorted(records, key=lambda r: r["id"], reverse=desc), sort_field, desc

        def key(rec: dict[str, Any]) -> tuple[Any, ...]:
            vals = self._values(rec, parts)
            v = vals[0] if vals else None
            if isinstance(v, dict):  # a relationship sorts by its label
                v = v.get("label")
            return (_bracket(v), v if v is not None else 0)

        # ties in an order that depends on the page asked for (module docstring); sorted() is stable
        # and reverse=True keeps equal keys in their shuffled order
        shuffled = list(records)
        random.Random(f"{request.arg('_offset')}:{request.arg('_size')}:{len(records)}").shuffle(shuffled)
        return sorted(shuffled, key=key, reverse=desc), sort_field, desc

    def _list(self, entity: _Entity, request: Request) -> dict[str, Any]:
        conds = self._filters(entity, request)
        matched = [r for r in entity.records if all(c(r) for c in conds)]
        ordered, sort_field, desc = self._sorted(entity, matched, request)
        size_text = request.arg("_size", "20") or "20"
        if not size_text.isdigit():
            raise _bad(f"Invalid _size [{size_text}]", "_size")
        size = min(int(size_text), 1000)  # notes: default 20, maximum 1000
        offset = request.arg("_offset")
        start = 0
        if offset:
            if _OBJECT_ID.match(offset) or not offset.isdigit():
                if sort_field != "id":
                    raise _bad("An id in _offset needs sorting by id (or no sort)", "_offset")
                # keyset: the records after that id in the current order
                ordered = [r for r in ordered if (r["id"] < offset if desc else r["id"] > offset)]
            else:
                start = int(offset)
        page = ordered[start : start + size]
        fields = request.arg("_fields")
        out = {"total": len(matched), "offset": page[-1]["id"] if page else None,
               "items": [self._project(r, fields, entity) for r in page]}
        if self.variant("list_without_offset"):
            del out["offset"]
        return out

    def _project(self, rec: dict[str, Any], fields: str | None, entity: _Entity | None = None) -> dict[str, Any]:
        if not fields:
            return rec
        out = {k: rec[k] for k in _SYSTEM if k in rec}
        for path in (p.strip() for p in fields.split(",")):
            if not path:
                continue
            if entity is not None:
                self._field(entity, path)  # an unknown field is a 400
            _copy_path(rec, out, path.split("."))
        return out

    # -- aggregate -----------------------------------------------------------------------------

    def _aggregate(self, entity: _Entity, request: Request) -> dict[str, Any]:
        try:
            stages = request.json()
        except ValueError:
            raise _bad("The body is not valid JSON") from None
        if not isinstance(stages, list):
            raise _bad("The aggregate body must be a JSON array of stages")
        docs: list[Any] = list(entity.records)
        grouped = False
        for stage in stages:
            if not isinstance(stage, dict) or len(stage) != 1:
                raise _bad("Each stage must be an object with one key")
            (name, arg), = stage.items()
            if name == "match":
                if grouped or not isinstance(arg, dict):
                    raise _bad("match must be an object and come before group")
                conds = [self._condition(entity, k, _json_value(v)) for k, v in arg.items()]
                docs = [d for d in docs if all(c(d) for c in conds)]
            elif name == "group":
                docs = self._group(entity, docs, arg)
                grouped = True
            elif name == "sort":
                if not isinstance(arg, dict):
                    raise _bad("sort must be an object")
                for key, direction in reversed(list(arg.items())):
                    if direction not in ("asc", "desc"):
                        raise _bad(f"Invalid sort direction [{direction}]")
                    docs.sort(key=lambda d, k=key: (_bracket(_get(d, k)), _get(d, k) if _get(d, k) is not None else 0),
                              reverse=direction == "desc")
            elif name in ("limit", "skip"):
                if not isinstance(arg, int) or isinstance(arg, bool) or arg < 0:
                    raise _bad(f"{name} must be a non-negative integer")
                docs = docs[:arg] if name == "limit" else docs[arg:]
            elif name == "project":
                keep = [p.strip() for p in str(arg).split(",") if p.strip()]
                docs = [{"id": d.get("id"), **{k: _get(d, k) for k in keep}} for d in docs]
            elif name == "count":
                if not isinstance(arg, str) or not re.fullmatch(r"[A-Za-z0-9]+", arg):
                    raise _bad("count needs a name of letters and digits")
                docs = [{arg: len(docs)}]
            else:
                raise _bad(f"Unsupported aggregate stage [{name}]")
        return {"total": len(docs), "items": docs}

    def _group(self, entity: _Entity, docs: list[Any], spec: Any) -> list[dict[str, Any]]:
        if not isinstance(spec, dict):
            raise _bad("group must be an object")
        by = [b.strip() for b in str(spec.get("by") or "").split(",") if b.strip()]
        accs: list[tuple[str, str, str]] = []
        for out_name, text in spec.items():
            if out_name == "by":
                continue
            m = _AGG.match(str(text))
            if m is None:
                raise _bad(f"Invalid accumulator [{text}]")
            func, path = m.groups()
            if func != "count":
                fd = self._field(entity, path)
                if func in ("sum", "avg") and fd.kind != "number":
                    raise _bad(f"{func}() needs a number field, [{path}] is {fd.type}")
                if fd.kind == "date" and func not in ("min", "max", "first", "last"):
                    raise _bad(f"{func}() is not supported on date field [{path}]")
            accs.append((out_name, func, path))
        big = {p for _, f, p in accs if f != "count" and self._field(entity, p).type == "bigNumber"}
        for b in by:
            self._field(entity, b)
        groups: dict[str, tuple[list[Any], list[Any]]] = {}
        for d in docs:
            keys = [_get(d, b) for b in by]
            gk = repr([_freeze(k) for k in keys])
            groups.setdefault(gk, (keys, []))[1].append(d)
        out = []
        for gk in sorted(groups):
            keys, members = groups[gk]
            row: dict[str, Any] = {b: k for b, k in zip(by, keys, strict=True)}
            for out_name, func, path in accs:
                if func == "count":
                    row[out_name] = len(members)
                    continue
                vals = [v for v in (_get(m, path) for m in members) if v is not None]
                if path in big:  # big numbers are strings on the wire, numbers to the server
                    vals = [decimal.Decimal(v) if isinstance(v, str) else v for v in vals]
                if func == "sum":
                    row[out_name] = sum(v for v in vals if _is_num(v))
                elif func == "avg":
                    nums = [v for v in vals if _is_num(v)]
                    row[out_name] = sum(nums) / len(nums) if nums else None
                elif func in ("min", "max"):
                    pick = min if func == "min" else max
                    row[out_name] = pick(vals, key=lambda v: (_bracket(v), v)) if vals else None
                else:
                    all_vals = [_get(m, path) for m in members]
                    row[out_name] = all_vals[0] if func == "first" else all_vals[-1]
                if isinstance(row[out_name], decimal.Decimal):
                    row[out_name] = str(row[out_name])  # a big number result, written as one
            out.append(row)
        return out

    # -- data loading --------------------------------------------------------------------------

    def add_entity(self, name: str, fields: Iterable[FieldDef]) -> None:
        self.entities[name] = _Entity({f.name: f for f in fields})

    def add_record(self, entity: str, values: Mapping[str, Any], *, label: str | None = None,
                   record_id: str | None = None) -> dict[str, Any]:
        rid = record_id or self.new_id()
        rec = {"id": rid, "version": 0, "label": label if label is not None else rid}
        rec.update((k, v) for k, v in values.items() if v is not None)
        self.entities[entity].records.append(rec)
        return rec

    def load_table(self, name: str, table: pa.Table, **options: Any) -> None:
        """An entity ``name`` from Arrow rows (replacing an earlier one).

        Types follow the Arrow types: string -> text (``choice`` for columns in option ``choices``),
        integers -> integer, floats -> decimal, bool -> boolean, timestamp -> dateTime (epoch ms,
        floored), date -> date; a struct with exactly ``id`` and ``label`` -> relationship, another
        struct -> nested fields; a list of structs -> multi-valued nested fields; a list of scalars
        -> a multi-valued field. Option ``types`` ({column: Slingr type}) overrides; ``id_column``
        (default ``id``) gives record ids (24 hex digits); ``label_column`` the labels. Nulls are
        absent fields.
        """
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise ValueError(f"invalid Slingr entity name {name!r}")
        id_column = options.get("id_column", "id")
        label_column = options.get("label_column")
        choices = set(options.get("choices") or ())
        types = dict(options.get("types") or {})
        fields = []
        for col_name, col_type in zip(table.column_names, table.schema.types, strict=True):
            if col_name == id_column or col_name in _SYSTEM:
                continue
            fd = _field_from_arrow(col_name, col_type)
            if col_name in choices:
                fd.type = "choice"
            if col_name in types:
                fd.type = types[col_name]
            fields.append(fd)
        self.add_entity(name, fields)
        rows = table.to_pylist()
        for row in rows:
            values = {f.name: _wire(row.get(f.name), f.type) for f in fields}
            rid = row.get(id_column) if id_column in table.column_names else None
            label = row.get(label_column) if label_column else None
            self.add_record(name, values, label=None if label is None else str(label),
                            record_id=None if rid is None else str(rid))

    def load_sample_data(self) -> None:
        _sample(self, random.Random(self.seed))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool)


def _bracket(v: Any) -> int:
    """MongoDB's cross-type sort order: null < numbers < strings < objects < arrays < booleans."""
    if v is None:
        return 0
    if _is_num(v):
        return 1
    if isinstance(v, str):
        return 2
    if isinstance(v, dict):
        return 3
    if isinstance(v, list):
        return 4
    return 5


def _same(v: Any, w: Any) -> bool:
    if _is_num(v) and _is_num(w):
        return bool(v == w)
    return type(v) is type(w) and v == w


def _cmp(v: Any, w: Any) -> int | None:
    """Compare within one type bracket (MongoDB never compares across brackets in a filter)."""
    if _bracket(v) != _bracket(w) or isinstance(v, dict | list):
        return None
    return (v > w) - (v < w)


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _freeze(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return (type(v).__name__, v)


def _json_value(v: Any) -> str:
    """A match value: JSON scalars are written as the query language would."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _copy_path(src: Any, dst: dict[str, Any], parts: list[str]) -> None:
    if not isinstance(src, dict) or parts[0] not in src:
        return
    head, rest = parts[0], parts[1:]
    value = src[head]
    if not rest or value is None:
        dst[head] = value
        return
    if isinstance(value, list):
        old = dst.get(head)
        out_list = old if isinstance(old, list) and len(old) == len(value) else [
            {k: e[k] for k in ("id", "label") if isinstance(e, dict) and k in e} for e in value]
        for e, o in zip(value, out_list, strict=True):
            _copy_path(e, o, rest)
        dst[head] = out_list
        return
    sub = dst.get(head)
    if not isinstance(sub, dict):
        sub = {k: value[k] for k in ("id", "label") if isinstance(value, dict) and k in value}
        dst[head] = sub
    _copy_path(value, sub, rest)


def _field_from_arrow(name: str, t: pa.DataType) -> FieldDef:
    multiple = False
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        multiple, t = True, t.value_type
    if pa.types.is_struct(t):
        names = [f.name for f in t]
        if sorted(names) == ["id", "label"]:
            return FieldDef(name, "relationship", multiple)
        sub = {f.name: _field_from_arrow(f.name, f.type) for f in t}
        return FieldDef(name, "nestedFields", multiple, sub)
    if pa.types.is_boolean(t):
        typ = "boolean"
    elif pa.types.is_integer(t):
        typ = "integer"
    elif pa.types.is_floating(t) or pa.types.is_decimal(t):
        typ = "decimal"
    elif pa.types.is_timestamp(t):
        typ = "dateTime"
    elif pa.types.is_date(t):
        typ = "date"
    else:
        typ = "text"
    return FieldDef(name, typ, multiple)


def _wire(v: Any, typ: str | None = None) -> Any:
    """A Python value from Arrow as the API writes it (``typ``: the field's Slingr type)."""
    if isinstance(v, list) and typ is not None:
        return [_wire(x, typ) for x in v]
    if isinstance(v, dt.datetime) and typ == "dateTimeNoTimezone":
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}"  # whole minutes
    if isinstance(v, dt.time) and typ == "time":
        return f"{v.hour:02d}:{v.minute:02d}"
    if isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool) and typ == "bigNumber":
        return str(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        delta = v - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return delta // dt.timedelta(milliseconds=1)  # floored to the millisecond
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _wire(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_wire(x) for x in v]
    return v


# --------------------------------------------------------------------------------------------
# sample data (modelled on the seed's companies / contacts)
# --------------------------------------------------------------------------------------------

_NAMES = ["Browsezoom", "Blogpad", "Jazzy", "Trudoo", "Skiptube", "Voonyx", "Quatz", "Realbridge", "Zoombox",
          "Yodel", "Flashdog", "Twinte", "Meevee", "Oyoloo", "Kwideo", "Linktype", "Dabfeed", "Rhyzio"]
_CITIES = [("Las Vegas", "NV", "89145"), ("San Jose", "CA", "95113"), ("Newark", "NJ", "07102"),
           ("Austin", "TX", "73301"), ("Fresno", "CA", "93650"), ("Trenton", "NJ", "08608")]
_FIRST = ["Diego", "Ana", "John", "Mary", "Li", "Olga", "Ravi", "Zoë", "Émile", "Sam"]
_LAST = ["Gaviola", "Smith", "O'Brien", "Müller", "Nguyen", "Lee", "García", "Kowalski"]
_SKILLS = ["java", "javascript", "sql", "python", "design", "sales"]


def _sample(sb: SlingrSandbox, r: random.Random) -> None:
    nested_addr = {"addressLine": FieldDef("addressLine", "text"), "zipCode": FieldDef("zipCode", "text"),
                   "city": FieldDef("city", "text"), "state": FieldDef("state", "text")}
    contact_info = {"phoneNumber": FieldDef("phoneNumber", "phone"), "email": FieldDef("email", "email")}
    sb.add_entity("companies", [
        FieldDef("name", "text"), FieldDef("state", "choice"), FieldDef("type", "choice"),
        FieldDef("numberOfEmployees", "integer"), FieldDef("isCustomer", "boolean"),
        FieldDef("contactInformation", "nestedFields", False, contact_info),
        FieldDef("addresses", "nestedFields", True, nested_addr), FieldDef("homepage", "url"),
        FieldDef("taxId", "text"), FieldDef("rating", "decimal"), FieldDef("notes", "longText"),
        FieldDef("lastMeeting", "dateTime"), FieldDef("lastUpdate", "dateTime"),
    ])
    companies = []
    for i in range(135):  # the seed's sample answer reports "total": 135
        name = f"{_NAMES[i % len(_NAMES)]}{'' if i < len(_NAMES) else ' ' + str(i // len(_NAMES))}"
        addresses = []
        for _ in range(r.choice([0, 1, 1, 2, 3])):
            city, state, zip_code = r.choice(_CITIES)
            addresses.append({"addressLine": f"{r.randint(1, 999)} Magdeline Place", "zipCode": zip_code,
                              "city": city, "state": state, "id": sb.new_id(), "label": f"{state} - {zip_code}"})
        base = 1429623180000 + r.randrange(0, 3 * 365 * 86400) * 1000
        values = {
            "name": name, "state": r.choice(["pending", "active", "inactive", None]),
            "type": r.choice(["a", "b", "c"]), "numberOfEmployees": r.choice([None, r.randint(1, 5000)]),
            "isCustomer": r.random() < 0.4,
            "contactInformation": {"phoneNumber": f"1-702-845-{r.randint(1000, 9999)}",
                                   "email": f"{name.lower().replace(' ', '')}@example.com",
                                   "id": sb.new_id(), "label": "Contact Information"},
            "addresses": addresses, "homepage": f"http://www.{name.lower().replace(' ', '')}.com",
            "taxId": f"{r.randint(100, 999)}-{''.join(r.choice('KWMXYZ') for _ in range(3))}",
            "rating": r.choice([None, round(r.uniform(0, 5), 1)]),
            "notes": r.choice([None, "modified notes", "ACME, Inc (US)", "it's \"quoted\"", "Ünïcode nötes"]),
            "lastMeeting": r.choice([None, base]), "lastUpdate": base + r.randrange(0, 86400) * 1000,
        }
        companies.append(sb.add_record("companies", values, label=name))
    sb.add_entity("contacts", [
        FieldDef("firstName", "text"), FieldDef("lastName", "text"), FieldDef("email", "email"),
        FieldDef("company", "relationship"), FieldDef("birthDate", "date"),
        FieldDef("numberOfSkills", "integer"), FieldDef("skills", "text", True), FieldDef("active", "boolean"),
    ])
    for _ in range(240):
        first, last = r.choice(_FIRST), r.choice(_LAST)
        company = r.choice([*companies, None])
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=r.randrange(20000))
        skills = r.sample(_SKILLS, r.randint(0, 3))
        sb.add_record("contacts", {
            "firstName": first, "lastName": last, "email": f"{first.lower()}.{r.randint(1, 99)}@example.com",
            "company": None if company is None else {"id": company["id"], "label": company["label"]},
            "birthDate": r.choice([None, birth.isoformat()]), "numberOfSkills": len(skills),
            "skills": skills, "active": r.random() < 0.7,
        }, label=f"{first} {last}")


SANDBOX = SlingrSandbox  # found by lowcode_sql.sandbox.get_sandbox
