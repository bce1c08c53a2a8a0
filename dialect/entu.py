"""Entu (entu.app): entities of user-defined types, every property an array of typed value objects.

Spec: seed ``001`` and docs/notes/entu-api.md (auth, entity shape, the real filter parser, sort/props/group).

How entities appear in SQL (README "Entu"): one table per entity type (``_type.string``), with

* ``_id``: the entity id;
* ``<prop>``: the property's *first* value (scalar), typed by its value key
  (string → VARCHAR, number → DOUBLE, boolean → BOOLEAN, date → DATE, datetime → TIMESTAMPTZ,
  reference → VARCHAR id of the referenced entity);
* ``<prop>__all``: every value, as a LIST.

A property with no values is NULL in both. Because the API matches a filter when *any* value
matches (docs/notes/entu-api.md "Array semantics"), a filter on a ``<prop>`` column is pushed as a SUPERSET
and re-checked locally, unless the source declares the property single-valued (option
``single_valued``: ``{"book": ["isbn", "price"]}``), which makes first value = only value and the
translation EXACT. ``list_contains(<prop>__all, v)`` is exact in every case.

Translation (``prop.type[.op]=value`` keys, all ANDed; there is no OR across keys):
=, <, <=, >, >= → ``p.t``, ``p.t.lt`` ...; IS [NOT] NULL → ``p._id.exists=false|true`` (the robust
form: ``exists`` only converts to a boolean for string-typed keys, docs/notes/entu-api.md "exists caveat");
IN over strings/references → ``p.t.in=a,b`` (never when a value holds a comma: the parser splits on
commas); LIKE/ILIKE → ``p.string.regex=/…/`` with every literal escaped, ``/`` written as ``\\x2f``
(the parser splits the value on ``/``), ``[\\s\\S]`` for wildcards and ``(?![\\s\\S])`` as the end
anchor (``$`` also matches before a final newline). ILIKE is spelled out as per-character classes
([aA]), not the ``i`` flag, so the regex matches exactly what DuckDB's ILIKE matches; it is pushed
only when every cased literal character is ASCII. <> and NOT IN are local unless the property is
single-valued (``ne`` means "no value equals", and also matches entities without the property, so
it is paired with ``p._id.exists=true``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dialect._base import AuthPlan, ColumnDef, Dialect, Discovery, Parse, Secret, TableDef, Token, jwt_expiry, table_as
from dialect._render import ascii_cased, case_class, like_to_regex, sendable
from lowcode_sql.errors import AuthError, DialectError
from lowcode_sql.ir import Cmp, Exactness, InList, IsNull, Like, LikePattern, ListContains, Op, Pred
from lowcode_sql.requests import HttpRequest, NoPaging, OffsetPaging, Page, ScanRequest
from lowcode_sql.scanspec import Aggregate, ScanSpec, SortKey

__all__ = ["Entu"]

# value key -> (Arrow type, parse)
_VALUE_TYPES: dict[str, tuple[pa.DataType, Parse | None]] = {
    "string": (pa.string(), None),
    "number": (pa.float64(), None),
    "boolean": (pa.bool_(), None),
    "date": (pa.date32(), "date"),
    "datetime": (pa.timestamp("us", tz="UTC"), "iso"),
    "reference": (pa.string(), None),
}
_KEY_ORDER = ("reference", "datetime", "date", "number", "boolean", "string")
_OP_NAME = {Op.LT: "lt", Op.LE: "lte", Op.GT: "gt", Op.GE: "gte", Op.NE: "ne"}
_IDENT = re.compile(r"^\w+$")
# value key -> how ``sendable`` checks a literal for it
_STORED = {"number": "number", "boolean": "boolean", "date": "date", "datetime": "instant", "reference": "objectid"}


@dataclass(frozen=True, kw_only=True)
class EntuTable(TableDef):
    """An entity type: ``props`` maps each property column to its value key (string, number, ...);
    ``single`` are the properties declared single-valued (their filters are exact)."""

    entity_type: str
    props: Mapping[str, str]
    single: frozenset[str]


def _pushable(props: Mapping[str, str], single: frozenset[str]) -> dict[str, frozenset[str]]:
    """What ``_classify_one`` may send, per column (see there for why)."""
    out: dict[str, frozenset[str]] = {}
    for prop, key in props.items():
        ops = {"IS NULL", "IS NOT NULL", "="}
        if key not in ("boolean", "reference"):
            ops |= {"<", "<=", ">", ">="}
        if prop in single:
            ops.add("<>")  # a multi-valued property's ne means "no value equals": not SQL's <> on the first
        if key in ("string", "reference"):
            ops.add("IN")
        if key == "string":
            ops |= {"LIKE", "ILIKE"}
        out[prop] = frozenset(ops)
        out[prop + "__all"] = frozenset({"IS NULL", "IS NOT NULL", "CONTAINS", "NOT CONTAINS"})
    return out


class Entu(Dialect):
    name = "entu"
    title = "Entu (entu.app)"
    CREDENTIALS = {"key": "API key (exchanged for a 12 h JWT through GET /api/auth)"}
    OPTIONS = {
        "db": (None, "the Entu database (account) name; required"),
        "single_valued": ({}, "{type: [property, ...]} known to hold at most one value: filters on them "
                              "become exact and they can be sorted on"),
        "page_size": (500, "entities per page (the API has no maximum; default 100)"),
        "sample_size": (200, "entities sampled per type to infer its properties"),
        "types": ([], "restrict discovery to these entity types"),
    }
    projects_columns = True  # the field list names spec.columns only

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        db = self.options["db"]
        if not isinstance(db, str) or not _IDENT.match(db):
            raise DialectError("entu needs the option db = '<database name>' (letters, digits, _)")
        self.db: str = db

    # --- auth (docs/notes/entu-api.md "Auth") -----------------------------------------------------------

    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan:
        if "key" not in credentials:
            raise DialectError("entu needs the credential 'key' (an Entu API key)")
        return AuthPlan(
            headers=(("Authorization", "Bearer {token}"),),
            login=HttpRequest("GET", "api/auth", (("db", self.db),)),
            login_secret_headers=(("Authorization", Secret("Bearer " + credentials["key"].reveal())),),
            refresh_margin=300.0,
        )

    def parse_login(self, body: Any) -> Token:
        if not isinstance(body, dict) or not isinstance(body.get("token"), str):
            raise DialectError("entu: the auth answer has no token")
        accounts = body.get("accounts")
        if isinstance(accounts, list) and not any(
            isinstance(a, dict) and self.db in (a.get("_id"), a.get("name")) for a in accounts
        ):
            # A wrong API key is not an HTTP error: /api/auth still issues a token, with no accounts
            # (docs/notes/entu-api.md "Auth"), and data calls then see only public entities. Fail here rather
            # than answer every query with a silently empty (or public-only) table.
            raise AuthError(f"entu: the API key gives no access to database {self.db!r} "
                            "(GET /api/auth answered with no matching account)")
        token = body["token"]
        expires = jwt_expiry(token)
        if expires is None and body.get("expires"):
            try:
                expires = dt.datetime.fromisoformat(str(body["expires"]).replace("Z", "+00:00")).timestamp()
            except ValueError:
                expires = None
        return Token(token, expires)

    # --- discovery ------------------------------------------------------------------------------

    def discover(self) -> Discovery:
        path = f"api/{self.db}/entity"
        # One row per type with its count (docs/notes/entu-api.md "group": keys come back only via props).
        groups = yield HttpRequest("GET", path, (("group", "_type.string"), ("props", "_type")))
        names: list[str] = []
        for row in (groups or {}).get("entities", []):
            for v in row.get("_type") or []:
                if isinstance(v, dict) and isinstance(v.get("string"), str):
                    names.append(v["string"])
                    break
        wanted = set(self.options["types"] or [])
        tables = []
        for type_name in sorted(set(names)):
            if wanted and type_name not in wanted:
                continue
            sample = yield HttpRequest("GET", path, (("_type.string", type_name),
                                                     ("limit", str(self.options["sample_size"]))))
            tables.append(self.table_from_sample(type_name, (sample or {}).get("entities", [])))
        return tables

    def table_from_sample(self, type_name: str, entities: Sequence[Mapping[str, Any]]) -> TableDef:
        """Columns inferred from sample entities: each property's most common value key."""
        keys: dict[str, Counter[str]] = {}
        for ent in entities:
            for prop, values in ent.items():
                if prop in ("_id", "_type") or not isinstance(values, list) or not _IDENT.match(prop):
                    continue
                counter = keys.setdefault(prop, Counter())
                for v in values:
                    if isinstance(v, dict):
                        key = next((k for k in _KEY_ORDER if k in v), None)
                        if key:
                            counter[key] += 1
        single = set(self.options["single_valued"].get(type_name, ()))
        columns = [ColumnDef("_id", pa.string(), path=("_id",), doc="entity id")]
        props: dict[str, str] = {}
        for prop in sorted(keys):
            if not keys[prop]:
                continue
            key = keys[prop].most_common(1)[0][0]
            typ, parse = _VALUE_TYPES[key]
            props[prop] = key
            note = " (single-valued)" if prop in single else ""
            columns.append(ColumnDef(prop, typ, path=(prop,), extract="first", item_key=key, parse=parse,
                                     doc=f"first {key} value of {prop}{note}"))
            columns.append(ColumnDef(prop + "__all", pa.list_(typ), path=(prop,), extract="all", item_key=key,
                                     parse=parse, doc=f"every {key} value of {prop}"))
        return EntuTable(type_name, tuple(columns), doc=f"Entu entities of type {type_name!r}", key="_id",
                         pushable=_pushable(props, frozenset(single)), entity_type=type_name, props=props,
                         single=frozenset(single))

    # --- pushdown -------------------------------------------------------------------------------

    def _prop(self, table: TableDef, column: str) -> tuple[str, str, bool, bool] | None:
        """(property, value key, is the LIST column, single-valued) for a column, None for _id."""
        tdef = table_as(table, EntuTable)
        if column == "_id":
            return None
        is_list = column.endswith("__all")
        prop = column[:-5] if is_list else column
        key = tdef.props.get(prop)
        if key is None:
            return None
        return prop, key, is_list, prop in tdef.single

    def classify(self, table: TableDef, conjuncts: Sequence[Pred]) -> list[Exactness]:
        out = [self._classify_one(table, p) for p in conjuncts]
        # The server builds one Mongo condition per ``prop.type`` (docs/notes/entu-api.md "Filters"): a key given
        # twice becomes an array operand (no match, NaN, or a 500 for regex/exists), and a plain
        # ``p.t=v`` next to ``p.t.op=w`` either becomes a literal document that matches nothing or is
        # overwritten, depending on the order. So each (prop, type) takes either one plain key or
        # distinct operators; a conjunct that would collide stays local (exact ones are placed first).
        # An identical key=value pair is rendered once (render_scan) and so never collides.
        entity_type = table_as(table, EntuTable).entity_type
        used: dict[tuple[str, str], dict[str | None, str]] = {("_type", "string"): {None: entity_type}}
        for rank in (Exactness.EXACT, Exactness.SUPERSET):
            for i, pred in enumerate(conjuncts):
                if out[i] is not rank:
                    continue
                trial = {k: dict(v) for k, v in used.items()}
                for key, value in self._render(table, pred):
                    field, type_, *rest = key.split(".")
                    op = rest[0] if rest else None
                    slot = trial.setdefault((field, type_), {})
                    if (op in slot and slot[op] != value) or (op is None and slot.keys() - {None}) or (
                        op is not None and None in slot
                    ):
                        out[i] = Exactness.LOCAL
                        break
                    slot[op] = value
                else:
                    used = trial
        return out

    def _classify_one(self, table: TableDef, pred: Pred) -> Exactness:
        col = getattr(pred, "column", None)
        if col == "_id":
            # Filter keys are ``prop.type[.op]`` on ``private.<prop>``: a key without a dot (``_id=``) is
            # silently ignored and ``_id.in`` looks for a property named _id (docs/notes/entu-api.md), so the
            # entity id cannot be filtered on in the list call.
            return Exactness.LOCAL
        info = self._prop(table, col) if col else None
        if info is None:
            return Exactness.LOCAL
        _, key, is_list, single = info
        scalar_exact = Exactness.EXACT if single else Exactness.SUPERSET
        if isinstance(pred, IsNull):
            return Exactness.EXACT
        if is_list:
            if isinstance(pred, ListContains) and self._value_ok(key, pred.value, Op.EQ):
                return Exactness.EXACT
            return Exactness.LOCAL
        if isinstance(pred, Cmp) and self._value_ok(key, pred.value, pred.op):
            if pred.op is Op.NE:
                return Exactness.EXACT if single else Exactness.LOCAL
            if key == "string" and pred.op is not Op.EQ:
                # string gt/lt is allowed by the parser but undocumented (docs/notes/entu-api.md): re-check
                return Exactness.SUPERSET
            return scalar_exact
        if isinstance(pred, InList) and not pred.negated and key in ("string", "reference") and pred.values:
            if all(self._value_ok(key, v, Op.EQ) and "," not in str(v) for v in pred.values):
                return scalar_exact
            return Exactness.LOCAL
        if isinstance(pred, Like) and key == "string" and not pred.negated:
            if pred.case_insensitive and not ascii_cased(pred.pattern):
                return Exactness.LOCAL
            return scalar_exact
        return Exactness.LOCAL

    @staticmethod
    def _value_ok(key: str, value: Any, op: Op) -> bool:
        # NaN and infinities order differently in Mongo and DuckDB and have no JSON form; Mongo dates
        # hold milliseconds; references are ObjectIds (see ``sendable``)
        return sendable(value, _STORED.get(key, "text"), op)

    def can_sort(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        # ``sort=f`` becomes ``$sort: {private.<f>: ±1}`` (docs/notes/entu-api.md "Other parameters"): the entity
        # id cannot be named (``sort=_id`` sorts on a missing ``private._id``), only the default order
        # (no ``sort``) is ``_id`` ascending. So ``_id`` ASC works only as the first key (it is unique:
        # the rest is moot), and never as a tie-breaker after a property. Property sorts get a
        # tie-breaker of their own (see render_scan), so pages stay consistent and any order among
        # ties is a valid answer to the SQL, which does not order them.
        for k in keys:
            if k.column == "_id":
                return k is keys[0] and not k.descending
            info = self._prop(table, k.column)
            if info is None or info[2] or not info[3] or info[1] == "reference":
                return False
            # Mongo puts missing values first ascending and last descending (null is lowest).
            if k.nulls_first != (not k.descending):
                return False
        return True

    def sort_confirmed(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        # seed "GET /api/{account}/entity", sort: "If not set sorts by _id" (unique: no ties)
        return len(keys) >= 1 and keys[0].column == "_id" and not keys[0].descending

    def count_sql_only(self) -> bool:  # pragma: no cover - symmetry with other dialects
        return False

    def can_aggregate(self, table: TableDef, keys: Sequence[str], aggregates: Sequence[Aggregate],
                      filters: Sequence[Pred] = ()) -> bool:
        # ``group=p.type`` groups on ``$private.p.type``: the whole array of the property's values of
        # that type, compared as BSON (docs/notes/entu-api.md "Other parameters"), with only ``_count``. Equal
        # arrays have the same first value and the same LIST, so the API's groups are never coarser
        # than SQL's on ``p`` or ``p__all``; finer ones (['a','b'] and ['a','c'] both have p = 'a'; a
        # missing property and one without values of this type are both NULL) are merged again by
        # DuckDB's re-aggregation. Strings group by binary equality (no collation), as in SQL.
        if not keys or any(a.func != "count_star" for a in aggregates):
            return False
        return all(k != "_id" and self._prop(table, k) is not None for k in keys)

    def aggregate_path(self, agg: Aggregate) -> tuple[str, ...]:
        return ("_count",)  # the only aggregate: each group row's ``_count`` (docs/notes/entu-api.md)

    # --- rendering ------------------------------------------------------------------------------

    def render_scan(self, table: TableDef, spec: ScanSpec) -> ScanRequest:
        tdef = table_as(table, EntuTable)
        params: list[tuple[str, str]] = [("_type.string", tdef.entity_type)]
        for pred, _ in spec.pushed:
            # a key given twice is an array to the server: render an identical pair once (see classify)
            params.extend(p for p in self._render(table, pred) if p not in params)
        if spec.grouped:
            # Group keys come back only when listed in props, as the first entity's values; skip and
            # limit are ignored when grouping (docs/notes/entu-api.md), so one request answers every group.
            fields = {info[0]: f"{info[0]}.{info[1]}" for k in spec.group_by if (info := self._prop(table, k))}
            params += [("group", ",".join(fields[p] for p in sorted(fields))), ("props", ",".join(sorted(fields)))]
            return ScanRequest(HttpRequest("GET", f"api/{self.db}/entity", tuple(params)), NoPaging())
        props = sorted({c[:-5] if c.endswith("__all") else c for c in spec.columns} - {"_id"})
        params.append(("props", ",".join(props) if props else "_id"))
        if spec.order and spec.order[0].column != "_id":  # ORDER BY _id: the default order (can_sort)
            sort = [("-" if k.descending else "") + f"{k.column}.{tdef.props[k.column]}" for k in spec.order]
            # A total order, so pages never overlap or skip ties: every entity has exactly one _type
            # value, whose own value-object _id is unique (the entity _id itself cannot be sorted on).
            sort.append("_type._id")
            params.append(("sort", ",".join(sort)))
        page_size = int(self.options["page_size"])
        if spec.limit is not None:
            page_size = max(1, min(page_size, spec.limit))
        paging = OffsetPaging("skip", "limit", page_size, start=spec.offset, max_rows=spec.limit)
        return ScanRequest(HttpRequest("GET", f"api/{self.db}/entity", tuple(params)), paging)

    def _render(self, table: TableDef, pred: Pred) -> list[tuple[str, str]]:
        column = getattr(pred, "column", None)  # And/Or/Const have none
        info = self._prop(table, column) if column is not None else None
        if info is None:  # pragma: no cover - classify keeps these local
            raise DialectError(f"entu cannot render {pred}")
        prop, key, _, _ = info
        field = f"{prop}.{key}"
        if isinstance(pred, IsNull):
            return [(f"{prop}._id.exists", "true" if pred.negated else "false")]
        if isinstance(pred, ListContains):
            if pred.negated:
                return [(f"{field}.ne", _value(key, pred.value)), (f"{prop}._id.exists", "true")]
            return [(field, _value(key, pred.value))]
        if isinstance(pred, Cmp):
            if pred.op is Op.EQ:
                return [(field, _value(key, pred.value))]
            out = [(f"{field}.{_OP_NAME[pred.op]}", _value(key, pred.value))]
            if pred.op is Op.NE:
                out.append((f"{prop}._id.exists", "true"))
            return out
        if isinstance(pred, InList):
            return [(f"{field}.in", ",".join(_value(key, v) for v in pred.values))]
        if isinstance(pred, Like):
            return [(f"{field}.regex", "/" + like_regex(pred.pattern, pred.case_insensitive) + "/")]
        raise DialectError(f"entu cannot render {pred}")  # pragma: no cover

    def parse_page(self, table: TableDef, body: Any) -> Page:
        if not isinstance(body, dict) or not isinstance(body.get("entities"), list):
            raise DialectError(f"entu {table.name}: expected a JSON object with 'entities', got {type(body).__name__}")
        count = body.get("count")
        return Page(body["entities"], count if isinstance(count, int) else None)

    def page_layout(self, table: TableDef, request: ScanRequest) -> tuple[str, tuple[str, ...]] | None:
        """``parse_page`` above, as data (``Dialect.page_layout``)."""
        return ("entities", ("count",))


def _value(key: str, value: Any) -> str:
    if key == "boolean":
        return "true" if value else "false"
    if key == "number":
        return repr(int(value)) if isinstance(value, int) else repr(float(value))
    if key == "datetime":
        # A numeric string is read as epoch milliseconds (docs/notes/entu-api.md parseDate): exact and zone-free.
        return str(round(value.timestamp() * 1000))
    if key == "date":
        return value.isoformat()  # YYYY-MM-DD = UTC midnight, as dates are stored
    return str(value)


_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _escape(ch: str, case_insensitive: bool) -> str:
    if case_insensitive and _ASCII_LETTER.match(ch):
        return case_class(ch)
    if ch == "/":
        return r"\x2f"  # the server splits the value on '/' (docs/notes/entu-api.md "Regex with / ... breaks")
    if ch.isascii() and not ch.isalnum():
        if ch == "\n":
            return r"\n"
        return "\\" + ch if ch.isprintable() else f"\\x{ord(ch):02x}"
    return ch


def like_regex(pattern: LikePattern, case_insensitive: bool = False) -> str:
    """A PCRE regex (no flags) matching exactly the strings the LIKE pattern matches."""
    return like_to_regex(pattern, lambda ch: _escape(ch, case_insensitive))
