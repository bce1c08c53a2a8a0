"""The Entu emulator: routing, auth (API key -> JWT), list/one/account reads and the data store
(its entities are kept compact by store.py; "notes" = docs/notes/entu-api.md).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response, warn_beyond_double
from lowcode_sql.sandbox._index import HashIndex, Memo, Stamp, stamp
from lowcode_sql.sandbox._mongo import (
    MISSING,
    ObjectId,
    compare,
    group_key,
    iso_ms,
    sort_key,
)
from lowcode_sql.sandbox.entu import sample
from lowcode_sql.sandbox.entu.data import _arrow_values, _load_oid, _PropDef
from lowcode_sql.sandbox.entu.filters import (
    _WORD,
    _match_values,
    _query_args,
    parse_filters,
    undocumented_list_params,
)
from lowcode_sql.sandbox.entu.paths import _agg_path, _project, _projection_tree, _set_path, _sort_values
from lowcode_sql.sandbox.entu.store import (
    Entity,
    Shape,
    Values,
    field_values,
    oid_at,
    pack,
    private_view,
    ref_info,
    search_words,
    sort_values,
)
from lowcode_sql.sandbox.entu.values import (
    _HEX24,
    EntuHTTPError,
    _js_or,
    _js_slice_utf16,
    _jsonify,
    _server_error,
    js_parse_int,
    object_id,
)

# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

_SYSTEM_DBS = ("admin", "config", "local")
_DB_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))




class EntuSandbox(Platform):
    """The Entu REST API over in-memory entities (see the module docstring for the sources)."""

    name = "entu"
    #: what ``lowcode_sql.demo()`` and sandbox sources use
    DEMO_CREDENTIALS = {"key": "demo-api-key"}
    DEMO_OPTIONS = {"db": "demo"}
    #: issue 13: plausible answers the docs leave open (see ``Platform.VARIANTS``)
    VARIANTS = {"sort_ignored": "sort is ignored on entity lists: entities come in _id order"}

    USER_NAME = "Sandbox User"

    def __init__(
        self,
        *,
        db: str = "demo",
        api_keys: tuple[str, ...] = ("demo-api-key",),
        token_ttl: float = 12 * 3600,
        sample_data: bool | str = True,
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
        # entities in insertion (natural) order, compact (store.py); their ``private`` view is derived
        self._entities: dict[ObjectId, Entity] = {}
        self._shapes: dict[Shape, Shape] = {}  # one shared tuple per layout of values (store.pack)
        self._refs: dict[ObjectId, tuple[Any, Any] | None] = {}  # _ref_info's answers, for _refs_at
        self._refs_at: tuple[int, int] = (-1, 0)
        self._refs_store: dict[ObjectId, Entity] | None = None
        self._types: dict[str, ObjectId] = {}  # type name -> type-definition entity id (set by _bootstrap_meta)
        self._prop_defs: dict[str, list[_PropDef]] = {}
        self.user_id = self._new_oid()
        self._meta_entity = self._new_oid()
        self._meta_property = self._new_oid()
        # bumped by every write; with the store's identity and length it stamps the indexes (_index.py)
        self._version = 0
        self._memo: Memo[list[Entity]] = Memo()
        self._memo_by_id: Memo[list[Entity]] = Memo(1)
        self._index: HashIndex[Any, Entity] = HashIndex()
        self._bootstrap_meta()
        if self.sample_data:
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
        return oid_at(self._oid_process, self._oid_counter)

    def _private(self, e: Entity, only: Iterable[str] | None = None, *,
                 as_json: bool = False) -> dict[str, list[dict[str, Any]]]:
        """The entity's ``private`` document, or only its top-level keys ``only`` (store.py)."""
        return private_view(e, self._ref_info, self._oid_process, None if only is None else set(only),
                            as_json=as_json)

    def _ref_info(self, oid: ObjectId) -> tuple[Any, Any] | None:
        """``store.ref_info``, remembered per target until the data changes: every entity refers to
        its type, so a scan would otherwise look the type's name up once per entity. (Checked like
        ``Stamp``, inline: this runs once per reference value served.)"""
        if self._refs_at != (self._version, len(self._entities)) or self._refs_store is not self._entities:
            self._refs.clear()
            self._refs_at, self._refs_store = (self._version, len(self._entities)), self._entities
        try:
            return self._refs[oid]
        except KeyError:
            info = self._refs[oid] = ref_info(self._entities, oid)
            return info

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

    def _only(self, request: Request, *documented: str) -> None:
        for k, _ in request.query:
            if k not in documented:
                raise EntuHTTPError(400, f"Undocumented query parameter: {k}")

    def _auth(self, request: Request) -> Response:
        if self.strict:  # seed "GET /api/auth": account; docs/notes/entu-api.md "Auth": db too
            self._only(request, "account", "db")
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
        props = sum(e.property_count() for e in self._entities.values())
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
        if self.strict:  # seed "GET /api/{account}/entity/{_id}": props only
            self._only(request, "props")
        query = _query_args(request)
        props = self._split_param(query, "props")
        oid = object_id(raw_id)
        entity = self._entities.get(oid)
        if entity is None:
            raise EntuHTTPError(404, f"Entity {oid.hex} not found")
        if not self._visible(user):
            raise EntuHTTPError(403, "No accessible properties")
        tree = _projection_tree(props) if props else None
        private = self._private(entity, tree, as_json=True)
        return json_response({"entity": {"_id": oid.hex, **(_project(private, tree) if tree is not None else private)}})

    @staticmethod
    def _split_param(query: Mapping[str, str | tuple[str, ...]], name: str) -> list[str]:
        v = query.get(name) or ""
        if isinstance(v, tuple):
            raise _server_error(f"TypeError: query.{name}.split is not a function")
        return [x for x in v.split(",") if x]

    def _list(self, request: Request, user: ObjectId | None) -> dict[str, Any]:
        if self.strict and (bad := undocumented_list_params(request)) is not None:
            raise EntuHTTPError(400, f"Undocumented query parameter: {bad}")
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

        visible = self._visible(user)
        sort_fields: dict[str, int] = {}
        for f in sort:  # sortFields[`private.${f}`]: a later duplicate keeps the first position
            if f.startswith("-"):
                sort_fields[f[1:]] = -1
            else:
                sort_fields[f] = 1

        if group:
            # groups keep their first appearance in natural (insertion) order, so no index here
            matched = [e for e in self._entities.values() if visible and self._matches(e, filters, terms)]
            tops = {f.split(".")[0] for f in (*group, *props)}
            rows = self._group([self._private(e, tops) for e in matched], group, props)
            ordered = self._sort([(r, None, i) for i, r in enumerate(rows)], sort_fields)
            entities = [_jsonify(r) for r, _, _ in ordered]
            return {"entities": entities, "count": len(entities), "limit": limit, "skip": skip}

        if self.variant("sort_ignored"):
            sort_fields = {}
        # The matches in their final order are a function of the data and of every parameter but the
        # page and the projection: remembered, so the pages of one scan filter and sort once.
        key = (visible, tuple((k, v) for k, v in request.query if k not in ("props", "limit", "skip")))
        listed = self._memo.get(self._stamp(), key, lambda: self._ordered(filters, terms, sort_fields, visible))
        entities = []
        for e in listed[int(skip) : int(skip) + int(limit)]:
            shown = self._private(e, tree, as_json=True)
            entities.append({"_id": e.oid.hex, **(_project(shown, tree) if tree is not None else shown)})
        return {"entities": entities, "count": len(listed), "limit": limit, "skip": skip}

    # -- indexes (lowcode_sql/sandbox/_index.py) ---------------------------------------------

    def _index_values(self, e: Entity, *, prop: str, type_: str) -> list[Any]:
        """The values of ``private.<prop>.<type_>`` an equality index keeps: strings and ObjectIds."""
        return [v for v in field_values(e, self._ref_info, self._oid_process, prop, type_)[1]
                if isinstance(v, str | ObjectId)]

    def _stamp(self) -> Stamp:
        return stamp(self._version, self._entities)

    def _by_id(self) -> list[Entity]:
        """Every entity in ``_id`` order: the order of a list without ``sort`` (ties of a sort, too)."""
        return self._memo_by_id.get(self._stamp(), None, lambda: sorted(self._entities.values(), key=_entity_id))

    def _ordered(self, filters: dict[tuple[str, str], Any], terms: list[str], sort_fields: Mapping[str, int],
                 visible: bool) -> list[Entity]:
        """The matching entities in the order the list returns them (the ``$match`` and ``$sort`` stages)."""
        if not visible:
            return []
        rows: list[Entity] = self._by_id()
        # An equality on a string or reference value (``_type.string=task``, which every table scan
        # sends, or a reference a join pushes) reads its index bucket, already in _id order; equal
        # strings and equal ObjectIds are exactly what Mongo's equality matches there (_eq). Of
        # several such equalities the smallest bucket is read and the others are tested on it.
        buckets = [(self._index.lookup(self._stamp(), key, self._by_id,
                                       functools.partial(self._index_values, prop=key[0], type_=key[1]), cond),
                    key)
                   for key, cond in filters.items() if isinstance(cond, str | ObjectId)]
        if buckets:
            rows, used = min(buckets, key=lambda b: len(b[0]))
            filters = {k: v for k, v in filters.items() if k != used}
        if filters or terms:
            rows = [e for e in rows if self._matches(e, filters, terms)]
        if not sort_fields:
            return rows
        ordered = self._sort([(e, e.oid, 0) for e in rows], sort_fields,
                             lambda e, parts: sort_values(e, self._ref_info, self._oid_process, parts))
        by_oid = {e.oid: e for e in rows}
        return [by_oid[oid] for _, oid, _ in ordered]

    def _matches(self, entity: Entity, filters: Mapping[tuple[str, str], Any], terms: list[str]) -> bool:
        for (prop, type_), cond in filters.items():
            if not _match_values(*field_values(entity, self._ref_info, self._oid_process, prop, type_), cond):
                return False
        if terms:
            # search.private $all terms: every term is a substring (<= 20 chars) of some indexed word.
            words = search_words(entity, self._ref_info, self._oid_process)
            return all(any(t in w for w in words) for t in terms)
        return True

    @staticmethod
    def _sort(items: list[tuple[Any, Any, int]], sort_fields: Mapping[str, int],
              values: Callable[[Any, list[str]], list[Any]] = _sort_values) -> list[tuple[Any, Any, int]]:
        """Mongo $sort on ``private.<f>``: ascending uses the smallest array element, descending the
        largest; missing sorts as null (lowest). Ties: ``_id`` ascending (groups: first appearance).
        ``values(item, path parts)``: the sort-key candidates (stored entities: ``store.sort_values``)."""
        fields = [(f.split("."), d) for f, d in sort_fields.items()]

        keyed = [([sort_key(values(p, parts), d) for parts, d in fields], p, oid, idx) for p, oid, idx in items]

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
        field, then $project: rows ``{_count, <props>...}`` without ``_id`` (notes "group").
        ``matched``: the ``private`` documents of the matching entities, in natural order."""
        _projection_tree(props)  # the $project would fail on colliding paths
        groups: dict[Any, dict[str, Any]] = {}
        for e in matched:
            key_parts = []
            for g in group:
                v = _agg_path(e, g.split("."))
                if v is not MISSING:
                    key_parts.append((g.replace(".", "#"), group_key(v)))
            key = tuple(key_parts)
            row = groups.get(key)
            if row is None:
                row = {"_count": 0}
                for f in props:
                    v = _agg_path(e, f.split("."))
                    _set_path(row, f, None if v is MISSING else v)  # $first of a missing field is null
                groups[key] = row
            row["_count"] += 1
        return list(groups.values())

    # -- data ------------------------------------------------------------------------------

    def _bootstrap_meta(self) -> None:
        """The two system types: ``entity`` (the type of every type definition) and ``property``."""
        for oid, name in ((self._meta_entity, "entity"), (self._meta_property, "property")):
            self._store(oid, {"_type": [("reference", self._meta_entity)], "name": [("string", name)]}, ("name",))
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
        self._version += 1
        if oid in self._entities:
            raise ValueError(f"duplicate entity _id {oid.hex}")
        self._store(oid, {"_type": [("reference", self._types[type_name])], **props}, search_props)
        return oid

    def _store(self, oid: ObjectId, props: Mapping[str, Values], search_props: Iterable[str]) -> None:
        shape, values = pack(props, self._shapes)
        # one tuple per load_table call is shared by its rows (a tuple() of a tuple is itself)
        self._entities[oid] = Entity(oid, shape, values, tuple(search_props))

    def _define_type(self, name: str, defs: list[_PropDef]) -> None:
        """The type-definition entity (``_type`` entity) and its property definitions (``_type``
        property, ``_parent`` -> the type), as an Entu database holds them."""
        tid = self._types.get(name)
        if tid is not None:
            parent = [("reference", tid)]
            self._version += 1
            for oid in [o for o, e in self._entities.items() if e.get("_parent") == parent]:
                del self._entities[oid]
        else:
            tid = self._new_oid()
            self._store(tid, {"_type": [("reference", self._meta_entity)], "name": [("string", name)]}, ("name",))
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
        """Give the entities added since the last call their value ``_id``s: consecutive counters of
        the one ObjectId sequence, in property and value order (so the ids, and every later entity
        id, are what the store that built its ``private`` view here used to issue). The view itself,
        with references enriched, and the ``search`` words are derived per request (store.py)."""
        self._version += 1
        for e in self._entities.values():
            if e.vbase is None:
                e.vbase = self._oid_counter + 1
                self._oid_counter += len(e.values)

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
            if kind == "number":  # the raw values: _arrow_values has made doubles of the big ones
                nested = pa.types.is_list(column.type) or pa.types.is_large_list(column.type)
                flat = pc.list_flatten(column) if nested else column
                warn_beyond_double("entu", name, col_name, flat.to_pylist())
            if col_name in references:
                kind = "reference"
                rows = [None if r is None else [_load_oid(x) for x in r] for r in rows]
            elif kind == "string":  # a repeated string (a status) is kept once, not once per row
                seen: dict[str, str] = {}
                rows = [None if r is None else [seen.setdefault(v, v) for v in r] for r in rows]
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
        search_props = tuple(searchable)  # shared by every row
        for i in range(table.num_rows):
            values: dict[str, list[tuple[str, Any]]] = {}
            for col_name, kind, rows in columns:
                cell = rows[i]
                if cell:
                    values[col_name] = [(kind, v) for v in cell]
            self._add_entity(name, values, search_props=search_props, oid=ids[i] if ids is not None else None)
        self._resolve()

    def _remove_type_entities(self, name: str) -> None:
        tid = self._types.get(name)
        if tid is None:
            return
        typed = [("reference", tid)]
        self._version += 1
        for oid in [o for o, e in self._entities.items() if e.get("_type") == typed]:
            del self._entities[oid]

    def load_sample_data(self) -> None:
        sample.load(self)
        self._resolve()


def _entity_id(e: Entity) -> ObjectId:
    return e.oid
