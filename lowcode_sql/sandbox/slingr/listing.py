"""The Slingr list call (seed "List records", notes "System parameters"): ``_sortField``/``_sortType``,
``_size``/``_offset`` (skip or keyset) and the ``_fields`` projection.
"""

from __future__ import annotations

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


def _list(entity: _Entity, request: Request, like_case_insensitive: bool) -> dict[str, Any]:
    conds = _filters(entity, request, like_case_insensitive)
    matched = [r for r in entity.records if all(c(r) for c in conds)]
    ordered, sort_field, desc = _sorted(entity, matched, request)
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
    return {"total": len(matched), "offset": page[-1]["id"] if page else None,
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


