"""Alumio (alumio.com): the integration platform's REST API v1 (OpenAPI 3.1).

Spec: seed ``003`` (the list schemas, the ``filter`` query parameter, ``metadata.totalCount``, the
storage-entity ``next`` cursor, problem-details errors) and docs/notes/alumio-api.md (base URL, bearer auth and
the one confirmed filter shape, from a real client). The seed lists no paths: the ones used here
(``api/v1/tasks``, ``api/v1/queue/processes``, ...) are inferred [I]; the ``api_prefix`` option moves them,
and ``paths = { table = "api/v1/..." }`` sets one table's path (``storages`` for the storage listing,
``storage_<name>`` for a storage's entities). A failed storage listing (404/403/5xx: a guessed path or a
missing right) leaves the storage tables out with a ``DiscoveryWarning`` instead of failing the source.

Source: ``base_url = "https://<env>-<tenant>.alumio.com"`` (docs/notes/alumio-api.md "Base URL"), credential ``token``
(sent as ``Authorization: Bearer <token>``, with ``Accept: application/json`` like the real client).

Tables (SQL names are the API's field names in snake_case: ``createdAt`` is ``created_at``): ``tasks``
(``entity_data`` is ``entityData`` as JSON text; ``entity_fields`` adds typed ``entity_data__<field>``
columns), ``routes``, ``configurations`` and one ``configurations_<type>`` per configuration type,
``environment_variables``, ``audit_trail``, ``users``, ``queue_processes``, ``task_statistics``,
``api_tokens``, ``maintenance_windows``, ``system_administrators``,
``storages`` and one ``storage_<identifier>`` per storage (found by listing the storages, or named in
the ``storages`` option) holding its entities: ``identifier``, ``updated_at`` and ``value`` (JSON text),
plus typed columns from the ``storage_schemas`` option (typed JSON leaves are NULL where an entity's JSON
has another shape). That the listing carries ``value`` is an
assumption [U] (the seed's listing shows ``identifier``/``updatedAt``): a listing without it is a
``DialectError`` (never silent NULLs), and ``storage_values = false`` drops the value columns. Queue
jobs are the ``queue_processes`` rows of one ``job_id`` (the seed's job endpoint takes the job in its path).

Pushdown, through the LoopBack-style ``filter`` JSON (docs/notes/alumio-api.md "filter parameter"):

* Confirmed (always): ``where`` as an AND of keys, ``{"f": v}`` equality and ``{"f": {"gte": v}}``;
  ``order`` as one ``"f asc|desc"`` string; ``limit``/``skip`` (paging, inside the JSON). So ``=`` on
  text/number/boolean/timestamp/date fields, ``>=`` on numbers/timestamps/dates, ``>`` as ``gte v+1`` on
  integer fields (exact) and ``gte v`` on other numbers/timestamps (superset, re-checked). One condition
  per field: a JSON object cannot hold a key twice.
* ``loopback_operators = true`` (unconfirmed, for deployments known to support them): ``gt lt lte neq
  inq nin like`` and ``and``/``or`` trees, ``{"f": null}`` for IS NULL, and ``order`` as an array with the
  table key as tie-breaker. ``neq``/``nin`` also match NULLs in LoopBack, so they are exact only on
  columns that are never NULL. ``like`` is assumed to take SQL's ``%``/``_`` wildcards (LoopBack's SQL
  and memory connectors do; a regex reading, as LoopBack's MongoDB connector, would not be a superset)
  and is sent only with plain literal text, as a superset whatever its case rule and anchoring.
* Never pushed: range comparisons on text (the server's collation is unknown), JSON and list
  columns, nested fields, and any column the seed does not list for the resource: an unknown ``where``
  or ``order`` column makes the real API answer an empty list (seed), which would be a wrong answer.
* Timestamps go out as ISO-8601 UTC text with milliseconds (``...T12:00:00.000Z``, docs/notes/alumio-api.md);
  a literal with sub-millisecond digits cannot be written so and stays local. Because the notes say
  dates are *compared as strings*, only forms that stay right under text comparison of the seed's
  ``...:22Z`` format are exact: ``gte``/``lt`` with whole-second literals; ``=``, ``>``, ``<=``, ``<>``
  go out as superset forms and are re-checked (``Alumio._translate_ts``).
* Sorting: the order of ties is unspecified, and skip paging over ties can repeat or drop rows, so
  a pushed sort is total or answered by one request. Confirmed form (one ``"f asc|desc"``): a unique
  key whose text order is byte order (configuration identifiers match ``^[a-z0-9-]+$``), or one
  never-NULL number/timestamp/date column when LIMIT + OFFSET fit one request (``max_pushed_limit``:
  ``page_size``, at most the reference client's 500), as the reference client's ``updatedAt desc``;
  with ``loopback_operators`` never-NULL number/timestamp/date columns followed by the key as
  tie-breaker. Timestamp sorts assume the server orders instants.
* ``COUNT(*)`` reads ``metadata.totalCount`` (one request); pages are fetched concurrently by ``skip``
  once the total is known. Storage entities page with the opaque ``next`` cursor, passed back as
  ``filter.next`` [I] (the seed shows the array, not where it goes), and push nothing (searching a
  storage is "in practice not possible", docs/notes/alumio-api.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from dialect._base import (
    NOT_SENT,
    AuthPlan,
    ColumnDef,
    Dialect,
    Discovery,
    Parse,
    Secret,
    TableDef,
    Translated,
    table_as,
)
from dialect._render import finite_number, int_if_whole, ms_instant, plain_date
from lowcode_sql.errors import AuthError, DialectError, DiscoveryWarning, FetchError
from lowcode_sql.ir import And, Cmp, Exactness, InList, IsNull, Like, Op, Or, Pred
from lowcode_sql.requests import CursorPaging, HttpRequest, OffsetPaging, Page, ScanRequest
from lowcode_sql.scanspec import ScanSpec, SortKey

__all__ = ["Alumio"]

_STR, _INT, _DBL, _BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
_TS = pa.timestamp("us", tz="UTC")
_DATE = pa.date32()
_LIST = pa.list_(pa.string())
# field kinds for pushdown: S text, N number, B boolean, T timestamp, D date; J/L (JSON, lists) never
_JSON_KEY = "__lc_json_"  # parse_page copies a JSON field's text here
# parse_page copies a typed leaf inside a JSON field here: NULL when the path does not resolve (entityData
# and storage values differ from entity to entity; one record's shape must not fail the whole scan)
_PATH_KEY = "__lc_path_"


def snake(name: str) -> str:
    """The SQL name of an API field: ``createdAt`` -> ``created_at`` (unquoted SQL names are folded to
    lower case, so camelCase names would need quotes in every query)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _c(name: str, typ: pa.DataType = _STR, doc: str = "", *, json_text: bool = False) -> ColumnDef:
    """A column for the API field ``name`` (its SQL name is ``snake(name)``)."""
    if json_text:
        return ColumnDef(snake(name), _STR, path=(_JSON_KEY + name,),
                         doc=doc or f"{name}: JSON text (use ->> or json_extract)")
    parse: Parse | None = "iso" if typ == _TS else "date" if typ == _DATE else None
    return ColumnDef(snake(name), typ, path=(name,), parse=parse, doc=doc or name)


