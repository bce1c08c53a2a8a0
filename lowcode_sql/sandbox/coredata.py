"""CoreData (coredata.is / Wise) API v2 emulator.

Written from the CoreData seed (https://docs.wise.is/cored/api-v2, the public
"API v2" page) and its notes (docs/notes/coredata-api.md), independent of ``dialect.coredata``. The
real service is django-tastypie (notes "Framework"), so where the seed is silent this follows tastypie's
own code (``paginator.py``, ``resources.py``, ``authentication.py``) and Django's lookup rules
on PostgreSQL.

Endpoints (all ``GET``; anything else is 405 like a tastypie resource that only allows GET):

* ``/api/v2/``: tastypie's top-level listing (``list_endpoint``/``schema`` per resource).
* ``/api/v2/<res>/``: list, ``{"meta": {...}, "objects": [...]}``.
* ``/api/v2/<res>/<id>/``: the bare object (seed: "A single-object GET returns the bare object");
  404 with an empty body when missing (tastypie's ``HttpNotFound``).
* ``/api/v2/<res>/schema/``: tastypie's schema (fields, ``filtering``, ``ordering``, ``default_limit``).
* ``/api/v2/contacts/<id>/{projects,files,tasks}/``: seed "Filtering by Contact" [2]-[4]; the same
  as ``/api/v2/<res>/?associated_contacts_id=<id>`` (404 when the contact does not exist).
* A path without its trailing slash answers 301 to the slashed path (Django ``APPEND_SLASH``).

Auth: ``Authorization: apikey USER:KEY`` (seed; tastypie ``ApiKeyAuthentication`` compares the
scheme case-insensitively, its own spelling is ``ApiKey``), or tastypie's fallback query
parameters ``username=`` and ``api_key=``. Otherwise 401 ``{"error": "Unauthorized"}``. HTTP Basic
(which the koddsson client uses) is not emulated.

Record shapes (field sets copied from the real responses in ``koddsson/coredata-python-client``
``tests/json/get_single_*.json`` and the seed's examples; every object also has ``id`` (uuid),
``snapshot_id`` (uuid, seed "Endpoint response format"), ``resource_uri`` "/api/v2/<res>/<id>/",
``created``/``modified`` as naive ISO "YYYY-MM-DDTHH:MM:SS[.ffffff]", ``created_by``/``modified_by``
(display name or null), ``description``, ``tags`` (list of str), ``aspects`` (object), ``dynatype``,
``title``, ``type`` and ``version``):

* ``spaces``: + ``is_hidden`` (bool), ``path``, ``status``, ``template`` (null); ``dynatype`` is {}.
* ``projects``: + ``identifier`` ("2014-16" style, nullable), ``space`` {id,title},
  ``associated_contacts_id`` (list of contact ids), ``contacts`` (list of {id,title} of the same
  contacts: shape chosen here, the real sample only shows ``[]``), ``associated_users``,
  ``connected_users`` (usernames), ``responsible_users`` ({first_name,last_name,username}),
  ``due_date`` (naive ISO or null), ``status``, ``status_message``.
* ``tasks``: the project fields minus ``identifier``, plus ``project`` {id,identifier,title}.
* ``files``: + ``filename``, ``mime_type``, ``size`` (int), ``digest`` (md5 hex or ""),
  ``category``, ``parent`` (uuid of a folder, or null for files at a space's root), ``folder``
  (null), ``owner`` (null), ``project`` ({id,identifier,title} or null), ``space`` {id,title}.
  Files' contact associations are hidden (the real file sample has no ``associated_contacts_id``
  field, yet the seed documents the filter on files).
* ``contacts``: + ``identifier`` (SSN-like digits, "" or null), ``emails`` [{email,label}],
  ``phones`` [{label,number}], ``contact_addresses`` [], ``urls`` [], ``organization`` ({id,title}
  or null), ``role``, ``status``.

NULLs occur in ``title`` (a few of every resource but spaces), ``identifier``, ``description``, ``due_date``,
``created_by``, ``modified_by``, ``parent``, ``project`` and ``modified`` (a few records; chosen
here so that NULL handling of date filters and ordering is exercised). ``created`` is never null.

Filters (tastypie ``build_filters``/``check_filtering``; seed "Filtering"; notes date table):

==============  ===========================================================================
resource        whitelist (field: lookups; ``exact`` is implied, also as ``__exact``)
==============  ===========================================================================
projects        title: startswith; identifier: startswith; associated_contacts_id;
                created/modified: gt gte lt lte range
files           title: startswith; parent; associated_contacts_id; created/modified: ...
tasks           title: startswith; associated_contacts_id; created/modified: ...
contacts        title: startswith; identifier: startswith; created/modified: ...
spaces          (none: the seed lists only contacts, files, projects and tasks)
==============  ===========================================================================

tastypie quirks kept on purpose:

* A parameter naming no field of the resource is silently ignored (``build_filters``: "It's not a
  field we know about. Move along citizen."); the koddsson client relies on that (it always sends
  ``sync=true``). ``strict=True`` turns those into 400s. A field that exists but is not whitelisted
  gives 400 "The 'x' field does not allow filtering."; a lookup not whitelisted gives
  "'gt' is not an allowed filter on the 'title' field."; ``title__foo`` gives
  "The 'title' field does not support relations.".
* Values ``true``/``True`` and ``false``/``False`` become booleans, and ``nil``/``none``/``None``
  become None (``filter_value_to_python``): ``title=None`` is ``title IS NULL`` and ``title=true``
  matches the title "True"; None with any lookup but exact is 400 (Django "Cannot use None as a
  query value" -> tastypie "Invalid resource lookup data provided (mismatched type).").
* ``__range`` values are every value of the repeated key, each split on commas (``getlist``);
  any other repeated key: the last value wins (``QueryDict.get``). A range needs exactly two.
* Strings compare like Django on PostgreSQL: ``exact`` is ``=``, ``startswith`` is a case-
  sensitive ``LIKE 'p%'`` with ``%``/``_``/``\\`` escaped, i.e. a literal prefix.
* Date values: Django ``DateTimeField.to_python``: ``YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]``
  or a bare date (= midnight). A zone is converted to UTC and dropped: the stored timestamps are
  naive and assumed to be UTC (CoreData is Icelandic; Reykjavik is UTC all year) [inferred].
  Anything else is 400. A filter on a NULL value never matches (SQL), except ``=None``.
* ``parent``/``associated_contacts_id`` values must be UUIDs (Django ``UUIDField``, any case,
  with or without dashes), otherwise 400.

Paging (tastypie ``Paginator``): ``limit`` default 20, ``limit=0`` or more than ``max_limit`` ->
``max_limit`` (``max_limit=0`` disables the cap, and then ``limit=0`` returns everything and the
meta has no ``next``/``previous``); ``offset`` default 0; both parsed with Python ``int()``;
negative or non-integer -> 400. ``previous`` is null whenever ``offset - limit < 0`` (so
offset=5, limit=20 has no previous link). Links keep every other query parameter (including
``username``/``api_key``), grouped by key, with ``limit`` and ``offset`` moved to the end, encoded
like ``QueryDict.urlencode`` (``quote_plus``).

Ordering (tastypie ``apply_sorting``; CoreData support unknown, notes "What remains unknown"):
only with ``ordering=True``; ``order_by=f``/``-f``, repeatable, on title, identifier, created and
modified where the resource has them. NULLs last ascending and first descending (PostgreSQL);
strings in code point order (PostgreSQL "C" collation; the real collation is unknown); ties keep
insertion order. Without it: 400 "The 'title' field does not allow ordering.".

Errors are tastypie's ``{"error": "..."}`` (Django ``ValidationError`` messages are given as one
string rather than tastypie's list).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import random
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CoreDataSandbox"]

BASE = "/api/v2/"
DEFAULT_LIMIT = 20  # seed "Limit and offset": "default is 20"

# Parameters that are never filters (tastypie paginator/sorting/auth/serializer parameters).
_RESERVED = frozenset({"limit", "offset", "order_by", "format", "username", "api_key"})

# Django's lookup names (``QUERY_TERMS`` in the Django versions tastypie supports).
_QUERY_TERMS = frozenset(
    {
        "exact", "iexact", "contains", "icontains", "gt", "gte", "lt", "lte", "in", "startswith",
        "istartswith", "endswith", "iendswith", "range", "year", "month", "day", "week_day", "hour",
        "minute", "second", "isnull", "search", "regex", "iregex", "date", "time", "quarter",
        "week", "iso_year", "iso_week_day",
    }
)  # fmt: skip

_DATE_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte", "range"})
_TITLE_LOOKUPS = frozenset({"exact", "startswith"})

# Per-resource whitelists (seed "Filtering"; notes).
_FILTERING: dict[str, dict[str, frozenset[str]]] = {
    "projects": {
        "title": _TITLE_LOOKUPS,
        # The notes response example shows projects carry an identifier ("2014-16").
        "identifier": _TITLE_LOOKUPS,
        "associated_contacts_id": frozenset({"exact"}),
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "files": {
        "title": _TITLE_LOOKUPS,
        "parent": frozenset({"exact"}),  # seed "Filtering by parent"
        "associated_contacts_id": frozenset({"exact"}),  # seed "Filtering by Contact" [1] for files
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "tasks": {
        "title": _TITLE_LOOKUPS,
        "associated_contacts_id": frozenset({"exact"}),  # seed "Filtering by Contact" [2] for tasks
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "contacts": {
        "title": _TITLE_LOOKUPS,
        "identifier": _TITLE_LOOKUPS,  # seed: ?identifier=$SSN / ?identifier__startswith=$SSN_PREFIX
        "created": _DATE_LOOKUPS,
        "modified": _DATE_LOOKUPS,
    },
    "spaces": {},
}
_ORDERING_FIELDS = ("title", "identifier", "created", "modified")
_KNOWN_KINDS = {
    "title": "str",
    "identifier": "str",
    "description": "str",
    "created": "datetime",
    "modified": "datetime",
    "parent": "uuid",
    "associated_contacts_id": "uuidlist",
}
_CONTACT_SUBRESOURCES = ("projects", "files", "tasks")

# Django ``parse_datetime``/``parse_date`` (the regular-expression versions).
_DATETIME_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"\s*(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DATE_RE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


class _BadRequest(Exception):
    """A tastypie ``BadRequest``/``InvalidFilterError``/Django ``ValidationError`` -> 400."""


_MISMATCH = "Invalid resource lookup data provided (mismatched type)."


# --------------------------------------------------------------------------------------------
# Value conversion (Django field semantics)
# --------------------------------------------------------------------------------------------


def _parse_datetime(value: str) -> dt.datetime:
    """Django ``DateTimeField.to_python`` for a string; aware values -> naive UTC."""
    m = _DATETIME_RE.match(value)
    bad = f"\u201c{value}\u201d value has an invalid format. It must be in YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format."
    if m:
        kw = m.groupdict()
        tz = kw.pop("tzinfo")
        micro = kw.pop("microsecond")
        try:
            out = dt.datetime(
                **{k: int(v) for k, v in kw.items() if v is not None},
                microsecond=int(micro.ljust(6, "0")) if micro else 0,
            )
        except ValueError:
            raise _BadRequest(bad) from None
        if tz and tz != "Z":
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            out -= sign * offset  # to UTC
        return out
    m = _DATE_RE.match(value)
    if m:
        try:
            return dt.datetime(int(m["year"]), int(m["month"]), int(m["day"]))
        except ValueError:
            raise _BadRequest(
                f"\u201c{value}\u201d value has the correct format (YYYY-MM-DD) but it is an invalid date."
            ) from None
    raise _BadRequest(bad)


def _parse_uuid(value: str) -> str:
    """Django ``UUIDField.to_python``: any ``uuid.UUID`` hex form -> canonical string."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise _BadRequest(f"\u201c{value}\u201d is not a valid UUID.") from None


