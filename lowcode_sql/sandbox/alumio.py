"""Alumio (alumio.com) emulator, written from the Alumio API reference and its notes, not from the dialect.

Sources: "seed" = https://apidocs.alumio.com/ (the OpenAPI 3.1 reference rendered as text:
it gives the list schemas, the ``filter`` query parameter and ``metadata.totalCount``, but no paths);
"notes" = docs/notes/alumio-api.md (a real client, ``experius/Mage2-Module-Experius-AlumioLog``).

What is emulated:

* Auth (notes "Auth"): ``Authorization: Bearer <token>``; a missing or unknown token is a 401.
* Paths (seed has none, so these are inferred [I]): ``/api/v1/tasks``, ``/api/v1/routes`` (the "all
  routes from every space" list), ``/api/v1/configurations``, ``/api/v1/environment-variables``,
  ``/api/v1/audit-trails``, ``/api/v1/users``, ``/api/v1/queue/processes``,
  ``/api/v1/queue/jobs/{job}``, ``/api/v1/task-statistics`` (task log totals grouped by date),
  ``/api/v1/tokens`` (JWT token metadata), ``/api/v1/maintenance-windows`` (the maintenance window log),
  ``/api/v1/system-administrators``,
  ``/api/v1/storages`` (storage metadata), ``/api/v1/storages/{id}/entities`` and
  ``/api/v1/storages/{id}/entity?entity=<key>``.
* Lists answer ``{"metadata": {"totalCount": N}, "results": [...]}`` (seed, every list schema);
  ``totalCount`` counts every match, not just the page.
* ``filter`` (notes "filter parameter"): URL-encoded LoopBack-style JSON with ``where``, ``order``,
  ``limit``, ``skip``. Always on (confirmed): ``{"f": v}`` equality and ``{"f": {"gte": v}}``; ``order``
  as ``"f asc|desc"``. With ``loopback_operators=True`` (unconfirmed, so switchable, both modes are
  tested): ``gt lt lte neq inq nin like between`` and ``and``/``or`` arrays, and ``order`` as an array.
  An unsupported operator is a 400. Operator semantics follow LoopBack's memory connector: ``neq`` and
  ``nin`` also match NULL/missing values; ``like`` is SQL LIKE (``%``, ``_``, ``\\`` escapes),
  case-sensitive and anchored; ``{"f": null}`` matches NULL/missing. Comparisons are typed by the
  field: timestamps compare as instants (ISO-8601 text parsed, ``.000Z`` or ``Z``), strings by code
  point, and a value of the wrong type is a 400 with ``violations``. NULLs never satisfy a range.
* "result will be empty on non existing order or where column" (seed, the search endpoint's
  ``filter``): any ``where`` key (also inside ``and``/``or``, and ``and``/``or`` themselves when the wider
  set is off) or ``order`` field the resource does not have yields an empty list with totalCount 0.
* Sorting: NULLs lowest (first ascending); ties come back in an order that varies with ``skip`` and
  ``limit`` (like a database sorting on a non-unique key), so only a total order pages consistently.
  Without ``order``, rows come in their natural (insertion) order.
* ``limit`` above ``max_limit`` (default 1000; the real maximum is unknown, notes) is clamped silently;
  no ``limit`` returns everything up to ``max_limit``.
* Storage entities (seed: the entity list has ``results`` of ``{identifier, updatedAt}`` and a ``next``
  array; notes: a storage is a directory of files, searching inside it is "in practice not possible"):
  entities are listed in identifier order; ``next`` is an opaque one-element array to pass back as
  ``filter.next``; it is absent on the last page. ASSUMPTION [U]: each listed entity also carries its
  ``value`` (the single-entity endpoint returns ``{value, updatedAt}``), so a storage can be read
  without one request per entity (``list_values=False`` emulates a deployment whose listing has only
  ``identifier``/``updatedAt``, as the seed's schema shows). ``where`` on storage entities is ignored
  (no search).
* Text equality is case-sensitive by default (nothing documents it either way); ``case_insensitive_text
  =True`` emulates a MySQL-style ``_ci`` collation (case and trailing spaces ignored by ``=``, ``neq``,
  ``inq``, ``nin``, ``like``), so the dialect's option of the same name is tested against it.
* Variants (``AlumioSandbox(variants=[...])``, issue 13; listed in ``AlumioSandbox.VARIANTS``):
  ``storages_404``/``storages_403`` (the storage listing fails), ``queue_path_dashed`` (an inferred path
  is wrong), ``timestamps_as_strings`` (``where`` compares timestamps as text, as the notes say),
  ``case_insensitive_eq``.
* Strict mode (``strict=True``, ``Platform``): a query parameter other than ``filter`` (and ``entity`` on
  the single-entity endpoint) or a ``filter`` key other than the confirmed ``where order limit skip``
  (and the seed's ``next`` on storage entities) is a 400 problem.
* Errors in the seed's problem-details shape: ``{status, context, type, title, detail, violations}``
  (``status`` is a string in the seed's schema).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import random
import re
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response
from lowcode_sql.sandbox._business import World, world
from lowcode_sql.sandbox._index import Memo, stamp

__all__ = ["AlumioSandbox"]

# field kinds: S text, N number, B boolean, T timestamp, D date, J JSON object, L list of text
S, N, B, T, D, J, L = "S", "N", "B", "T", "D", "J", "L"

# Field sets of each list resource (seed schemas).
SCHEMAS: dict[str, dict[str, str]] = {
    "tasks": {"identifier": S, "entityType": S, "entityData": J, "entityIdentifier": S, "status": S,
              "route": S, "createdAt": T, "updatedAt": T},
    "routes": {"type": S, "identifier": S, "space": S, "name": S, "disabled": B, "createdAt": T, "updatedAt": T},
    "configurations": {"type": S, "identifier": S, "name": S, "description": S, "object": J, "context": J,
                       "owner": S, "removable": B, "resettable": B, "disabled": B, "createdAt": T,
                       "updatedAt": T, "editor": S, "label": L, "tag": L},
    "environment_variables": {"name": S, "description": S, "value": S, "encrypted": B, "default": B},
    "audit_trail": {"identifier": S, "user": S, "spaceIdentifier": S, "action": S, "category": S,
                    "ipAddress": S, "message": S, "request": J, "createdAt": T},
    "users": {"email": S, "roles": L},
    "queue_processes": {"status": S, "identifier": S, "jobId": S, "priority": N, "routingKey": S, "command": S,
                        "arguments": S, "createdAt": T, "startedAt": T, "finishedAt": T, "processTime": N,
                        "runTime": N, "meta": J},
    "task_statistics": {"identifier": S, "spaceIdentifier": S, "date": D, "new": N, "processing": N,
                        "finished": N, "failed": N, "skipped": N},
    "api_tokens": {"identifier": S, "name": S, "createdAt": T, "createdBy": S, "description": S, "lastUsed": T},
    "maintenance_windows": {"identifier": S, "dateStart": T, "dateEnd": T, "timezone": S, "createdAt": T},
    "system_administrators": {"email": S, "roles": L},
}
PATHS = {
    "tasks": "tasks", "routes": "routes", "configurations": "configurations",
    "environment-variables": "environment_variables", "audit-trails": "audit_trail", "users": "users",
    "queue/processes": "queue_processes", "task-statistics": "task_statistics", "tokens": "api_tokens",
    "maintenance-windows": "maintenance_windows", "system-administrators": "system_administrators",
}  # fmt: skip
_CONFIRMED_OPS = frozenset({"gte"})
_LOOPBACK_OPS = frozenset({"gte", "gt", "lt", "lte", "neq", "inq", "nin", "like", "between"})
_PREFIX = "/api/v1/"



#: strict mode: the ``filter`` keys docs/notes/alumio-api.md confirms ("Confirmed keys", from a real call)
_FILTER_KEYS = frozenset({"where", "order", "limit", "skip"})

class Problem(Exception):
    """An HTTP error in the seed's problem-details shape."""

    def __init__(self, status: int, detail: str, violations: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.violations = violations or []


class _Unknown(Exception):
    """A where/order field the resource does not have: the list is empty (seed)."""


def _iso(v: dt.datetime) -> str:
    """The seed's format (``2019-08-24T14:15:22Z``), with milliseconds or microseconds when present."""
    v = v.astimezone(dt.UTC)
    spec = "seconds" if v.microsecond == 0 else "milliseconds" if v.microsecond % 1000 == 0 else "microseconds"
    return v.isoformat(timespec=spec).replace("+00:00", "Z")


def _parse_ts(v: Any, where: str) -> dt.datetime:
    if isinstance(v, str):
        try:
            out = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            out = None
        if out is not None:
            return out if out.tzinfo is not None else out.replace(tzinfo=dt.UTC)
    raise Problem(400, f"{where}: {v!r} is not a valid date-time",
                  [{"propertyPath": where, "title": "This value is not a valid datetime.", "type": "datetime"}])


def _jsonify(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):
        # a JSON number when a double holds it exactly, else its text (no digit lost either way)
        return float(v) if decimal.Decimal(repr(float(v))) == v else str(v)
    if isinstance(v, dt.datetime):
        return _iso(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _jsonify(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonify(x) for x in v]
    return v


def like_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


class AlumioSandbox(Platform):
    """The Alumio REST API over in-memory resources (see the module docstring for the sources)."""

    name = "alumio"
    DEMO_CREDENTIALS = {"token": "demo-alumio-token"}
    DEMO_OPTIONS: dict[str, Any] = {}
    #: issue 13: answers a real deployment may plausibly give where the seed is silent (no paths in it)
    VARIANTS = {
        "storages_404": "GET api/v1/storages answers 404 (the path is inferred)",
        "storages_403": "GET api/v1/storages answers 403 (a token without the right)",
        "queue_path_dashed": "queue processes live at api/v1/queue-processes; api/v1/queue/processes is a 404",
        "timestamps_as_strings": "where on timestamps compares the stored ISO text with the operand's text "
                                 "(notes: 'dates are compared as strings')",
        "case_insensitive_eq": "text equality ignores case (a MySQL-style _ci collation), as case_insensitive_text",
    }

    def __init__(
        self,
        *,
        tokens: tuple[str, ...] = ("demo-alumio-token",),
        loopback_operators: bool = False,
        case_insensitive_text: bool = False,
        list_values: bool = True,
        max_limit: int = 1000,
        sample_data: bool | str = True,
        **kw: Any,
    ) -> None:
        super().__init__(sample_data=sample_data, **kw)
        self.tokens = set(tokens)
        self._memos: dict[int, tuple[list[dict[str, Any]], Memo[list[dict[str, Any]]]]] = {}  # see _matching
        self.loopback_operators = loopback_operators
        self.case_insensitive_text = case_insensitive_text or self.variant("case_insensitive_eq")
        self.list_values = list_values
        self.max_limit = max_limit
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
        self.schemas: dict[str, dict[str, str]] = {k: dict(v) for k, v in SCHEMAS.items()}
        # storage identifier -> {entity identifier: (value, updatedAt)}
        self.storages: dict[str, dict[str, tuple[Any, dt.datetime]]] = {}
        if self.sample_data:
            self.load_sample_data()

    # -- framework hooks ---------------------------------------------------------------------

    def error_response(self, status: int, message: str, violations: list[dict[str, str]] | None = None) -> Response:
        return json_response({"status": str(status), "context": {},
                              "type": "https://tools.ietf.org/html/rfc2616#section-10",
                              "title": "An error occurred", "detail": message, "violations": violations or []},
                             status)

    def expire_tokens(self) -> None:
        # Static API tokens (notes: issued out of band) do not expire; nothing to revoke.
        return None

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except Problem as p:
            return self.error_response(p.status, p.detail, p.violations)

    # -- routing -----------------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        auth = request.header("authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise Problem(401, "Invalid or missing API token.")
        path = request.path
        if not path.startswith(_PREFIX):
            raise Problem(404, f"No route found for \"{request.method} {path}\"")
        rest = path[len(_PREFIX):].rstrip("/")
        if request.method != "GET":
            raise Problem(405, f"No route found for \"{request.method} {path}\": Method Not Allowed")
        if self.variant("queue_path_dashed") and rest in ("queue/processes", "queue-processes"):
            rest = "queue/processes" if rest == "queue-processes" else "-"
        if rest == "storages" and (self.variant("storages_404") or self.variant("storages_403")):
            if self.variant("storages_403"):
                raise Problem(403, "Access denied.")
            raise Problem(404, f"No route found for \"GET {path}\"")
        if rest in PATHS:
            resource = PATHS[rest]
            return json_response(self._list(self.rows[resource], self.schemas[resource], request))
        m = re.fullmatch(r"queue/jobs/([^/]+)", rest)
        if m:
            rows = [r for r in self.rows["queue_processes"] if r.get("jobId") == m.group(1)]
            return json_response(self._list(rows, self.schemas["queue_processes"], request))
        if rest == "storages":
            rows = [{"identifier": k, "sizeInBytes": self._size(k)} for k in sorted(self.storages)]
            return json_response(self._list(rows, {"identifier": S, "sizeInBytes": N}, request))
        m = re.fullmatch(r"storages/([^/]+)/(entities|entity)", rest)
        if m:
            if m.group(1) not in self.storages:
                raise Problem(404, f"Storage \"{m.group(1)}\" not found.")
            if m.group(2) == "entity":
                return json_response(self._entity(m.group(1), request))
            return json_response(self._entities(m.group(1), request))
        raise Problem(404, f"No route found for \"GET {path}\"")

    # -- the filter ---------------------------------------------------------------------------

    def _filter(self, request: Request, *, keys: frozenset[str] = _FILTER_KEYS) -> dict[str, Any]:
        raw = request.arg("filter")
        if self.strict:
            for name, _ in request.query:
                if name != "filter":
                    raise Problem(400, f"Undocumented query parameter \"{name}\".",
                                  [{"propertyPath": name, "title": "This parameter is not documented.",
                                    "type": "strict"}])
        if raw is None or raw == "":
            return {}
        try:
            doc = json.loads(raw)
        except ValueError:
            violation = {"propertyPath": "filter", "title": "This value should be valid JSON.", "type": "json"}
            raise Problem(400, "The filter is not valid JSON.", [violation]) from None
        if not isinstance(doc, dict):
            raise Problem(400, "The filter must be a JSON object.",
                          [{"propertyPath": "filter", "title": "This value should be of type object.", "type": "type"}])
        if self.strict and (extra := sorted(set(doc) - keys)):
            raise Problem(400, f"Undocumented filter key \"{extra[0]}\".",
                          [{"propertyPath": f"filter.{extra[0]}", "title": "This key is not documented.",
                            "type": "strict"}])
        return doc

    def _paging(self, doc: Mapping[str, Any]) -> tuple[int, int]:
        def number(key: str, default: int) -> int:
            v = doc.get(key, default)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise Problem(400, f"filter.{key} must be a non-negative integer.",
                              [{"propertyPath": key, "title": "This value should be a positive integer.",
                                "type": "type"}])
            return v

        return number("skip", 0), min(number("limit", self.max_limit), self.max_limit)

    def _list(self, rows: list[dict[str, Any]], schema: dict[str, str], request: Request) -> dict[str, Any]:
        doc = self._filter(request)
        skip, limit = self._paging(doc)
        try:
            where = doc.get("where") or {}
            if not isinstance(where, dict):
                raise Problem(400, "filter.where must be an object.")
            self._check_fields(where, schema)
            order = self._order(doc.get("order"), schema)
        except _Unknown:
            return {"metadata": {"totalCount": 0}, "results": []}
        # nothing to test or sort: the stored list itself, only sliced and counted (O(page), issue 15)
        matched = rows if not where and not order else self._matching(rows, where, schema, remember=not order)
        if order:
            # Ties under `order` come back in an order that differs from request to request (a database
            # sorting on a non-unique key promises nothing), so only a total order pages consistently.
            random.Random(f"{skip}:{limit}:{len(matched)}").shuffle(matched)
        for field, desc in reversed(order):  # stable sorts, last key first
            # reverse=True keeps ties in their natural order; NULLs lowest, so last when descending
            matched.sort(key=lambda r: _sort_key(r.get(field)), reverse=desc)  # used at once: no late binding
        page = matched[skip: skip + limit]
        return {"metadata": {"totalCount": len(matched)}, "results": [_jsonify(r) for r in page]}

    def _matching(self, rows: list[dict[str, Any]], where: Mapping[str, Any], schema: Mapping[str, str], *,
                  remember: bool) -> list[dict[str, Any]]:
        """The rows ``where`` matches, in their stored order. Without an ``order`` (whose ties come back
        in a per-page order, so nothing may be kept) the answer for a stored resource is remembered
        until its rows change (lowcode_sql/sandbox/_index.py): the pages of one scan filter once.
        The list returned is only read, never sorted in place."""
        if not remember or not any(rows is stored for stored in self.rows.values()):
            return [r for r in rows if self._match(r, where, schema)]
        entry = self._memos.get(id(rows))
        if entry is None or entry[0] is not rows:
            if len(self._memos) > 32:
                self._memos.clear()
            entry = self._memos[id(rows)] = (rows, Memo())
        key = (self.loopback_operators, self.case_insensitive_text, json.dumps(where))
        return entry[1].get(stamp(0, rows, schema), key,
                            lambda: [r for r in rows if self._match(r, where, schema)])

    def _check_fields(self, where: Mapping[str, Any], schema: Mapping[str, str]) -> None:
        for key, cond in where.items():
            if key in ("and", "or") and self.loopback_operators:
                if not isinstance(cond, list) or not all(isinstance(c, dict) for c in cond):
                    raise Problem(400, f"filter.where.{key} must be an array of objects.")
                for c in cond:
                    self._check_fields(c, schema)
            elif key not in schema:
                raise _Unknown(key)

    def _order(self, order: Any, schema: Mapping[str, str]) -> list[tuple[str, bool]]:
        if order is None or order == "":
            return []
        items = order if isinstance(order, list) and self.loopback_operators else [order]
        out = []
        for item in items:
            if not isinstance(item, str):
                raise Problem(400, "filter.order must be a string \"field ASC|DESC\".")
            parts = item.split()
            if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
                raise Problem(400, f"filter.order: invalid order {item!r}.")
            if parts[0] not in schema:
                raise _Unknown(parts[0])
            out.append((parts[0], len(parts) == 2 and parts[1].lower() == "desc"))
        return out

    def _match(self, row: Mapping[str, Any], where: Mapping[str, Any], schema: Mapping[str, str]) -> bool:
        for key, cond in where.items():
            if key == "and" and self.loopback_operators:
                if not all(self._match(row, c, schema) for c in cond):
                    return False
                continue
            if key == "or" and self.loopback_operators:
                if not any(self._match(row, c, schema) for c in cond):
                    return False
                continue
            if not self._cond(row.get(key), key, cond, schema[key]):
                return False
        return True

    def _cond(self, value: Any, field: str, cond: Any, kind: str) -> bool:
        if isinstance(cond, dict) and cond:
            allowed = _LOOPBACK_OPS if self.loopback_operators else _CONFIRMED_OPS
            for op, operand in cond.items():
                if op not in allowed:
                    raise Problem(400, f"Unsupported operator \"{op}\" on \"{field}\".",
                                  [{"propertyPath": f"where.{field}.{op}", "title": "Unsupported operator.",
                                    "type": "operator"}])
                if not self._op(value, field, op, operand, kind):
                    return False
            return True
        return self._eq(value, field, cond, kind)

    def _value(self, v: Any, field: str, kind: str) -> Any:
        """The operand converted to the field's type; a wrong type is a 400."""
        path = f"where.{field}"
        if kind in (T,):
            return _parse_ts(v, path)
        if kind == D:
            try:
                return dt.date.fromisoformat(v) if isinstance(v, str) else _bad(path, v)
            except ValueError:
                return _bad(path, v)
        if kind == N:
            return v if isinstance(v, int | float) and not isinstance(v, bool) else _bad(path, v)
        if kind == B:
            return v if isinstance(v, bool) else _bad(path, v)
        if kind in (S, L):
            return v if isinstance(v, str) else _bad(path, v)
        return _bad(path, v)  # JSON objects cannot be compared

    def _eq(self, value: Any, field: str, operand: Any, kind: str) -> bool:
        if operand is None:
            return value is None or value == []
        v = self._value(operand, field, kind)
        if kind == L:
            return isinstance(value, list) and v in value
        if kind == S and self.case_insensitive_text and isinstance(value, str):
            return _fold(value) == _fold(v)
        if kind == T and self.variant("timestamps_as_strings"):
            return value is not None and _iso(value) == operand
        return value is not None and value == v

    def _op(self, value: Any, field: str, op: str, operand: Any, kind: str) -> bool:
        if op == "neq":  # LoopBack memory connector: `value !== example`, so NULL/missing match
            return not self._eq(value, field, operand, kind)
        if op in ("inq", "nin"):
            if not isinstance(operand, list):
                raise Problem(400, f"where.{field}.{op} must be an array.")
            hit = any(self._eq(value, field, x, kind) for x in operand)
            return hit if op == "inq" else not hit
        if op == "like":
            if kind != S or not isinstance(operand, str):
                raise Problem(400, f"where.{field}.like needs a text field and a string pattern.")
            if not isinstance(value, str):
                return False
            if self.case_insensitive_text:
                return like_regex(_lower(operand)).fullmatch(_lower(value)) is not None
            return like_regex(operand).fullmatch(value) is not None
        if op == "between":
            if not isinstance(operand, list) or len(operand) != 2:
                raise Problem(400, f"where.{field}.between must be an array of two values.")
            lo, hi = (self._value(x, field, kind) for x in operand)
            return value is not None and kind not in (L, J) and lo <= value <= hi
        v = self._value(operand, field, kind)
        if value is None or kind == L:
            return False
        if kind == T and self.variant("timestamps_as_strings"):
            return bool(_RANGE[op](_iso(value), operand))  # the stored text, as _jsonify writes it
        return bool(_RANGE[op](value, v))

    # -- storages -----------------------------------------------------------------------------

    def _size(self, storage: str) -> int:
        return sum(len(json.dumps(_jsonify(v))) for v, _ in self.storages[storage].values())

    def _entity(self, storage: str, request: Request) -> dict[str, Any]:
        key = request.arg("entity")
        if self.strict and (extra := sorted({k for k, _ in request.query} - {"entity"})):
            raise Problem(400, f"Undocumented query parameter \"{extra[0]}\".")
        if not key:
            raise Problem(400, "The entity query parameter is required.",
                          [{"propertyPath": "entity", "title": "This value should not be blank.", "type": "blank"}])
        found = self.storages[storage].get(key)
        if found is None:
            raise Problem(404, f"Entity \"{key}\" not found in storage \"{storage}\".")
        return {"value": _jsonify(found[0]), "updatedAt": _iso(found[1])}

    def _entities(self, storage: str, request: Request) -> dict[str, Any]:
        doc = self._filter(request, keys=_FILTER_KEYS | {"next"})  # seed: the entity list's ``next`` array
        skip, limit = self._paging(doc)
        keys = sorted(self.storages[storage])
        after = doc.get("next")
        if after:
            if not isinstance(after, list) or len(after) != 1 or not isinstance(after[0], str):
                raise Problem(400, "filter.next must be the array the previous page returned.")
            try:
                last = base64.urlsafe_b64decode(after[0].encode()).decode()
                if not last.startswith("after:"):
                    raise ValueError
            except ValueError:
                raise Problem(400, "filter.next: invalid cursor.") from None
            keys = [k for k in keys if k > last[6:]]
            total = len(self.storages[storage])
        else:
            total = len(keys)
        page = keys[skip: skip + limit]
        data = self.storages[storage]
        out: dict[str, Any] = {
            "metadata": {"totalCount": total},
            "results": [{"identifier": k, "updatedAt": _iso(data[k][1]),
                         **({"value": _jsonify(data[k][0])} if self.list_values else {})} for k in page],
        }
        if page and skip + limit < len(keys):
            out["next"] = [base64.urlsafe_b64encode(("after:" + page[-1]).encode()).decode()]
        return out

    # -- data ---------------------------------------------------------------------------------

    def load_table(self, name: str, table: pa.Table, **options: Any) -> None:
        """Replace a resource's rows with ``table``'s (any columns: they become the resource's fields,
        typed by their Arrow types), or, with ``storage=True`` or a name that is not a resource,
        fill the storage ``name``: one entity per row, keyed by ``options['key']`` (default
        ``identifier``), its ``value`` the row without the key, ``updatedAt`` from an ``updatedAt``
        column if there is one."""
        rows = table.to_pylist()
        resource = {"environment-variables": "environment_variables", "audit-trails": "audit_trail",
                    "queue-processes": "queue_processes", "task-statistics": "task_statistics",
                    "tokens": "api_tokens", "maintenance-windows": "maintenance_windows",
                    "system-administrators": "system_administrators"}.get(name, name)
        if resource in SCHEMAS and not options.get("storage"):
            kinds = {f.name: _kind(f.type) for f in table.schema}
            self.schemas[resource] = kinds
            self.rows[resource] = [_native(r, kinds) for r in rows]
            return
        key = options.get("key", "identifier")
        store: dict[str, tuple[Any, dt.datetime]] = {}
        for i, r in enumerate(rows):
            ident = str(r.pop(key)) if key in r and r[key] is not None else f"entity-{i:06d}"
            updated = r.pop("updatedAt", None) or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            store[ident] = (r, updated)
        self.storages[name] = store

    def load_sample_data(self) -> None:
        _build_sample(self, random.Random(self.seed))


def _lower(v: str) -> str:
    """Case folded character by character (so LIKE's ``_`` still matches one character)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in v)


def _fold(v: str) -> str:
    """Equality under a MySQL-style ``_ci`` collation with PAD SPACE: case and trailing spaces ignored."""
    return _lower(v.rstrip(" "))


def _bad(path: str, v: Any) -> Any:
    raise Problem(400, f"{path}: {v!r} has the wrong type for this field.",
                  [{"propertyPath": path, "title": "This value is not valid.", "type": "type"}])


_RANGE: dict[str, Callable[[Any, Any], bool]] = {
    "gte": lambda a, b: a >= b, "gt": lambda a, b: a > b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
}


def _sort_key(v: Any) -> tuple[int, Any]:
    if v is None or v == []:
        return (0, 0)
    if isinstance(v, list | dict):
        return (1, json.dumps(_jsonify(v), sort_keys=True))
    return (1, v)


def _kind(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return T
    if pa.types.is_date(t):
        return D
    if pa.types.is_boolean(t):
        return B
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return N
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return L
    if pa.types.is_struct(t) or pa.types.is_map(t):
        return J
    return S


def _native(row: dict[str, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if kinds.get(k) == T and isinstance(v, dt.datetime) and v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        out[k] = v
    return out


# --------------------------------------------------------------------------------------------
# Sample data: an integration environment with routes moving orders, products and customers
# --------------------------------------------------------------------------------------------

_ROUTES = [
    ("magento-orders-to-erp", "Magento orders to ERP", "order"),
    ("erp-stock-to-shopify", "ERP stock to Shopify", "product"),
    ("erp-prices-to-magento", "ERP prices to Magento", "product"),
    ("shopify-customers-to-crm", "Shopify customers to CRM", "customer"),
    ("crm-customers-to-erp", "CRM customers to ERP", "customer"),
    ("bol-orders-to-wms", "Bol.com orders to WMS", "order"),
    ("wms-shipments-to-magento", "WMS shipments to Magento", "shipment"),
    ("pim-products-to-bol", "PIM products to Bol.com", "product"),
]
TASK_STATUSES = ("new", "processing", "finished", "failed", "skipped")
_SPACES = ("acme-prod", "acme-uat")
_USERS = [
    ("anna.devries@acme.example", ["ROLE_ADMINISTRATOR"]),
    ("bram.jansen@acme.example", ["ROLE_EDITOR", "ROLE_USER"]),
    ("chloe.martin@acme.example", ["ROLE_USER"]),
    ("dirk.bakker@partner.example", ["ROLE_EDITOR"]),
    ("eva.smit@acme.example", ["ROLE_USER"]),
    ("Frank.Visser@Acme.example", ["ROLE_ADMINISTRATOR", "ROLE_EDITOR"]),
]


def _build_sample(sb: AlumioSandbox, r: random.Random) -> None:
    base = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    w = world(sb.seed) if sb.sample == "business" else None  # else the edge cases the tests need

    def ts(days: float) -> dt.datetime:
        v = base + dt.timedelta(seconds=int(days * 86400))
        # a third of the timestamps carry milliseconds, like real server clocks
        return v + dt.timedelta(milliseconds=r.randrange(1000)) if r.random() < 0.33 else v

    routes: list[dict[str, Any]] = []
    configs: list[dict[str, Any]] = []
    for i, (ident, name, _) in enumerate(_ROUTES):
        for space in _SPACES if i < 3 else _SPACES[:1]:
            created = ts(-200 + i * 7)
            routes.append({"type": "route", "identifier": ident, "space": space, "name": name,
                           "disabled": i == 6 and space == "acme-prod", "createdAt": created,
                           "updatedAt": created + dt.timedelta(days=r.randrange(1, 90))})
    editors = [u for u, _ in _USERS]
    for i, (ident, name, entity) in enumerate(_ROUTES):
        source, target = ident.split("-to-")[0].split("-")[0], ident.split("-to-")[1]
        parts = [
            ("incoming", f"{source}-{entity}s-incoming", f"{source.title()} {entity}s incoming",
             {"prototype": "http-subscriber", "parameters": {"request": {"uri": f"https://{source}.example/api/{entity}s"}}}),
            ("outgoing", f"{target}-{entity}s-outgoing", f"{target.title()} {entity}s outgoing",
             {"prototype": "http-publisher", "parameters": {"method": "post"}}),
            ("transformer", f"map-{entity}-{source}-to-{target}", f"Map {entity} {source} to {target}",
             {"prototype": "data-mapper", "parameters": {"mappers": [{"from": "id", "to": "externalId"}]}}),
            ("route", ident, name, {"prototype": "route", "parameters": {"incoming": f"{source}-{entity}s-incoming"}}),
        ]
        if i % 3 == 0:
            parts.append(("http-client", f"{source}-client", f"{source.title()} HTTP client",
                          {"prototype": "oauth2", "parameters": {"baseUri": f"https://{source}.example"}}))
        if i % 2 == 0:
            parts.append(("storage", f"{entity}-{source}-hashes", f"{entity.title()} hashes ({source})",
                          {"prototype": "database", "parameters": {"ttl": "P30D"}}))
        for type_, cid, cname, obj in parts:
            if any(c["type"] == type_ and c["identifier"] == cid for c in configs):
                continue
            created = ts(-180 + len(configs))
            configs.append({
                "type": type_, "identifier": cid, "name": cname,
                "description": "" if r.random() < 0.4 else f"{cname} (managed by the integration team)",
                "object": obj, "context": {}, "owner": None if r.random() < 0.7 else "acme-integrations",
                "removable": r.random() < 0.8, "resettable": False, "disabled": r.random() < 0.1,
                "createdAt": created,
                "updatedAt": None if r.random() < 0.1 else created + dt.timedelta(hours=r.randrange(1, 2000)),
                "editor": r.choice(editors),
                "label": r.sample(["erp", "webshop", "critical", "nightly"], r.randrange(0, 3)),
                "tag": r.sample(["v2", "migrated", "beta"], r.randrange(0, 2)),
            })  # fmt: skip
    sb.rows["routes"], sb.rows["configurations"] = routes, configs

    tasks: list[dict[str, Any]] = []
    for n in range(720):
        ident, _, entity = _ROUTES[n % len(_ROUTES)]
        # every route has tasks in every status (n // 8 cycles the statuses per route)
        status = TASK_STATUSES[(n // len(_ROUTES)) % len(TASK_STATUSES)] if n < 8 * 5 else r.choices(
            TASK_STATUSES, weights=(10, 3, 70, 12, 5))[0]
        created = ts(-60 + n * 60 / 720)
        number = 100000 + r.randrange(900000)
        data: dict[str, Any] = {"id": number, "store": r.choice(["nl", "be", "de"])}
        if w is not None and entity in ("order", "product", "customer"):  # the shared business's keys
            data |= _business_entity(w, entity, n)
        elif entity == "order":
            data |= {"incrementId": f"NL{number}", "grandTotal": round(r.uniform(5, 900), 2),
                     "customer": {"email": f"customer{r.randrange(300)}@mail.example",
                                  "group": r.choice(["retail", "b2b"])},
                     "items": [{"sku": f"SKU-{r.randrange(1000):04d}", "qty": r.randrange(1, 5)}
                               for _ in range(r.randrange(1, 4))]}
        elif entity == "product":
            data |= {"sku": f"SKU-{r.randrange(1000):04d}", "stock": r.randrange(0, 500),
                     "price": round(r.uniform(1, 300), 2)}
        elif entity == "customer":
            data |= {"email": f"customer{r.randrange(300)}@mail.example", "group": r.choice(["retail", "b2b"])}
        else:
            data |= {"trackAndTrace": f"3S{r.randrange(10**9):09d}", "carrier": r.choice(["postnl", "dhl", "dpd"])}
        tasks.append({"identifier": f"{r.getrandbits(48):012x}{n:04x}", "entityType": entity, "entityData": data,
                      "entityIdentifier": str(number), "status": status, "route": ident, "createdAt": created,
                      "updatedAt": created + dt.timedelta(seconds=r.randrange(0, 7200))})
    sb.rows["tasks"] = tasks

    stats: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for t in tasks:
        key = ("acme-prod", t["createdAt"].date())
        row = stats.setdefault(key, {"identifier": f"{key[0]}-{key[1].isoformat()}", "spaceIdentifier": key[0],
                                     "date": key[1], **{s: 0 for s in TASK_STATUSES}})
        row[t["status"]] += 1
    sb.rows["task_statistics"] = [stats[k] for k in sorted(stats)]

    sb.rows["environment_variables"] = [
        {"name": name, "description": desc, "value": "" if enc else value, "encrypted": enc, "default": default}
        for name, desc, value, enc, default in [
            ("ERP_BASE_URL", "Base URL of the ERP API", "https://erp.acme.example/api", False, False),
            ("ERP_API_KEY", "ERP API key", "s3cr3t", True, False),
            ("MAGENTO_BASE_URL", "Magento 2 REST base URL", "https://shop.acme.example/rest/V1", False, False),
            ("MAGENTO_TOKEN", "Magento integration token", "tok", True, False),
            ("SHOPIFY_SHOP", "Shopify shop name", "acme-store", False, False),
            ("SHOPIFY_ACCESS_TOKEN", "Shopify admin token", "tok", True, False),
            ("BOL_CLIENT_ID", "Bol.com client id", "bol-client-123", False, False),
            ("BOL_CLIENT_SECRET", None, "sec", True, False),
            ("WMS_SFTP_HOST", "WMS SFTP host", "sftp.wms.example", False, False),
            ("DEFAULT_STORE", "Default store view", "nl", False, True),
            ("BATCH_SIZE", "Records per batch", "250", False, True),
            ("NOTIFY_EMAIL", "Where failure e-mails go", "integrations@acme.example", False, False),
        ]
    ]  # fmt: skip
    sb.rows["users"] = [{"email": e, "roles": list(roles)} for e, roles in _USERS]

    audit = []
    for n in range(160):
        cfg = r.choice(configs)
        action = r.choice(["create", "update", "update", "update", "delete", "login"])
        audit.append({
            "identifier": f"{n + 1:08d}-{r.getrandbits(32):08x}", "user": r.choice(editors),
            "spaceIdentifier": "acme-prod",
            "action": action, "category": "authentication" if action == "login" else "configuration",
            "ipAddress": f"192.0.2.{r.randrange(1, 255)}",
            "message": "User logged in" if action == "login"
            else f"{action.title()}d {cfg['type']} {cfg['identifier']}",
            "request": {"method": "POST" if action != "login" else "GET",
                        "path": f"/api/v1/configurations/{cfg['type']}"},
            "createdAt": ts(-90 + n * 0.5),
        })  # fmt: skip
    sb.rows["audit_trail"] = audit

    procs = []
    for n in range(140):
        ident, _, _ = _ROUTES[n % len(_ROUTES)]
        status = r.choices(["scheduled", "running", "finished", "failed", "killed"], weights=(8, 4, 70, 12, 3))[0]
        created = ts(-14 + n * 0.1)
        started = None if status == "scheduled" else created + dt.timedelta(seconds=r.randrange(1, 120))
        run = r.randrange(1, 900)
        ends = status in ("finished", "failed", "killed")  # never a scheduled one: started is set
        finished = started + dt.timedelta(seconds=run) if ends and started is not None else None
        command = r.choice(["incoming:run", "outgoing:run", "route:run"])
        procs.append({
            "status": status, "identifier": f"proc-{n + 1:05d}", "jobId": f"job-{n // 4 + 1:04d}",
            "priority": r.randrange(1, 6), "routingKey": f"queue.{command.split(':')[0]}", "command": command,
            "arguments": f"--route={ident}", "createdAt": created, "startedAt": started, "finishedAt": finished,
            "processTime": None if started is None else round(run * r.uniform(0.2, 0.9), 3),
            "runTime": None if finished is None else run, "meta": {"flags": ["retry"] if r.random() < 0.1 else []},
        })  # fmt: skip
    sb.rows["queue_processes"] = procs

    sb.storages = {}
    for storage, count in (("product-hashes", 60), ("order-sync-state", 25), ("customer-map", 40)):
        entities: dict[str, tuple[Any, dt.datetime]] = {}
        for k in range(count):
            if w is not None:
                name, value = _business_storage(w, storage, k, r)
            elif storage == "product-hashes":
                name, value = f"SKU-{k * 7:04d}", {"hash": f"{r.getrandbits(64):016x}", "stock": r.randrange(500)}
            elif storage == "order-sync-state":
                name, value = f"NL{100000 + k * 37}", {"status": r.choice(["exported", "shipped", "cancelled"]),
                                                     "attempts": r.randrange(1, 4)}
            else:
                name, value = f"customer{k}", {"crmId": f"CRM-{r.randrange(10**6):06d}", "erpId": r.randrange(10**5),
                                              "email": f"customer{k}@mail.example"}
            entities[name] = (value, ts(-30 + k * 0.3))
        sb.storages[storage] = entities

    # drawn last, so the data above stays what it was before these resources existed
    sb.rows["system_administrators"] = [{"email": "ops@alumio.example", "roles": ["ROLE_SYSTEM_ADMINISTRATOR"]},
                                        {"email": "anna.devries@acme.example", "roles": ["ROLE_SYSTEM_ADMINISTRATOR"]}]
    sb.rows["api_tokens"] = [
        {"identifier": f"tok-{i:04d}", "name": name, "createdAt": ts(-300 + 40 * i), "createdBy": r.choice(editors),
         "description": desc, "lastUsed": None if i == 3 else ts(-r.randrange(0, 20))}
        for i, (name, desc) in enumerate([("erp-connector", "ERP pushes orders"), ("monitoring", None),
                                          ("magento-webhook", "Magento order webhooks"), ("old-ci", "unused")])
    ]  # fmt: skip
    sb.rows["maintenance_windows"] = [
        {"identifier": f"mw-{i:03d}", "dateStart": ts(-170 + 28 * i), "dateEnd": ts(-170 + 28 * i + 0.125),
         "timezone": "Europe/Amsterdam", "createdAt": ts(-180 + 28 * i)} for i in range(7)
    ]  # fmt: skip


def _business_entity(w: World, entity: str, n: int) -> dict[str, Any]:
    """An order, product or customer of the shared business, as the webshop's JSON carries it."""
    o = w.orders[n % len(w.orders)]
    c, p = w.customers[o.customer - 1], w.products[o.product - 1]
    if entity == "order":
        return {"incrementId": o.number, "grandTotal": o.total, "customer": {"email": c.email, "group": "b2b"},
                "items": [{"sku": p.sku, "qty": o.quantity}]}
    return {"sku": p.sku, "stock": 5 * o.quantity, "price": p.price} if entity == "product" else {
        "email": c.email, "group": "b2b"}


def _business_storage(w: World, storage: str, k: int, r: random.Random) -> tuple[str, dict[str, Any]]:
    if storage == "product-hashes":
        p = w.products[k % len(w.products)]
        return p.sku, {"hash": f"{r.getrandbits(64):016x}", "stock": r.randrange(500)}
    if storage == "order-sync-state":
        o = w.orders[-1 - k]
        return o.number, {"status": {"paid": "exported"}.get(o.status, o.status), "attempts": r.randrange(1, 3)}
    c = w.customers[k % len(w.customers)]
    return f"CUST-{c.key:04d}", {"crmId": f"CRM-{r.randrange(10**6):06d}", "erpId": 20000 + c.key, "email": c.email}


SANDBOX = AlumioSandbox
