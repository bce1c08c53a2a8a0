"""CoreData resources: stored objects with the typed values filters and ordering compare, and the
column kinds of Arrow tables given to ``load_table``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lowcode_sql.sandbox._index import Memo, Stamp, stamp
from lowcode_sql.sandbox.coredata.filters import _FILTERING, _ORDERING_FIELDS
from lowcode_sql.sandbox.coredata.values import _KNOWN_KINDS, _BadRequest, _norm_uuid, _parse_datetime, _sort_keys

if TYPE_CHECKING:
    import pyarrow as pa

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
    version: int = 0  # bumped by add(); see stamp()
    memo: Memo[list[int]] = field(default_factory=Memo)

    def stamp(self) -> Stamp:
        """Changes whenever the rows may have (also when a test replaces ``objects`` by hand)."""
        return stamp(self.version, self.objects, self.typed)

    def typed_value(self, i: int, name: str) -> Any:
        return self.typed[i].get(name)

    def add(self, obj: dict[str, Any], hidden: dict[str, Any] | None = None) -> None:
        i = len(self.objects)
        self.version += 1
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


# The fields CoreData's five resources return (seed: "Endpoint response format" and its
# examples; the sample builder writes exactly these). A loaded column outside them would be
# served over HTTP but is no column of the SQL table, so load_table refuses it.
_COMMON_FIELDS = ("id", "snapshot_id", "type", "title", "description", "created", "modified", "created_by",
                  "modified_by", "tags", "dynatype", "version", "resource_uri", "aspects")
_WORK_FIELDS = ("status", "status_message", "due_date", "space", "contacts", "connected_users",
                "responsible_users", "associated_users", "associated_contacts_id")
_FIELDS: dict[str, frozenset[str]] = {
    "projects": frozenset((*_COMMON_FIELDS, *_WORK_FIELDS, "identifier")),
    "tasks": frozenset((*_COMMON_FIELDS, *_WORK_FIELDS, "project")),
    "files": frozenset((*_COMMON_FIELDS, "category", "digest", "filename", "folder", "mime_type", "owner",
                        "parent", "project", "size", "space")),
    "contacts": frozenset((*_COMMON_FIELDS, "contact_addresses", "emails", "identifier", "organization",
                           "phones", "role", "status", "urls")),
    "spaces": frozenset((*_COMMON_FIELDS, "is_hidden", "path", "status", "template")),
}


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



def _new_resource(name: str, kinds: dict[str, str], options: dict[str, Any] | None = None) -> _Resource:
    options = options or {}
    if name in _FILTERING:
        filtering = dict(_FILTERING[name])
        ordering = tuple(f for f in _ORDERING_FIELDS if f in kinds or not kinds)
    else:
        filtering = {k: frozenset(v) for k, v in options.get("filtering", {}).items()}
        ordering = tuple(options.get("ordering", ()))
    return _Resource(name=name, fields=dict(kinds), filtering=filtering, ordering=ordering)