def _norm_uuid(value: Any) -> Any:
    """Canonical form of a stored id/uuid (left alone when it is not a uuid)."""
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value
    return value


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _to_json(value: Any) -> Any:
    """An Arrow/Python value as a JSON value (timestamps as naive ISO strings)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)  # tastypie DecimalField serialises as a string
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value) and isinstance(value, list):
            # Arrow map type: list of (key, value) pairs.
            return {str(k): _to_json(v) for k, v in value}
        return [_to_json(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------


@dataclass
class _Resource:
    name: str
    objects: list[dict[str, Any]] = field(default_factory=list)
    # Per object: typed values of filterable/orderable fields + hidden association lists.
    typed: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[Any, int] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # field -> kind
    filtering: dict[str, frozenset[str]] = field(default_factory=dict)
    ordering: tuple[str, ...] = ()

    def typed_value(self, i: int, name: str) -> Any:
        return self.typed[i].get(name)

    def add(self, obj: dict[str, Any], hidden: dict[str, Any] | None = None) -> None:
        i = len(self.objects)
        obj = _sort_keys(obj)
        self.objects.append(obj)
        t: dict[str, Any] = {}
        for name, kind in self.fields.items():
            if hidden and name in hidden:
                t[name] = _typed(kind, hidden[name])
            elif name in obj:
                t[name] = _typed(kind, obj[name])
        self.typed.append(t)
        self.by_id.setdefault(_norm_uuid(obj["id"]), i)


def _typed(kind: str, value: Any) -> Any:
    """The stored comparison value for a field of ``kind``."""
    if value is None:
        return None
    if kind == "datetime":
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return _parse_datetime(value)
            except _BadRequest:
                return None
        return None
    if kind == "uuid":
        return _norm_uuid(value)
    if kind == "uuidlist":
        return [_norm_uuid(v) for v in value] if isinstance(value, list) else [_norm_uuid(value)]
    if kind == "number":
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return None
    return value


def _kind_of_arrow(name: str, typ: pa.DataType, known: bool) -> str:
    import pyarrow as pa

    if known and name in _KNOWN_KINDS:
        return _KNOWN_KINDS[name]
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        return "datetime"
    if name in ("created", "modified") and (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        return "datetime"
    if pa.types.is_boolean(typ):
        return "bool"
    if pa.types.is_integer(typ):
        return "int"
    if pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return "number"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        return "list"
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return "str"
    return "other"


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class CoreDataSandbox(Platform):
    """In-memory CoreData API v2 (django-tastypie) emulator."""

    name = "coredata"
    #: what ``lowcode_sql.demo()`` and sandbox sources log in with
    DEMO_CREDENTIALS = {"user": "demo", "key": "demo-key"}
    DEMO_OPTIONS: dict[str, Any] = {}

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        max_limit: int = 1000,
        ordering: bool = False,
        strict: bool = False,
        sample_data: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(sample_data=sample_data, **kw)
        self.users: dict[str, str] = dict(users) if users is not None else {"demo": "demo-key"}
        self.max_limit = max_limit  # tastypie Paginator default (notes: CoreData's own value unknown)
        self.ordering = ordering
        self.strict = strict
        self.resources: dict[str, _Resource] = {}
        for name in _FILTERING:
            self.resources[name] = self._new_resource(name, {})
        if sample_data:
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

    # -- auth --------------------------------------------------------------------------------

    def _authenticated(self, request: Request) -> bool:
        """tastypie ``ApiKeyAuthentication.extract_credentials`` + key check."""
        header = request.header("authorization") or ""
        if header.lower().startswith("apikey "):
            bits = header.split()
            if len(bits) != 2 or bits[0].lower() != "apikey" or ":" not in bits[1]:
                return False
            username, api_key = bits[1].split(":", 1)
        else:
            username = request.arg("username") or ""
            api_key = request.arg("api_key") or ""
        if not username or not api_key:
            return False
        return self.users.get(username) == api_key

    # -- list / detail -----------------------------------------------------------------------

    def _detail(self, res: _Resource, ident: str) -> Response:
        i = res.by_id.get(_norm_uuid(ident))
        if i is None:
            return Response(404, None)  # tastypie ``HttpNotFound()``: empty body
        return json_response(res.objects[i])

    def _list(self, res: _Resource, request: Request, rows: Iterable[int], uri: str) -> Response:
        preds = self._build_filters(res, request)
        selected = [i for i in rows if all(p(i) for p in preds)]
        selected = self._apply_sorting(res, request, selected)
        limit, offset = self._limit(request), self._offset(request)
        count = len(selected)
        page = selected[offset:] if limit == 0 else selected[offset : offset + limit]
        meta: dict[str, Any] = {"limit": limit, "offset": offset, "total_count": count}
        if limit:
            meta["previous"] = None if offset - limit < 0 else self._page_uri(uri, request, limit, offset - limit)
            meta["next"] = None if offset + limit >= count else self._page_uri(uri, request, limit, offset + limit)
        meta = {k: meta[k] for k in ("limit", "next", "offset", "previous", "total_count") if k in meta}
        return json_response({"meta": meta, "objects": [res.objects[i] for i in page]})

    def _limit(self, request: Request) -> int:
        """tastypie ``Paginator.get_limit``."""
        raw = request.arg("limit")
        if raw is None:
            limit = DEFAULT_LIMIT
        else:
            try:
                limit = int(raw)
            except ValueError:
                raise _BadRequest(f"Invalid limit '{raw}' provided. Please provide a positive integer.") from None
            if limit < 0:
                raise _BadRequest(f"Invalid limit '{raw}' provided. Please provide a positive integer >= 0.")
        if self.max_limit and (not limit or limit > self.max_limit):
            return self.max_limit
        return limit

    def _offset(self, request: Request) -> int:
        """tastypie ``Paginator.get_offset``."""
        raw = request.arg("offset")
        if raw is None:
            return 0
        try:
            offset = int(raw)
        except ValueError:
            raise _BadRequest(f"Invalid offset '{raw}' provided. Please provide an integer.") from None
        if offset < 0:
            raise _BadRequest(f"Invalid offset '{raw}' provided. Please provide a positive integer >= 0.")
        return offset

    @staticmethod
    def _page_uri(uri: str, request: Request, limit: int, offset: int) -> str:
        """tastypie ``Paginator._generate_uri`` over a ``QueryDict`` (keys grouped, limit/offset last)."""
        grouped: dict[str, list[str]] = {}
        for k, v in request.query:
            if k not in ("limit", "offset"):
                grouped.setdefault(k, []).append(v)
        grouped["limit"] = [str(limit)]
        grouped["offset"] = [str(offset)]
        qs = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, vs in grouped.items() for v in vs)
        return f"{uri}?{qs}"

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

    # -- filtering ---------------------------------------------------------------------------

    def _build_filters(self, res: _Resource, request: Request) -> list[Callable[[int], bool]]:
        """tastypie ``build_filters`` + ``check_filtering`` + ``filter_value_to_python``."""
        last: dict[str, str] = {}
        for k, v in request.query:
            last[k] = v  # QueryDict.items(): the last value of each key
        preds: list[Callable[[int], bool]] = []
        for expr, raw in last.items():
            if expr in _RESERVED:
                continue
            bits = expr.split("__")
            fname = bits.pop(0)
            if fname not in res.fields:
                if self.strict:
                    raise _BadRequest(f"The '{fname}' field does not allow filtering.")
                continue  # "It's not a field we know about. Move along citizen."
            ftype = "exact"
            if bits and bits[-1] in _QUERY_TERMS:
                ftype = bits.pop()
            if fname not in res.filtering:
                raise _BadRequest(f"The '{fname}' field does not allow filtering.")
            if ftype != "exact" and ftype not in res.filtering[fname]:
                raise _BadRequest(f"'{ftype}' is not an allowed filter on the '{fname}' field.")
            if bits:
                raise _BadRequest(f"The '{fname}' field does not support relations.")
            value: Any = raw
            if raw in ("true", "True"):
                value = True
            elif raw in ("false", "False"):
                value = False
            elif raw in ("nil", "none", "None"):
                value = None
            if ftype in ("in", "range") and isinstance(value, str) and len(value):
                value = [part for v in request.args(expr) for part in v.split(",")]
            preds.append(self._predicate(res, fname, res.fields[fname], ftype, value))
        return preds

    def _predicate(self, res: _Resource, fname: str, kind: str, ftype: str, value: Any) -> Callable[[int], bool]:
        def get(i: int) -> Any:
            return res.typed_value(i, fname)

        if ftype == "isnull":
            want = bool(value) if not isinstance(value, str) else value.lower() not in ("", "0", "false")
            return lambda i: (get(i) in (None, [])) == want
        if value is None:
            if ftype != "exact":
                raise _BadRequest(_MISMATCH)
            # Django: ``field=None`` is ``IS NULL`` (for M2M: no related row).
            return lambda i: get(i) in (None, [])
        if ftype in ("in", "range"):
            if not isinstance(value, list):
                raise _BadRequest(_MISMATCH)
            items = [self._convert(kind, v) for v in value]
            if ftype == "range":
                if len(items) != 2:
                    raise _BadRequest(f"'{fname}__range' needs exactly two comma-separated values.")
                lo, hi = items
                return self._cmp(get, kind, lambda x: lo <= x <= hi)
            return self._cmp(get, kind, lambda x: x in items)
        v = self._convert(kind, value)
        ops: dict[str, Callable[[Any], bool]] = {
            "exact": lambda x: x == v,
            "gt": lambda x: x > v,
            "gte": lambda x: x >= v,
            "lt": lambda x: x < v,
            "lte": lambda x: x <= v,
        }
        if ftype in ops:
            return self._cmp(get, kind, ops[ftype])
        if ftype in ("startswith", "endswith", "contains", "istartswith", "iendswith", "icontains", "iexact"):
            s = str(v)
            fold = ftype.startswith("i")
            base = ftype[1:] if fold else ftype

            def text_op(x: Any) -> bool:
                if not isinstance(x, str):
                    x = str(x)
                a, b = (x.upper(), s.upper()) if fold else (x, s)  # PostgreSQL UPPER()
                if base == "startswith":
                    return a.startswith(b)
                if base == "endswith":
                    return a.endswith(b)
                if base == "contains":
                    return b in a
                return a == b

            return self._cmp(get, kind, text_op)
        raise _BadRequest(f"'{ftype}' is not an allowed filter on the '{fname}' field.")

    @staticmethod
    def _cmp(get: Callable[[int], Any], kind: str, op: Callable[[Any], bool]) -> Callable[[int], bool]:
        """A predicate that never matches NULL; lists (M2M) match when any element does."""

        def pred(i: int) -> bool:
            x = get(i)
            if x is None:
                return False
            if kind in ("uuidlist", "list"):
                return any(e is not None and _safe(op, e) for e in x)
            return _safe(op, x)

        return pred

    @staticmethod
    def _convert(kind: str, value: Any) -> Any:
        """A filter value as the field's Python type (Django ``get_prep_value``)."""
        if kind == "datetime":
            if not isinstance(value, str):
                raise _BadRequest(_MISMATCH)
            return _parse_datetime(value)
        if kind in ("uuid", "uuidlist"):
            if not isinstance(value, str):
                raise _BadRequest(_MISMATCH)
            return _parse_uuid(value)
        if kind == "int":
            try:
                return int(value)  # True -> 1, like IntegerField
            except ValueError:
                raise _BadRequest(_MISMATCH) from None
        if kind == "number":
            try:
                return decimal.Decimal(str(int(value)) if isinstance(value, bool) else value)
            except decimal.InvalidOperation:
                raise _BadRequest(_MISMATCH) from None
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if value in ("1", "t"):
                return True
            if value in ("0", "f"):
                return False
            raise _BadRequest(f"\u201c{value}\u201d value must be either True or False.")
        if isinstance(value, bool):
            return str(value)  # CharField.to_python(True) == "True"
        return value

    # -- ordering ----------------------------------------------------------------------------

    def _apply_sorting(self, res: _Resource, request: Request, rows: list[int]) -> list[int]:
        """tastypie ``apply_sorting`` with PostgreSQL NULL placement; stable (insertion order ties)."""
        specs = request.args("order_by")
        if not specs:
            return rows
        keys: list[tuple[str, bool]] = []
        for spec in specs:
            bits = spec.split("__")
            fname, desc = bits[0], False
            if fname.startswith("-"):
                fname, desc = fname[1:], True
            if fname not in res.fields:
                raise _BadRequest(f"No matching '{fname}' field for ordering on.")
            if not self.ordering or fname not in res.ordering:
                raise _BadRequest(f"The '{fname}' field does not allow ordering.")
            if len(bits) > 1:
                raise _BadRequest(f"The '{fname}' field does not support relations.")
            keys.append((fname, desc))
        out = list(rows)
        for fname, desc in reversed(keys):

            def key(i: int, fname: str = fname) -> tuple[Any, ...]:
                v = res.typed_value(i, fname)
                return (1,) if v is None else (0, v)

            # Ascending: NULLS LAST; descending (reverse=True, still stable): NULLS FIRST.
            out.sort(key=key, reverse=desc)
        return out

    # -- data loading ------------------------------------------------------------------------

    def _new_resource(self, name: str, kinds: dict[str, str], options: dict[str, Any] | None = None) -> _Resource:
        options = options or {}
        if name in _FILTERING:
            filtering = dict(_FILTERING[name])
            ordering = tuple(f for f in _ORDERING_FIELDS if f in kinds or not kinds)
        else:
            filtering = {k: frozenset(v) for k, v in options.get("filtering", {}).items()}
            ordering = tuple(options.get("ordering", ()))
        return _Resource(name=name, fields=dict(kinds), filtering=filtering, ordering=ordering)

    def load_table(self, name: str, table: pa.Table, **options: Any) -> None:
        """Replace (or define) resource ``name`` with the rows of an Arrow table.

        Options: ``filtering`` ({field: [lookups]}) and ``ordering`` ([fields]) for resources that
        are not CoreData's own (the known ones keep their whitelists).
        """
        known = name in _FILTERING
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
        """Deterministic sample data from ``random.Random(self.seed)``."""
        _SampleBuilder(self, random.Random(self.seed)).build()