def _kind(col: ColumnDef) -> str:
    if col.path and col.path[0].startswith(_JSON_KEY):
        return "J"
    t = col.type
    if pa.types.is_timestamp(t):
        return "T"
    if pa.types.is_date(t):
        return "D"
    if pa.types.is_boolean(t):
        return "B"
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "N"
    if pa.types.is_string(t):
        return "S"
    return "L"


# (table, path, columns, key, never-NULL columns) from the seed's list schemas
_CONFIG_COLS = (
    _c("type"), _c("identifier"), _c("name"), _c("description"), _c("object", json_text=True),
    _c("context", json_text=True), _c("owner"), _c("removable", _BOOL), _c("resettable", _BOOL),
    _c("disabled", _BOOL), _c("createdAt", _TS), _c("updatedAt", _TS), _c("editor"), _c("label", _LIST),
    _c("tag", _LIST),
)  # fmt: skip
_TABLES: list[tuple[str, str, tuple[ColumnDef, ...], str | None, frozenset[str], str]] = [
    ("tasks", "tasks", (
        _c("identifier"), _c("entityType"), _c("entityData", json_text=True), _c("entityIdentifier"),
        _c("status", doc="new, processing, finished, failed, skipped, ..."), _c("route"), _c("createdAt", _TS),
        _c("updatedAt", _TS)), "identifier", frozenset({"identifier", "createdAt", "updatedAt"}),
     "tasks (one per entity a route processes)"),
    ("routes", "routes", (
        _c("type"), _c("identifier"), _c("space"), _c("name"), _c("disabled", _BOOL), _c("createdAt", _TS),
        _c("updatedAt", _TS)), None, frozenset({"identifier", "createdAt"}), "routes of every space"),
    ("configurations", "configurations", _CONFIG_COLS, None, frozenset({"type", "identifier", "createdAt"}),
     "object configurations of every type"),
    ("environment_variables", "environment-variables", (
        _c("name"), _c("description"), _c("value", doc="empty for encrypted variables"),
        _c("encrypted", _BOOL), _c("default", _BOOL)), "name", frozenset({"name"}), "environment variables"),
    ("audit_trail", "audit-trails", (
        _c("identifier"), _c("user"), _c("spaceIdentifier"), _c("action"), _c("category"), _c("ipAddress"),
        _c("message"), _c("request", json_text=True), _c("createdAt", _TS)), "identifier",
     frozenset({"identifier", "createdAt"}), "audit trail entries"),
    ("users", "users", (_c("email"), _c("roles", _LIST)), "email", frozenset({"email"}), "users of the space"),
    ("queue_processes", "queue/processes", (
        _c("status"), _c("identifier"), _c("jobId"), _c("priority", _INT), _c("routingKey"), _c("command"),
        _c("arguments"), _c("createdAt", _TS), _c("startedAt", _TS), _c("finishedAt", _TS),
        _c("processTime", _DBL), _c("runTime", _DBL),
        ColumnDef("meta_flags", _LIST, path=("meta", "flags"), doc="meta.flags")), "identifier",
     frozenset({"identifier", "createdAt", "status"}), "queue processes (jobs run as processes)"),
    ("task_statistics", "task-statistics", (
        _c("identifier"), _c("spaceIdentifier"), _c("date", _DATE), _c("new", _INT), _c("processing", _INT),
        _c("finished", _INT), _c("failed", _INT), _c("skipped", _INT)), "identifier",
     frozenset({"identifier", "date", "new", "processing", "finished", "failed", "skipped"}),
     "task log totals per status, grouped by date"),
    ("storages", "storages", (_c("identifier"), _c("sizeInBytes", _INT)), "identifier",
     frozenset({"identifier", "sizeInBytes"}), "storages and their size on disk"),
    ("api_tokens", "tokens", (
        _c("identifier"), _c("name"), _c("createdAt", _TS), _c("createdBy"), _c("description"),
        _c("lastUsed", _TS)), "identifier", frozenset({"identifier", "createdAt"}),
     "API (JWT) token identifiers and their metadata, never the tokens"),
    ("maintenance_windows", "maintenance-windows", (
        _c("identifier"), _c("dateStart", _TS), _c("dateEnd", _TS), _c("timezone"), _c("createdAt", _TS)),
     "identifier", frozenset({"identifier", "createdAt"}), "maintenance window log"),
    ("system_administrators", "system-administrators", (_c("email"), _c("roles", _LIST)), "email",
     frozenset({"email"}), "system administrators"),
]
_SQL_TYPES = {"VARCHAR": _STR, "TEXT": _STR, "STRING": _STR, "BIGINT": _INT, "INTEGER": _INT, "INT": _INT,
              "DOUBLE": _DBL, "FLOAT": _DBL, "BOOLEAN": _BOOL, "BOOL": _BOOL, "TIMESTAMPTZ": _TS,
              "TIMESTAMP": _TS, "DATE": _DATE, "JSON": None}
