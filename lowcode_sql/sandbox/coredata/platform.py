"""The CoreData emulator: routing (tastypie URLs, Django ``APPEND_SLASH``), list and detail answers,
the schema, and data loading.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

import pyarrow as pa

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response
from lowcode_sql.sandbox.coredata import auth, filters, paging
from lowcode_sql.sandbox.coredata.data import _FIELDS, _kind_of_arrow, _new_resource, _Resource
from lowcode_sql.sandbox.coredata.filters import _FILTERING, _ORDERING_FIELDS
from lowcode_sql.sandbox.coredata.sample import _SampleBuilder
from lowcode_sql.sandbox.coredata.values import BASE, DEFAULT_LIMIT, _BadRequest, _norm_uuid, _to_json

_CONTACT_SUBRESOURCES = ("projects", "files", "tasks")


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class CoreDataSandbox(Platform):
    """In-memory CoreData API v2 (django-tastypie) emulator."""

    name = "coredata"
    #: what ``lowcode_sql.demo()`` and sandbox sources log in with
    DEMO_CREDENTIALS = {"user": "demo", "key": "demo-key"}
    DEMO_OPTIONS: dict[str, Any] = {}
    #: issue 13: plausible answers the seed leaves open (see ``Platform.VARIANTS``)
    VARIANTS = {
        # docs/notes/coredata-api.md: only an example response shows projects carrying an identifier; tastypie
        # ignores a filter on a field it does not know ("Move along citizen")
        "ignore_unknown_filters": "projects do not filter on identifier: identifier filters there are ignored",
    }

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        max_limit: int = 1000,
        ordering: bool = False,
        sample_data: bool | str = True,
        **kw: Any,
    ) -> None:
        super().__init__(sample_data=sample_data, **kw)
        self.users: dict[str, str] = dict(users) if users is not None else {"demo": "demo-key"}
        self.max_limit = max_limit  # tastypie Paginator default (notes: CoreData's own value unknown)
        self.ordering = ordering
        self.resources: dict[str, _Resource] = {}
        for name in _FILTERING:
            self.resources[name] = self._new_resource(name, {})
        if self.sample_data:
            self.load_sample_data()

    # -- framework hooks ---------------------------------------------------------------------

    def error_response(self, status: int, message: str) -> Response:
        # tastypie ``wrap_view``: ``{"error": ...}`` for BadRequest and friends.
        return json_response({"error": message}, status)

    def handle(self, request: Request) -> Response:
        path = request.path
        if not (path.startswith(BASE) or path == BASE.rstrip("/")):
            return _not_found_page()
        if not path.endswith("/"):
            # Django APPEND_SLASH (tastypie's URL patterns end in "/").
            qs = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in request.query)
            location = quote(path + "/") + (f"?{qs}" if qs else "")
            return Response(301, None, {"location": location})
        parts = [p for p in path[len(BASE) :].split("/") if p]
        if request.method not in ("GET", "HEAD"):
            return Response(405, None, {"allow": "GET"})  # tastypie ``method_check``: HttpMethodNotAllowed
        if not parts:
            return json_response(
                {
                    name: {"list_endpoint": f"{BASE}{name}/", "schema": f"{BASE}{name}/schema/"}
                    for name in self.resources
                }
            )
        res = self.resources.get(parts[0])
        if res is None or len(parts) > 3:
            return _not_found_page()
        if not self._authenticated(request):
            # tastypie ``Resource.is_authenticated`` -> ``HttpUnauthorized``.
            return self.error_response(401, "Unauthorized")
        try:
            if len(parts) == 1:
                return self._list(res, request, range(len(res.objects)), f"{BASE}{res.name}/")
            if len(parts) == 2:
                if parts[1] == "schema":
                    return json_response(self._schema(res))
                return self._detail(res, parts[1])
            # /api/v2/contacts/<id>/<sub>/ (seed "Filtering by Contact" [2]-[4])
            sub = self.resources.get(parts[2])
            if res.name != "contacts" or parts[2] not in _CONTACT_SUBRESOURCES or sub is None:
                return _not_found_page()
            cid = _norm_uuid(parts[1])
            if cid not in res.by_id:
                return Response(404, None)
            rows = [i for i in range(len(sub.objects)) if cid in (sub.typed_value(i, "associated_contacts_id") or [])]
            return self._list(sub, request, rows, path)
        except _BadRequest as e:
            return self.error_response(400, str(e))

    # -- auth (auth.py) -----------------------------------------------------------------------

    def _authenticated(self, request: Request) -> bool:
        return auth._authenticated(request, self.users)

    # -- list / detail -----------------------------------------------------------------------

    def _detail(self, res: _Resource, ident: str) -> Response:
        i = res.by_id.get(_norm_uuid(ident))
        if i is None:
            return Response(404, None)  # tastypie ``HttpNotFound()``: empty body
        return json_response(res.objects[i])

    def _list(self, res: _Resource, request: Request, rows: Iterable[int], uri: str) -> Response:
        preds = self._build_filters(res, request)
        selected: Sequence[int]
        if not preds and not request.args("order_by"):
            selected = rows if isinstance(rows, range) else list(rows)  # a range slices in O(page)
        else:
            # filtered or sorted: the same answer for every page of one query (lowcode_sql/sandbox/_index.py)
            key = (uri, self.ordering, tuple(kv for kv in request.query if kv[0] not in ("limit", "offset")))
            selected = res.memo.get(res.stamp(), key, lambda: self._apply_sorting(
                res, request, [i for i in rows if all(p(i) for p in preds)]))
        limit, offset = self._limit(request), self._offset(request)
        count = len(selected)
        page = selected[offset:] if limit == 0 else selected[offset : offset + limit]
        meta: dict[str, Any] = {"limit": limit, "offset": offset, "total_count": count}
        if limit:
            meta["previous"] = None if offset - limit < 0 else self._page_uri(uri, request, limit, offset - limit)
            meta["next"] = None if offset + limit >= count else self._page_uri(uri, request, limit, offset + limit)
        meta = {k: meta[k] for k in ("limit", "next", "offset", "previous", "total_count") if k in meta}
        return json_response({"meta": meta, "objects": [res.objects[i] for i in page]})

    # -- paging (paging.py); methods because benchmarks/_common.py's BenchCoreDataSandbox reuses them

    def _limit(self, request: Request) -> int:
        return paging._limit(request, self.max_limit)

    def _offset(self, request: Request) -> int:
        return paging._offset(request)

    @staticmethod
    def _page_uri(uri: str, request: Request, limit: int, offset: int) -> str:
        return paging._page_uri(uri, request, limit, offset)

    def _schema(self, res: _Resource) -> dict[str, Any]:
        types = {"str": "string", "datetime": "datetime", "uuid": "string", "uuidlist": "related",
                 "int": "integer", "number": "float", "bool": "boolean", "list": "list"}  # fmt: skip
        return {
            "allowed_detail_http_methods": ["get"],
            "allowed_list_http_methods": ["get"],
            "default_format": "application/json",
            "default_limit": DEFAULT_LIMIT,
            "fields": {n: {"type": types.get(k, "string"), "nullable": True} for n, k in res.fields.items()},
            "filtering": {n: sorted(v) for n, v in res.filtering.items()},
            "ordering": list(res.ordering) if self.ordering else [],
        }

    # -- filtering and ordering (filters.py) ---------------------------------------------------

    def _build_filters(self, res: _Resource, request: Request) -> list[Callable[[int], bool]]:
        if self.variant("ignore_unknown_filters") and res.name == "projects":
            kept = [(k, v) for k, v in request.query if k.split("__")[0] != "identifier"]
            request = Request(request.method, request.path, kept, request.headers, request.body)
        return filters._build_filters(res, request, self.strict)

    def _apply_sorting(self, res: _Resource, request: Request, rows: list[int]) -> list[int]:
        return filters._apply_sorting(res, request, rows, self.ordering)

    # -- data loading (data.py, sample.py) -----------------------------------------------------

    def _new_resource(self, name: str, kinds: dict[str, str], options: dict[str, Any] | None = None) -> _Resource:
        return _new_resource(name, kinds, options)

    def load_table(self, name: str, table: pa.Table, **options: Any) -> None:
        """Replace (or define) resource ``name`` with the rows of an Arrow table.

        CoreData's resources are fixed (projects, tasks, files, contacts, spaces), and so are their
        fields: a name or a column outside them is refused with what can be served, since SQL would
        never see it. ``unchecked=True`` serves them over HTTP all the same (the emulator's own
        tests); another resource takes ``filtering`` ({field: [lookups]}) and ``ordering``
        ([fields]) (the known resources keep their whitelists).
        """
        known = name in _FILTERING
        options = dict(options)
        if not options.pop("unchecked", False):
            if name not in _FIELDS:
                raise ValueError(f"coredata serves the fixed resources {', '.join(_FIELDS)}, not {name!r} "
                                 "(unchecked=True serves it over HTTP only: it is no SQL table)")
            extra = sorted(set(table.column_names) - _FIELDS[name])
            if extra:
                raise ValueError(f"coredata {name} has no field {', '.join(map(repr, extra))}: its fields are "
                                 f"{', '.join(sorted(_FIELDS[name]))}")
        kinds = {f.name: _kind_of_arrow(f.name, f.type, known) for f in table.schema}
        kinds.setdefault("id", "str")
        kinds.setdefault("resource_uri", "str")
        res = self._new_resource(name, kinds, options)
        if known:
            res.ordering = tuple(f for f in _ORDERING_FIELDS if f in kinds)
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"lowcode-sql:coredata:{self.seed}")
        for n, row in enumerate(table.to_pylist()):
            raw_dt = {k: row[k] for k, kind in kinds.items() if kind == "datetime" and row.get(k) is not None}
            obj = {k: _to_json(v) for k, v in row.items()}
            if obj.get("id") is None:
                obj["id"] = str(uuid.uuid5(namespace, f"{name}:{n}"))
            else:
                obj["id"] = str(obj["id"])
            obj.setdefault("resource_uri", f"{BASE}{name}/{obj['id']}/")
            if obj["resource_uri"] is None:
                obj["resource_uri"] = f"{BASE}{name}/{obj['id']}/"
            res.add(obj, hidden=raw_dt)  # datetimes compare as datetimes, not strings
        self.resources[name] = res

    def load_sample_data(self) -> None:
        """Deterministic sample data from ``random.Random(self.seed)``: the shared business, or the edge
        cases the tests need (``sample_data="traps"``)."""
        from lowcode_sql.sandbox.coredata.business import BusinessBuilder

        builder = BusinessBuilder if self.sample == "business" else _SampleBuilder
        builder(self, random.Random(self.seed)).build()


def _not_found_page() -> Response:
    """Django's 404 for a URL no resource matches (HTML, not JSON)."""
    return Response(404, b"<h1>Not Found</h1>", {"content-type": "text/html; charset=utf-8"})