def _not_found_page() -> Response:
    """Django's 404 for a URL no resource matches (HTML, not JSON)."""
    return Response(404, b"<h1>Not Found</h1>", {"content-type": "text/html; charset=utf-8"})


def _sort_keys(value: Any) -> Any:
    """tastypie serialises with ``json.dumps(..., sort_keys=True)``: keep objects in key order."""
    if isinstance(value, dict):
        return {k: _sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sort_keys(v) for v in value]
    return value


def _safe(op: Callable[[Any], bool], x: Any) -> bool:
    try:
        return op(x)
    except TypeError:  # e.g. a str column compared with a datetime value
        return False


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------

# Titles that exercise escaping, case, unicode and ties (DESIGN §4 "Case, collation, regex").
_TRICKY_TITLES = [
    "Board meeting", "Board meeting", "board meeting", "Board", "Boardroom", "  Board meeting",
    "Board meeting  ", "Café résumé", "Cafe resume", "CAFÉ", "東京プロジェクト", "東京", "🚀 Launch", "🚀",
    "İstanbul", "istanbul", "ISTANBUL", "Straße", "STRASSE", "strasse", "100% done", "100_ done",
    "100%", "a_b", "a%b", "axb", "back\\slash", "C:\\temp\\new", "O'Brien", "it''s", "a,b", "a, b,c",
    "", "Yfirferð reikninga", "Þjóðhátíð", "Ærslabelgur", "None", "none", "nil", "true", "True",
    "false", "null", "Ωmega", "ωmega", "Zebra", "zebra", "Ämter", "Åland", "x&y=z", "50+50",
    "tab\there", "line\nbreak", "🇮🇸 Ísland", "日本語テキスト", "Ελληνικά", "Русский", "a" * 120,
]  # fmt: skip
_WORDS = [
    "Stjórnarfundur", "Yfirferð", "reikninga", "Rýni", "meginferli", "Mannauður", "Fjárhagsáætlun",
    "Samningur", "Verkefni", "Skýrsla", "Annual", "report", "Budget", "Contract", "Review", "Plan",
    "Meeting", "Minutes", "Invoice", "Proposal", "Launch", "Audit", "Roadmap", "Design",
]  # fmt: skip
_PEOPLE = [
    ("audur", "Auður", "Djúpauga"), ("gudrun", "Guðrún", "Ósvífursdóttir"),
    ("haraldur", "Haraldur", "Bjarnason"), ("oskar", "Óskar Þór", "Þráinsson"),
    ("admin", "Administrator", "Administrator"), ("sigga", "Sigríður", "Jónsdóttir"),
]  # fmt: skip
_MIME = [
    ("pdf", "application/pdf"), ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("png", "image/png"),
    ("txt", "text/plain"), ("jpg", "image/jpeg"),
]  # fmt: skip