_CONFIG_TYPES = ["incoming", "outgoing", "transformer", "route", "http-client", "storage"]
_SAFE_LIKE = re.compile(r"^[A-Za-z0-9 \-]*$")  # literal text that means the same in LIKE and regex
_MAX_IN = 100  # longer IN lists stay local: the filter travels in the URL
_ONE_REQUEST = 500  # rows one request surely returns: the reference client's limit (docs/notes/alumio-api.md)
_OPS = {Op.GE: "gte", Op.GT: "gt", Op.LT: "lt", Op.LE: "lte", Op.NE: "neq"}


def _sql_type(name: str, where: str) -> pa.DataType | None:
    try:
        return _SQL_TYPES[str(name).upper()]
    except KeyError:
        raise DialectError(f"alumio: {where}: unknown type {name!r} (use one of {', '.join(_SQL_TYPES)})") from None


def _optional_listing_failure(exc: FetchError) -> bool:
    """A storage listing that failed for a reason other than the credentials: a wrong path (404, 405),
    no right to it (403), or the server (5xx, after retries). A 401 means the token is bad: that fails
    the source, as any other table would."""
    status = exc.status
    if isinstance(exc, AuthError):
        return status == 403
    return status is not None and (status in (403, 404, 405, 410) or status >= 500)


