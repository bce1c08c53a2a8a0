"""The Slingr list call (seed "List records", notes "System parameters"): ``_sortField``/``_sortType``,
``_size``/``_offset`` (skip or keyset) and the ``_fields`` projection.
"""

from __future__ import annotations

import bisect
import random
import re
from typing import Any

from lowcode_sql.sandbox._base import Request
from lowcode_sql.sandbox.slingr.filters import _filters
from lowcode_sql.sandbox.slingr.values import _SYSTEM, _bad, _bracket, _Entity, _field, _values

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def _sorted(entity: _Entity, records: list[dict[str, Any]], request: Request) -> tuple[list[Any], str, bool]:
    sort_field = request.arg("_sortField") or "id"
    sort_type = request.arg("_sortType") or ("desc" if sort_field == "id" else "asc")
    if sort_type not in ("asc", "desc"):
        raise _bad(f"Invalid _sortType [{sort_type}]: use asc or desc", "_sortType")
    desc = sort_type == "desc"
    if "," in sort_field:
        raise _bad("Only one sort field is supported", "_sortField")
    if sort_field != "id":
        fd = _field(entity, sort_field)
        if fd.multiple or fd.type == "nestedFields" or any(
            _field(entity, ".".join(sort_field.split(".")[: i + 1])).multiple
            for i in range(sort_field.count("."))
        ):
            raise _bad(f"Cannot sort by multi-valued or nested field [{sort_field}]", "_sortField")
    parts = sort_field.split(".")
    if sort_field == "id":
        return sorted(records, key=lambda r: r["id"], reverse=desc), sort_field, desc

    def key(rec: dict[str, Any]) -> tuple[Any, ...]:
        vals = _values(rec, parts)
        v = vals[0] if vals else None
        if isinstance(v, dict):  # a relationship sorts by its label
            v = v.get("label")
        return (_bracket(v), v if v is not None else 0)

    # ties in an order that depends on the page asked for (module docstring); sorted() is stable
    # and reverse=True keeps equal keys in their shuffled order
    shuffled = list(records)
    random.Random(f"{request.arg('_offset')}:{request.arg('_size')}:{len(records)}").shuffle(shuffled)
    return sorted(shuffled, key=key, reverse=desc), sort_field, desc


_PAGING = frozenset({"_size", "_offset", "_fields"})


_ById = tuple[list[dict[str, Any]], list[str], list[dict[str, Any]]]


def _by_id(entity: _Entity, conds: list[Any], request: Request) -> _ById | None:
    """The matching records in ascending id order, their ids, and the records in descending id
    order (distinct ids: exactly what ``sorted(reverse=True)`` gives), remembered per filter until the
    records change; None when two records share an id (then a keyset ``_offset`` cannot be found by
    bisection, and the general path answers)."""
    def whole() -> _ById | None:
        records = sorted(entity.records, key=lambda r: r["id"])
        ids = [r["id"] for r in records]
        return (records, ids, records[::-1]) if len(set(ids)) == len(ids) else None

    found = entity.memo.get(entity.stamp(), "by id", whole)
    if found is None or not conds:
        return found

    def matching() -> _ById:
        records = [r for r in found[0] if all(c(r) for c in conds)]
        return records, [r["id"] for r in records], records[::-1]

    key = ("by id", tuple(kv for kv in request.query if kv[0] not in _PAGING and not kv[0].startswith("_sort")))
    return entity.memo.get(entity.stamp(), key, matching)


def _listed_by_id(entity: _Entity, conds: list[Any], request: Request) -> tuple[list[Any], int, int] | None:
    """A list sorted by id (what a scan sends) from the remembered id order, without testing or
    sorting every record on every page: the records in the asked order, the index of the first one
    the ``_offset`` keyset leaves, and the total; None where the general path must answer."""
    sort_field = request.arg("_sortField") or "id"
    sort_type = request.arg("_sortType") or ("desc" if sort_field == "id" else "asc")
    if sort_field != "id" or sort_type not in ("asc", "desc") or (found := _by_id(entity, conds, request)) is None:
        return None
    records, ids, descending = found
    desc = sort_type == "desc"
    ordered: list[Any] = descending if desc else records
    offset = request.arg("_offset")
    if not offset:
        return ordered, 0, len(records)
    if _OBJECT_ID.match(offset) or not offset.isdigit():
        # the records after that id in this order: ids below it (descending) or above it (ascending)
        start = len(ids) - bisect.bisect_left(ids, offset) if desc else bisect.bisect_right(ids, offset)
        return ordered, start, len(records)
    return ordered, int(offset), len(records)


def _list(entity: _Entity, request: Request, like_case_insensitive: bool) -> dict[str, Any]:
    conds = _filters(entity, request, like_case_insensitive)
    fast = _listed_by_id(entity, conds, request)
    if fast is not None:
        return _page(entity, request, *fast, _size(request))
    matched = [r for r in entity.records if all(c(r) for c in conds)]
    ordered, sort_field, desc = _sorted(entity, matched, request)
    size = _size(request)
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
    return _page(entity, request, ordered, start, len(matched), size)


def _size(request: Request) -> int:
    size_text = request.arg("_size", "20") or "20"
    if not size_text.isdigit():
        raise _bad(f"Invalid _size [{size_text}]", "_size")
    return min(int(size_text), 1000)  # notes: default 20, maximum 1000


def _page(entity: _Entity, request: Request, ordered: list[Any], start: int, total: int,
          size: int) -> dict[str, Any]:
    page = ordered[start : start + size]
    fields = request.arg("_fields")
    return {"total": total, "offset": page[-1]["id"] if page else None,
            "items": [_project(r, fields, entity) for r in page]}


def _project(rec: dict[str, Any], fields: str | None, entity: _Entity | None = None) -> dict[str, Any]:
    if not fields:
        return rec
    out = {k: rec[k] for k in _SYSTEM if k in rec}
    for path in (p.strip() for p in fields.split(",")):
        if not path:
            continue
        if entity is not None:
            _field(entity, path)  # an unknown field is a 400
        _copy_path(rec, out, path.split("."))
    return out


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