class _SampleBuilder:
    """Builds spaces, contacts, projects, files and tasks (about 5/80/60/250/400 objects)."""

    def __init__(self, sandbox: CoreDataSandbox, rng: random.Random) -> None:
        self.sb = sandbox
        self.rng = rng
        self.shared_times: list[dt.datetime] = []
        self.tricky = list(_TRICKY_TITLES)
        self.dynatypes: dict[str, dict[str, Any]] = {}

    # -- helpers ---------------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=1))

    def dynatype(self, title: str) -> dict[str, Any]:
        if title not in self.dynatypes:
            self.dynatypes[title] = {
                "caption_plural": f"dynatypes_labels:{title}_plural:",
                "caption_singular": f"dynatypes_labels:{title}_singular:",
                "id": self.uid(),
                "title": title,
            }
        return dict(self.dynatypes[title])

    def timestamp(self) -> dt.datetime:
        """2013-2026, with exact duplicates, midnights and microsecond values."""
        r = self.rng.random()
        if self.shared_times and r < 0.12:
            return self.rng.choice(self.shared_times)
        start = dt.datetime(2013, 1, 1)
        span = int((dt.datetime(2026, 12, 31, 23, 59, 59) - start).total_seconds())
        value = start + dt.timedelta(seconds=self.rng.randrange(span))
        if r < 0.18:
            value = value.replace(hour=0, minute=0, second=0)  # exactly midnight: date == datetime
        elif r < 0.45:
            value = value.replace(microsecond=self.rng.randrange(1, 1_000_000))
        if len(self.shared_times) < 15 and self.rng.random() < 0.2:
            self.shared_times.append(value)
        return value

    def created_modified(self, modified_null: float = 0.04) -> tuple[str, str | None]:
        created = self.timestamp()
        if self.rng.random() < modified_null:
            return _iso(created), None
        # 30% never edited: modified == created (as in the real samples).
        modified = created if self.rng.random() < 0.3 else max(created, self.timestamp())
        return _iso(created), _iso(modified)

    def title(self, n: int, null_rate: float = 0.0) -> str | None:
        if null_rate and self.rng.random() < null_rate:
            return None
        if n == 0:
            self.tricky = list(_TRICKY_TITLES)  # every resource gets the tricky titles, in this order
        if self.tricky and n % 2 == 0:
            return self.tricky.pop(0)
        words = self.rng.sample(_WORDS, self.rng.randint(1, 3))
        return " ".join(words) + (f" {self.rng.randint(1, 30)}" if self.rng.random() < 0.5 else "")

    def person(self, null_rate: float = 0.2) -> str | None:
        if self.rng.random() < null_rate:
            return None
        _, first, last = self.rng.choice(_PEOPLE)
        return f"{first} {last}"

    def common(self, kind: str, res: str, ident: str, title: str | None, dynatype: dict[str, Any]) -> dict[str, Any]:
        created, modified = self.created_modified()
        return {
            "aspects": {},
            "created": created,
            "created_by": self.person(0.15),
            "description": self.rng.choice(
                ["", "", "Lýsing á verkefni", None, "Multi\nline \u2013 \u2018quoted\u2019"]
            ),
            "dynatype": dynatype,
            "id": ident,
            "modified": modified,
            "modified_by": self.person(0.6),
            "resource_uri": f"{BASE}{res}/{ident}/",
            "snapshot_id": self.uid(),
            "tags": self.rng.sample(["mánaðarmót", "urgent", "2014", "ársreikningur", "Ω"], self.rng.randint(0, 2)),
            "title": title,
            "type": kind,
            "version": self.rng.choice(["None.0", "0.1", "0.2", "1.0"]),
        }

    def store(self, res: str, objs: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> None:
        kinds: dict[str, str] = {}
        for obj, hidden in objs:
            for k in list(obj) + list(hidden or {}):
                kinds.setdefault(k, _KNOWN_KINDS.get(k, "other"))
        resource = self.sb._new_resource(res, kinds)
        for obj, hidden in objs:
            resource.add(obj, hidden)
        self.sb.resources[res] = resource

    # -- resources -------------------------------------------------------------------------

    def build(self) -> None:
        rng = self.rng
        spaces = []
        for title in ["Fjármál", "Starfsmenn", "Stjórnarfundir", "Upplýsingar", "Space title"]:
            sid = self.uid()
            obj = self.common("Space", "spaces", sid, title, {})
            obj.update(
                {
                    "is_hidden": title == "Upplýsingar",
                    "path": f"/domain/spaces/{title}",
                    "status": rng.choice(["space_status:active:", ""]),
                    "template": None,
                }
            )
            spaces.append((obj, None))
        self.store("spaces", spaces)
        space_refs = [{"id": o["id"], "title": o["title"]} for o, _ in spaces]

        contacts = []
        ssn_pool: list[str] = []
        for n in range(80):
            cid = self.uid()
            org = rng.random() < 0.25
            obj = self.common(
                "Contact", "contacts", cid, self.title(n, 0.03), self.dynatype("Organization" if org else "Person")
            )
            r = rng.random()
            if r < 0.08:
                identifier: str | None = None
            elif r < 0.15:
                identifier = ""  # the real contact sample has identifier ""
            elif r < 0.25 and ssn_pool:
                identifier = rng.choice(ssn_pool)  # duplicate identifiers
            else:
                identifier = f"{rng.choice(['600010', '010203', '120389', '600101'])}{rng.randrange(10_000):04d}"
                ssn_pool.append(identifier)
            emails = [
                {"email": f"user{n}.{k}@example.is", "label": rng.choice(["email_label:Work:", "email_label:Home:"])}
                for k in range(rng.choice([0, 1, 1, 2]))
            ]
            phones = [
                {"label": "phone_label:Mobile:", "number": f"+354{rng.randrange(10**6, 10**7)}"}
                for _ in range(rng.choice([0, 1, 2]))
            ]
            obj.update(
                {
                    "contact_addresses": [],
                    "emails": emails,
                    "identifier": identifier,
                    "organization": None,
                    "phones": phones,
                    "role": rng.choice(["contact_role:customer:", "contact_role:supplier:", None]),
                    "status": rng.choice(["contact_status:Active:", "contact_status:Inactive:"]),
                    "urls": [],
                }
            )
            contacts.append((obj, None))
        orgs = [o for o, _ in contacts if o["dynatype"]["title"] == "Organization"]
        for o, _ in contacts:
            if o["dynatype"]["title"] == "Person" and orgs and rng.random() < 0.4:
                org_obj = rng.choice(orgs)
                o["organization"] = {"id": org_obj["id"], "title": org_obj["title"]}
        self.store("contacts", contacts)
        contact_titles = {o["id"]: o["title"] for o, _ in contacts}
        contact_ids = list(contact_titles)

        def people() -> list[dict[str, str]]:
            return [
                {"first_name": first, "last_name": last, "username": user}
                for user, first, last in rng.sample(_PEOPLE, rng.randint(0, 2))
            ]

        projects = []
        folders: dict[str, list[str]] = {}
        for n in range(60):
            pid = self.uid()
            obj = self.common(
                "Project", "projects", pid, self.title(n, 0.03), self.dynatype(rng.choice(["Project", "Case"]))
            )
            year = rng.randint(2013, 2026)
            ident = None if rng.random() < 0.1 else f"{year}-{rng.randint(1, 40)}"
            assoc = rng.sample(contact_ids, rng.choice([0, 0, 1, 1, 2, 3]))
            responsible = people()
            start = self.timestamp()
            obj.update(
                {
                    "aspects": {
                        "timespan": {"all_day": rng.random() < 0.5, "end_time": _iso(start), "start_time": _iso(start)}
                    },
                    "associated_contacts_id": assoc,
                    "associated_users": [],
                    "connected_users": [p["username"] for p in responsible],
                    "contacts": [{"id": c, "title": contact_titles[c]} for c in assoc],
                    "due_date": None if rng.random() < 0.6 else _iso(self.timestamp()),
                    "identifier": ident,
                    "responsible_users": responsible,
                    "space": dict(rng.choice(space_refs)),
                    "status": rng.choice(["space_status:active:", "space_status:closed:"]),
                    "status_message": "",
                }
            )
            folders[pid] = [self.uid() for _ in range(rng.randint(1, 3))]
            projects.append((obj, None))
        self.store("projects", projects)
        project_objs = [o for o, _ in projects]

        def project_ref(p: dict[str, Any]) -> dict[str, Any]:
            return {"id": p["id"], "identifier": p["identifier"], "title": p["title"]}

        files = []
        for n in range(250):
            fid = self.uid()
            title = self.title(n, 0.03)
            ext, mime = rng.choice(_MIME)
            project = rng.choice(project_objs) if rng.random() < 0.9 else None
            obj = self.common("File", "files", fid, title, self.dynatype(rng.choice(["File", "File", "Report"])))
            data = f"{fid}{n}".encode()
            size = 0 if rng.random() < 0.3 else rng.randrange(1, 50_000_000)
            obj.update(
                {
                    "aspects": {"digitalsignature": {"digital_signature": ""}},
                    "category": "main",
                    "digest": hashlib.md5(data).hexdigest() if size else "",
                    "filename": f"{title if title else 'untitled'}.{ext}",
                    "folder": None,
                    "mime_type": mime,
                    "owner": None,
                    "parent": rng.choice(folders[project["id"]]) if project else None,
                    "project": project_ref(project) if project else None,
                    "size": size,
                    "space": dict(project["space"]) if project else dict(rng.choice(space_refs)),
                }
            )
            assoc = list(project["associated_contacts_id"]) if project else []
            if rng.random() < 0.2:
                extra = rng.choice(contact_ids)
                if extra not in assoc:
                    assoc.append(extra)
            files.append((obj, {"associated_contacts_id": assoc}))  # hidden: not in the real file shape
        self.store("files", files)

        tasks = []
        for n in range(400):
            tid = self.uid()
            project = rng.choice(project_objs)  # every task is linked to a project
            obj = self.common("Task", "tasks", tid, self.title(n, 0.02), self.dynatype("timetask"))
            start = self.timestamp()
            assoc = [c for c in project["associated_contacts_id"] if rng.random() < 0.7]
            responsible = people()
            obj.update(
                {
                    "aspects": {
                        "timespan": {"all_day": rng.random() < 0.5, "end_time": _iso(start), "start_time": _iso(start)}
                    },
                    "associated_contacts_id": assoc,
                    "associated_users": [],
                    "connected_users": [p["username"] for p in responsible],
                    "contacts": [{"id": c, "title": contact_titles[c]} for c in assoc],
                    "due_date": None if rng.random() < 0.5 else _iso(self.timestamp()),
                    "project": project_ref(project),
                    "responsible_users": responsible,
                    "space": dict(project["space"]),
                    "status": rng.choice(["space_status:active:", "space_status:closed:"]),
                    "status_message": "",
                }
            )
            tasks.append((obj, None))
        self.store("tasks", tasks)


SANDBOX = CoreDataSandbox  # found by lowcode_sql.sandbox.get_sandbox
