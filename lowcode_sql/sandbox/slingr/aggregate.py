"""Slingr aggregate queries (notes "Aggregate queries"): ``PUT /data/{entity}/aggregate`` stages.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from lowcode_sql.sandbox._base import Request
from lowcode_sql.sandbox.slingr.filters import _condition
from lowcode_sql.sandbox.slingr.values import (
    _bad,
    _bracket,
    _Entity,
    _field,
    _freeze,
    _get,
    _is_num,
    _json_value,
)

_AGG = re.compile(r"^(sum|avg|count|min|max|first|last)\(([\w.]*)\)$")


def _aggregate(entity: _Entity, request: Request, like_case_insensitive: bool) -> dict[str, Any]:
    try:
        stages = request.json()
    except ValueError:
        raise _bad("The body is not valid JSON") from None
    if not isinstance(stages, list):
        raise _bad("The aggregate body must be a JSON array of stages")
    docs: list[Any] = list(entity.records)
    grouped = False
    for stage in stages:
        if not isinstance(stage, dict) or len(stage) != 1:
            raise _bad("Each stage must be an object with one key")
        (name, arg), = stage.items()
        if name == "match":
            if grouped or not isinstance(arg, dict):
                raise _bad("match must be an object and come before group")
            conds = [_condition(entity, k, _json_value(v), like_case_insensitive) for k, v in arg.items()]
            docs = [d for d in docs if all(c(d) for c in conds)]
        elif name == "group":
            docs = _group(entity, docs, arg)
            grouped = True
        elif name == "sort":
            if not isinstance(arg, dict):
                raise _bad("sort must be an object")
            for key, direction in reversed(list(arg.items())):
                if direction not in ("asc", "desc"):
                    raise _bad(f"Invalid sort direction [{direction}]")
                docs.sort(key=lambda d: (_bracket(_get(d, key)), _get(d, key) if _get(d, key) is not None else 0),
                          reverse=direction == "desc")
        elif name in ("limit", "skip"):
            if not isinstance(arg, int) or isinstance(arg, bool) or arg < 0:
                raise _bad(f"{name} must be a non-negative integer")
            docs = docs[:arg] if name == "limit" else docs[arg:]
        elif name == "project":
            keep = [p.strip() for p in str(arg).split(",") if p.strip()]
            docs = [{"id": d.get("id"), **{k: _get(d, k) for k in keep}} for d in docs]
        elif name == "count":
            if not isinstance(arg, str) or not re.fullmatch(r"[A-Za-z0-9]+", arg):
                raise _bad("count needs a name of letters and digits")
            docs = [{arg: len(docs)}]
        else:
            raise _bad(f"Unsupported aggregate stage [{name}]")
    return {"total": len(docs), "items": docs}


def _group(entity: _Entity, docs: list[Any], spec: Any) -> list[dict[str, Any]]:
    if not isinstance(spec, dict):
        raise _bad("group must be an object")
    by = [b.strip() for b in str(spec.get("by") or "").split(",") if b.strip()]
    accs: list[tuple[str, str, str]] = []
    for out_name, text in spec.items():
        if out_name == "by":
            continue
        m = _AGG.match(str(text))
        if m is None:
            raise _bad(f"Invalid accumulator [{text}]")
        func, path = m.groups()
        if func != "count":
            fd = _field(entity, path)
            if func in ("sum", "avg") and fd.kind != "number":
                raise _bad(f"{func}() needs a number field, [{path}] is {fd.type}")
            if fd.kind == "date" and func not in ("min", "max", "first", "last"):
                raise _bad(f"{func}() is not supported on date field [{path}]")
        accs.append((out_name, func, path))
    big = {p for _, f, p in accs if f != "count" and _field(entity, p).type == "bigNumber"}
    for b in by:
        _field(entity, b)
    groups: dict[str, tuple[list[Any], list[Any]]] = {}
    for d in docs:
        keys = [_get(d, b) for b in by]
        gk = repr([_freeze(k) for k in keys])
        groups.setdefault(gk, (keys, []))[1].append(d)
    out = []
    for gk in sorted(groups):
        keys, members = groups[gk]
        row: dict[str, Any] = {b: k for b, k in zip(by, keys, strict=True)}
        for out_name, func, path in accs:
            if func == "count":
                row[out_name] = len(members)
                continue
            vals = [v for v in (_get(m, path) for m in members) if v is not None]
            if path in big:  # big numbers are strings on the wire, numbers to the server
                vals = [decimal.Decimal(v) if isinstance(v, str) else v for v in vals]
            if func == "sum":
                row[out_name] = sum(v for v in vals if _is_num(v))
            elif func == "avg":
                nums = [v for v in vals if _is_num(v)]
                row[out_name] = sum(nums) / len(nums) if nums else None
            elif func in ("min", "max"):
                pick = min if func == "min" else max
                row[out_name] = pick(vals, key=lambda v: (_bracket(v), v)) if vals else None
            else:
                all_vals = [_get(m, path) for m in members]
                row[out_name] = all_vals[0] if func == "first" else all_vals[-1]
            if isinstance(row[out_name], decimal.Decimal):
                row[out_name] = str(row[out_name])  # a big number result, written as one
        out.append(row)
    return out

