"""The Slingr emulator: routing, login and token sessions, records and data loading.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox._base import Platform, Request, Response, json_response
from lowcode_sql.sandbox.slingr import sample
from lowcode_sql.sandbox.slingr.aggregate import _aggregate
from lowcode_sql.sandbox.slingr.data import _field_from_arrow, _wire
from lowcode_sql.sandbox.slingr.listing import _list, _project
from lowcode_sql.sandbox.slingr.values import _SYSTEM, FieldDef, SlingrError, _bad, _Entity

_PREFIX = re.compile(r"^/(?:[^/]+/)?runtime/api(?=/)")


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class SlingrSandbox(Platform):
    """The Slingr REST API (runtime API: auth and app data) over in-memory entities."""

    name = "slingr"
    DEMO_CREDENTIALS = {"email": "user@test.com", "password": "abcdefgh"}  # the seed's login example
    #: issue 13: plausible answers the seed leaves open (see ``Platform.VARIANTS``)
    VARIANTS = {"list_without_offset": "list answers carry no 'offset' key (only {total, items})",
                "sort_ignored": "_sortField/_sortType are ignored: records come in the default order (id desc)"}

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        token_ttl: float = 8 * 3600,
        like_case_insensitive: bool = True,
        sample_data: bool | str = True,
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
        if self.sample_data:
            self.load_sample_data()

    # a property over the base's class attribute (mypy rejects that override): computed from the data
    @property
    def DEMO_OPTIONS(self) -> dict[str, Any]:  # type: ignore[override]
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
            if self.strict and request.method == "GET":
                _check_system_params(request, single=len(parts) == 3)
            if len(parts) == 2 and request.method == "GET":
                if self.variant("sort_ignored"):
                    kept = [(k, v) for k, v in request.query if k not in ("_sortField", "_sortType")]
                    request = Request(request.method, request.path, kept, request.headers, request.body)
                listed = _list(entity, request, self.like_case_insensitive)
                if self.variant("list_without_offset"):
                    del listed["offset"]
                return json_response(listed)
            if len(parts) == 3 and parts[2] == "aggregate" and request.method == "PUT":
                return json_response(_aggregate(entity, request, self.like_case_insensitive))
            if len(parts) == 3 and request.method == "GET":
                for rec in entity.records:
                    if rec["id"] == parts[2]:
                        return json_response(_project(rec, request.arg("_fields")))
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
        self._sessions[token or ""] = now  # inactivity expiry: every use extends the token

    # -- data loading --------------------------------------------------------------------------

    def add_entity(self, name: str, fields: Iterable[FieldDef]) -> None:
        self.entities[name] = _Entity({f.name: f for f in fields})

    def add_record(self, entity: str, values: Mapping[str, Any], *, label: str | None = None,
                   record_id: str | None = None) -> dict[str, Any]:
        rid = record_id or self.new_id()
        rec = {"id": rid, "version": 0, "label": label if label is not None else rid}
        rec.update((k, v) for k, v in values.items() if v is not None)
        self.entities[entity].records.append(rec)
        self.entities[entity].version += 1
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
        sample.load(self)




#: strict mode: the system parameters docs/notes/slingr-api.md "System parameters" lists [C], and
#: ``_query`` ("Field filters": complex boolean logic); a record read takes ``_fields`` and the format ones
_LIST_SYSTEM_PARAMS = frozenset({
    "_size", "_offset", "_sortField", "_sortType", "_fields", "_format", "_formatForUser",
    "_relationshipsToFetch", "_indexedFilter", "_indexedFilterQuery", "_indexedFilterEmbedding",
    "_vectorSearchLimit", "_numCandidates", "_queryScoring", "_taskType", "_query",
})
_RECORD_SYSTEM_PARAMS = frozenset({"_fields", "_format", "_formatForUser", "_relationshipsToFetch"})


def _check_system_params(request: Request, *, single: bool) -> None:
    documented = _RECORD_SYSTEM_PARAMS if single else _LIST_SYSTEM_PARAMS
    for key, _ in request.query:
        if (key.startswith("_") or single) and key not in documented:
            raise _bad(f"Parameter [{key}] is not documented", key)