def _ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlumioTable(TableDef):
    """A resource (or a storage's entities, ``storage``): ``fields`` maps the API's own top-level fields
    to their kind (S text, N number, B boolean, T timestamp, D date; J/L JSON and lists, never sent),
    ``api`` to their API names; ``fixed`` are (API name, value) filters always sent (a configuration
    type); ``byte_order_key`` is the key when its text order is byte order; ``ints`` integer columns."""

    url: str
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict)
    api: Mapping[str, str] = dataclasses.field(default_factory=dict)
    notnull: frozenset[str] = frozenset()
    fixed: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    byte_order_key: str | None = None
    ints: frozenset[str] = frozenset()
    storage: str | None = None


class Alumio(Dialect):
    name = "alumio"
    title = "Alumio REST API v1"
    CREDENTIALS = {"token": "API token (sent as Authorization: Bearer <token>)"}
    OPTIONS = {
        "loopback_operators": (False, "the deployment supports LoopBack's gt/lt/lte/neq/inq/nin/like/and/or "
                                      "and order arrays (unconfirmed: off pushes only = and gte)"),
        "case_insensitive_text": (False, "text equality on the server ignores case (then = on text is re-checked)"),
        "page_size": (500, "rows per request (500 is what the reference client uses; the maximum is unknown)"),
        "api_prefix": ("api/v1/", "path of the API below base_url"),
        "paths": ({}, "{table: path below base_url} for tables whose inferred path is wrong on this deployment "
                      "(e.g. { queue_processes = \"api/v1/queue-processes\" }); the seed lists no paths"),
        "configuration_types": (_CONFIG_TYPES, "configuration types that get a configurations_<type> table"),
        "entity_fields": ({}, "{field or dotted.path: SQL type}: typed tasks columns entity_data__<field>"),
        "storages": (None, "storage identifiers to expose (default: list them with GET storages)"),
        "storage_schemas": ({}, "{storage: {field: SQL type}}: typed columns read from each entity's value"),
        "storage_values": (True, "the storage entity listing carries each entity's value (assumed: the seed's "
                                 "listing shows only identifier and updatedAt); false lists identifiers only"),
    }

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        prefix = str(self.options["api_prefix"] or "")
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.loopback = bool(self.options["loopback_operators"])
        # The confirmed ``order`` is one key with no tie-breaker: ties may come back in another order
        # on the next request, so such a sort is pushed only when one request answers the LIMIT: up to
        # the page size, and never beyond the limit the reference client is known to get answered.
        one_request = max(1, min(_ONE_REQUEST, int(self.options["page_size"])))
        self.max_pushed_limit = None if self.loopback else one_request
        for field, typ in dict(self.options["entity_fields"]).items():
            _sql_type(typ, f"entity_fields.{field}")
        for storage, schema in dict(self.options["storage_schemas"]).items():
            for field, typ in dict(schema).items():
                _sql_type(typ, f"storage_schemas.{storage}.{field}")
        paths = self.options["paths"]
        if not isinstance(paths, Mapping) or not all(isinstance(v, str) and v.strip("/") for v in paths.values()):
            raise DialectError("alumio: paths must map table names to paths, e.g. "
                               '{ tasks = "api/v1/tasks" }')
        self.paths = {str(k): str(v).strip("/") for k, v in paths.items()}
        if self.options["storage_schemas"] and not self.options["storage_values"]:
            raise DialectError("alumio: storage_schemas reads entity values, which storage_values = false says "
                               "the listing does not carry")

    # --- auth (docs/notes/alumio-api.md "Auth") ------------------------------------------------------------

    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan:
        if "token" not in credentials:
            raise DialectError("alumio needs the credential 'token' (an Alumio API token)")
        return AuthPlan(headers=(("Authorization", Secret("Bearer " + credentials["token"].reveal())),
                                 ("Accept", "application/json")))

    # --- tables ----------------------------------------------------------------------------------

    def discover(self) -> Discovery:
        tables = [self._table(*spec) for spec in _TABLES]
        for type_ in self.options["configuration_types"] or []:
            tables.append(self._table_def(
                f"configurations_{_ident(type_)}", "configurations", _CONFIG_COLS, "identifier",
                frozenset({"type", "identifier", "createdAt"}), f"configurations of type {type_!r}",
                fixed={"type": type_}))
        storages = self.options["storages"]
        if storages is None:
            storages = []
            # paged like any list (the maximum limit is unknown, docs/notes/alumio-api.md): stopping after the first
            # page would silently drop the storages beyond it
            while True:
                filt = json.dumps({"skip": len(storages), "limit": 1000}, separators=(",", ":"))
                try:
                    body = yield HttpRequest("GET", self._path("storages", "storages"), (("filter", filt),))
                except FetchError as exc:
                    # the path is inferred (the seed lists none) and the account may lack the right: the
                    # other tables do not depend on it, so skip the storage tables and say so
                    if not _optional_listing_failure(exc):
                        raise
                    warnings.warn(DiscoveryWarning(
                        f"alumio: listing the storages failed ({exc}); the storage_<name> tables are left out. "
                        "Name them with the source option storages = [\"...\"], set storages = [] to skip the "
                        "listing, or fix its path with paths = { storages = \"api/v1/...\" }"), stacklevel=2)
                    storages = []
                    break
                results = body.get("results") if isinstance(body, dict) else None
                meta = body.get("metadata") if isinstance(body, dict) else None
                total = meta.get("totalCount") if isinstance(meta, dict) else None
                if not isinstance(results, list) or not results:
                    break
                storages += [r.get("identifier") if isinstance(r, dict) else None for r in results]
                if not isinstance(total, int) or len(storages) >= total or len(storages) >= 100_000:
                    break
            storages = [s for s in storages if isinstance(s, str)]
        taken = {t.name for t in tables}
        for storage in storages:
            table = self._storage_table(storage)
            if table.name in taken:  # `a-b` and `a_b` map to the same SQL name: keep the first
                continue
            taken.add(table.name)
            tables.append(table)
        return tables

    def _table_def(self, name: str, resource: str, cols: tuple[ColumnDef, ...], key: str | None,
                   notnull: frozenset[str], doc: str, fixed: Mapping[str, str] | None = None) -> AlumioTable:
        # ``fields``: SQL column -> kind, for the API's own top-level fields (the only names ever sent);
        # ``api``: SQL column -> the API's field name
        own = [c for c in cols if len(c.json_path()) == 1 and not c.path[0].startswith(_PATH_KEY)]
        fields = {c.name: _kind(c) for c in own}
        api = {c.name: c.path[0][len(_JSON_KEY):] if c.path[0].startswith(_JSON_KEY) else c.path[0] for c in own}
        byte_order_key = key if resource == "configurations" and key is not None else None
        fixed_cols = {snake(k): (k, v) for k, v in (fixed or {}).items()}
        notnull = frozenset(map(snake, notnull))
        url = self._path(name, resource)
        pushable = {c: self._pushable(k) for c, k in fields.items() if c not in fixed_cols}
        return AlumioTable(name, cols, doc=f"{doc} (GET {url})", key=key,
                           pushable={c: ops for c, ops in pushable.items() if ops}, url=url, fields=fields,
                           api=api, notnull=notnull, fixed=fixed_cols, byte_order_key=byte_order_key,
                           ints=frozenset(c.name for c in cols if pa.types.is_integer(c.type)))

    def _pushable(self, kind: str) -> frozenset[str]:
        """What ``translate_one`` may send on a field of this kind (see there and the module docstring):
        confirmed, ``=`` (and ``<>`` on booleans, as ``= NOT v``), ``gte`` and ``>`` written with it; with
        ``loopback_operators`` also the other comparisons, IS [NOT] NULL, [NOT] IN and LIKE on text."""
        if kind in ("J", "L"):
            return frozenset()
        ops = {"="} | ({"<>"} if kind == "B" else set()) | ({">=", ">"} if kind in ("N", "T", "D") else set())
        if not self.loopback:
            return frozenset(ops)
        ci_text = kind == "S" and bool(self.options["case_insensitive_text"])
        ops |= {"IS NULL", "IS NOT NULL"} | ({"<>"} if not ci_text else set())
        ops |= {"IN"} if kind != "T" else set()
        ops |= {"NOT IN"} if not ci_text else set()
        ops |= {"<", "<="} if kind in ("N", "T", "D") else {"LIKE"} if kind == "S" else set()
        return frozenset(ops)

    def _table(self, name: str, path: str, cols: tuple[ColumnDef, ...], key: str | None,
               notnull: frozenset[str], doc: str) -> TableDef:
        if name == "tasks":
            extra = []
            for field, typ in dict(self.options["entity_fields"]).items():
                arrow = _sql_type(typ, f"entity_fields.{field}")
                parts = tuple(str(field).split("."))
                col_name = "entity_data__" + "__".join(_ident(snake(p)) for p in parts)
                if arrow is None:
                    raise DialectError("alumio: entity_fields cannot be JSON (entityData itself is)")
                parse: Parse | None = "iso" if arrow == _TS else "date" if arrow == _DATE else None
                extra.append(ColumnDef(col_name, arrow, path=(f"{_PATH_KEY}entityData.{field}",),
                                       parse=parse, doc=f"entityData.{field}"))
            cols = cols + tuple(extra)
        return self._table_def(name, path, cols, key, notnull, doc)

    def _path(self, table: str, resource: str) -> str:
        """The request path of a table: the ``paths`` option's, else the inferred ``api_prefix + resource``."""
        return self.paths.get(table) or self.prefix + resource

    def _storage_table(self, storage: str) -> TableDef:
        cols = [_c("identifier", doc="entity key"), _c("updatedAt", _TS)]
        if self.options["storage_values"]:
            cols.append(_c("value", json_text=True))
        taken = {"identifier", "updated_at", "value"}
        for field, typ in dict(dict(self.options["storage_schemas"]).get(storage, {})).items():
            arrow = _sql_type(typ, f"storage_schemas.{storage}.{field}")
            name = _ident(snake(str(field)))
            if name in taken:
                name = "value__" + name
            taken.add(name)
            if arrow is None:
                cols.append(ColumnDef(name, _STR, path=(_JSON_KEY + "value." + str(field),),
                                      doc=f"value.{field} (JSON text)"))
                continue
            parse: Parse | None = "iso" if arrow == _TS else "date" if arrow == _DATE else None
            cols.append(ColumnDef(name, arrow, path=(f"{_PATH_KEY}value.{field}",), parse=parse,
                                  doc=f"value.{field}"))
        url = self._storage_path(storage)
        return AlumioTable(f"storage_{_ident(storage)}", tuple(cols), key="identifier", url=url, storage=storage,
                           doc=f"entities of storage {storage!r} (GET {url})")

    def _storage_path(self, storage: str) -> str:
        return self.paths.get(f"storage_{_ident(storage)}") or f"{self.prefix}storages/{storage}/entities"

    # --- pushdown --------------------------------------------------------------------------------

    def translate_one(self, table: TableDef, pred: Pred) -> Translated:
        """A conjunct as one ``where`` condition (``{field: value}`` or ``{field: {op: value}}``)."""
        tdef = table_as(table, AlumioTable)
        if tdef.storage is not None:
            return NOT_SENT
        if isinstance(pred, And | Or):
            if not self.loopback or not pred.items:
                return NOT_SENT
            parts = [self.translate_one(table, p) for p in pred.items]
            exactness = min(t.exactness for t in parts)
            if exactness is Exactness.LOCAL:
                return NOT_SENT
            return Translated(exactness, {"and" if isinstance(pred, And) else "or": [t.sent for t in parts]})
        col = getattr(pred, "column", None)
        if col is None or col in tdef.fixed:
            return NOT_SENT
        kind = tdef.fields.get(col)
        if kind is None or kind in ("J", "L"):
            return NOT_SENT  # not an API field of this resource (or not comparable): never sent
        name = tdef.api[col]  # the API's field name: only declared fields are ever sent
        nullable = col not in tdef.notnull
        ci_text = kind == "S" and bool(self.options["case_insensitive_text"])
        E, S = Exactness.EXACT, Exactness.SUPERSET
        if isinstance(pred, Cmp):
            v, op = pred.value, pred.op
            if not _value_ok(kind, v):
                return NOT_SENT
            if kind == "T":
                return self._translate_ts(name, pred)
            if op is Op.EQ:
                return Translated(S if ci_text else E, {name: _wire(kind, v)})
            if kind == "B" and op is Op.NE:
                return Translated(E, {name: not v})  # `b <> v` is `b = NOT v` (NULLs fail both)
            if kind == "S" and op is Op.NE and self.loopback and not ci_text:
                return Translated(S if nullable else E, {name: {"neq": v}})
            if kind in ("S", "B"):
                return NOT_SENT  # text order is the server's collation, unknown
            if op is Op.GE:
                return Translated(E, {name: {"gte": _wire(kind, v)}})
            if op is Op.GT and not self.loopback:
                if kind == "D":
                    if v == dt.date.max:
                        return NOT_SENT  # no next day to write
                    return Translated(E, {name: {"gte": _wire(kind, v + dt.timedelta(days=1))}})
                if col in tdef.ints and isinstance(v, int):
                    return Translated(E, {name: {"gte": v + 1}})
                return Translated(S, {name: {"gte": _wire(kind, v)}})  # re-checked locally
            if not self.loopback:
                return NOT_SENT
            return Translated(S if op is Op.NE and nullable else E, {name: {_OPS[op]: _wire(kind, v)}})
        if not self.loopback:
            return NOT_SENT
        if isinstance(pred, IsNull):
            return Translated(E, {name: {"neq": None}} if pred.negated else {name: None})
        if isinstance(pred, InList) and 0 < len(pred.values) <= _MAX_IN:
            if ci_text and pred.negated:
                return NOT_SENT
            if not ci_text and not all(_value_ok(kind, v) for v in pred.values):
                return NOT_SENT
            sent = {name: {"nin" if pred.negated else "inq": [_wire(kind, v) for v in pred.values]}}
            if ci_text:
                return Translated(S, sent)
            if kind == "T":  # equality on timestamp text is not reliable (see _translate_ts)
                return Translated(S, sent) if pred.negated else NOT_SENT
            return Translated(S if pred.negated and nullable else E, sent)
        # Whether ``like`` is SQL LIKE or a regex, and its case rule, are unknown: send it only when the
        # literal text means the same either way, and always re-check.
        if (isinstance(pred, Like) and kind == "S" and not pred.negated and not pred.case_insensitive
                and all(not isinstance(p, str) or _SAFE_LIKE.match(p) for p in pred.pattern.parts)):
            return Translated(S, {name: {"like": pred.pattern.sql()}})
        return NOT_SENT

    def settle(self, table: TableDef, conjuncts: Sequence[Pred], translated: list[Translated]) -> list[Translated]:
        if self.loopback:
            return translated  # repeated fields go into an "and" array (render_scan)
        # Confirmed form: one key per field in one JSON object; the fixed type filter takes its key.
        out = list(translated)
        used = set(table_as(table, AlumioTable).fixed)
        for rank in (Exactness.EXACT, Exactness.SUPERSET):
            for i, pred in enumerate(conjuncts):
                if out[i].exactness is rank:
                    col = pred.column  # type: ignore[union-attr]
                    if col in used:
                        out[i] = NOT_SENT
                    else:
                        used.add(col)
        return out

    def _translate_ts(self, name: str, pred: Cmp) -> Translated:
        """Timestamps. "Dates are compared as ISO-8601 strings with .000Z" (docs/notes/alumio-api.md): if the server
        compares text, a stored ``...:22Z`` (the seed's own format) sorts *after* ``...:22.000Z`` ('Z' >
        '.'), so the same instant is "greater". What stays right whether the server compares instants
        or such text: ``gte`` with a whole-second literal (exact; with milliseconds a superset), ``lt``
        with a whole-second literal (exact), ``gt``/``neq`` (superset), ``lte v`` sent as ``lt v+1s``
        (superset), and ``=`` sent as ``gte`` (superset). IN on timestamps stays local."""
        v, op = pred.value, pred.op
        whole = v.microsecond == 0
        if op is Op.GE:
            return Translated(Exactness.EXACT if whole else Exactness.SUPERSET, {name: {"gte": _wire("T", v)}})
        if op in (Op.EQ, Op.GT):
            return Translated(Exactness.SUPERSET,
                              {name: {"gte" if op is Op.EQ or not self.loopback else "gt": _wire("T", v)}})
        if not self.loopback:
            return NOT_SENT
        if op is Op.LT:
            return Translated(Exactness.EXACT, {name: {"lt": _wire("T", v)}}) if whole else NOT_SENT
        if op is Op.LE:
            fits = v < dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(seconds=1)
            if not (whole and fits):
                return NOT_SENT
            return Translated(Exactness.SUPERSET, {name: {"lt": _wire("T", v + dt.timedelta(seconds=1))}})
        return Translated(Exactness.SUPERSET, {name: {"neq": _wire("T", v)}})  # NE

    def can_sort(self, table: TableDef, keys: Sequence[SortKey]) -> bool:
        tdef = table_as(table, AlumioTable)
        if tdef.storage is not None or not keys:
            return False
        key = table.key
        if not self.loopback:
            if len(keys) != 1:
                return False  # the confirmed ``order`` is one "field asc|desc" string
            if keys[0].column == key and key == tdef.byte_order_key:
                return True  # a total order: pages are consistent
            # One key that is never NULL (the server's NULL placement is unknown) and orders like SQL
            # (numbers, dates, timestamps; text follows the server's collation). Ties are not ordered,
            # so the planner pushes it only when LIMIT + OFFSET fit one request (max_pushed_limit).
            col = keys[0].column
            return col in tdef.notnull and tdef.fields.get(col) in ("N", "T", "D")
        for k in keys:
            kind = tdef.fields.get(k.column)
            if k.column == key and key == tdef.byte_order_key:
                continue
            if k.column not in tdef.notnull or kind not in ("N", "T", "D"):
                return False
        # a total order needs the key as the last tie-breaker
        return key is not None and (key == tdef.byte_order_key or keys[-1].column != key)

    # --- rendering -------------------------------------------------------------------------------

    def render_scan(self, table: TableDef, spec: ScanSpec) -> ScanRequest:
        tdef = table_as(table, AlumioTable)
        page_size = max(1, int(self.options["page_size"]))
        if spec.limit is not None:
            page_size = max(1, min(page_size, spec.limit))
        if tdef.storage is not None:
            cursor = CursorPaging("next", "limit", page_size, max_rows=spec.limit, container="filter")
            return ScanRequest(HttpRequest("GET", tdef.url), cursor, ("storage entities: next cursor, no filters",))
        notes = [f"{p}: {e.name.lower()}" for p, e in spec.pushed]
        conds: list[dict[str, Any]] = [{api: v} for api, v in tdef.fixed.values()]
        conds += [sent for _, sent in self.translate_pushed(table, spec)]
        doc: dict[str, Any] = {}
        if conds:
            keys = [next(iter(c)) for c in conds]
            if len(set(keys)) == len(keys):
                where: dict[str, Any] = {}
                for c in conds:
                    where.update(c)
                doc["where"] = where
            else:
                doc["where"] = {"and": conds}
        if spec.order:
            api = tdef.api
            order = [f"{api[k.column]} {'desc' if k.descending else 'asc'}" for k in spec.order]
            if self.loopback:
                if table.key is not None and spec.order[-1].column != table.key:
                    order.append(f"{api[table.key]} asc")
                doc["order"] = order if len(order) > 1 else order[0]
            else:
                doc["order"] = order[0]
        params = (("filter", json.dumps(doc, separators=(",", ":"), ensure_ascii=False)),) if doc else ()
        paging = OffsetPaging("skip", "limit", page_size, start=spec.offset, max_rows=spec.limit, container="filter")
        return ScanRequest(HttpRequest("GET", tdef.url, params), paging, tuple(notes))

    def parse_page(self, table: TableDef, body: Any) -> Page:
        tdef = table_as(table, AlumioTable)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise DialectError(f"alumio {table.name}: expected a JSON object with 'results', "
                               f"got {type(body).__name__}")
        records = body["results"]
        # ASSUMPTION [U]: a storage listing carries each entity's value (the seed's listing schema shows
        # only identifier and updatedAt). Without it every value would read as NULL: a wrong answer,
        # so say so instead.
        if (tdef.storage is not None and self.options["storage_values"]
                and any(isinstance(r, dict) and "value" not in r for r in records)):
            raise DialectError(
                f"alumio {table.name}: the storage entity listing carries no 'value' field on this "
                f"deployment; set the option storage_values = false to list identifiers and updatedAt only")
        json_cols = [c.path[0] for c in table.columns if c.path and c.path[0].startswith(_JSON_KEY)]
        if json_cols:
            for rec in records:
                if not isinstance(rec, dict):
                    continue
                for key in json_cols:
                    node: Any = rec
                    for part in key[len(_JSON_KEY):].split("."):
                        node = node.get(part) if isinstance(node, dict) else None
                    rec[key] = None if node is None else json.dumps(node, ensure_ascii=False, sort_keys=True)
        leaves = [(c.path[0], c.type == _STR) for c in table.columns if c.path and c.path[0].startswith(_PATH_KEY)]
        if leaves:
            for rec in records:
                if not isinstance(rec, dict):
                    continue
                for key, text in leaves:
                    node = rec
                    for part in key[len(_PATH_KEY):].split("."):
                        node = node.get(part) if isinstance(node, dict) else None
                    if text and node is not None and not isinstance(node, str):
                        node = json.dumps(node, ensure_ascii=False, sort_keys=True)  # as ->> reads it
                    rec[key] = node  # other types: a mismatch is the converter's typed error
        total = (body.get("metadata") or {}).get("totalCount") if isinstance(body.get("metadata"), dict) else None
        cursor = body.get("next") if tdef.storage is not None else None
        if not cursor:
            cursor = None
        return Page(records, total if isinstance(total, int) and not isinstance(total, bool) else None, cursor)


def _value_ok(kind: str, v: Any) -> bool:
    if kind == "S":
        return isinstance(v, str)
    if kind == "B":
        return isinstance(v, bool)
    if kind == "N":
        return finite_number(v)
    if kind == "T":
        # ISO text with milliseconds (docs/notes/alumio-api.md): a finer literal cannot be written exactly
        return ms_instant(v)
    if kind == "D":
        return plain_date(v)
    return False


def _wire(kind: str, v: Any) -> Any:
    if kind == "T":
        # isoformat pads the year to four digits (strftime's %Y does not on every libc)
        return v.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if kind == "D":
        return v.isoformat()
    return int_if_whole(v) if kind == "N" else v
