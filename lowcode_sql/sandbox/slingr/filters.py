"""Slingr filters (notes "Field filters", "Operators supported per type"): a field condition or a
``_query`` tree compiled to a predicate over records, with any-element semantics for multi-valued
fields.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

from lowcode_sql.sandbox._base import Request
from lowcode_sql.sandbox.slingr.query import _QueryParser, parse_expr
from lowcode_sql.sandbox.slingr.values import ALL_OPS, _bad, _cmp, _Entity, _field, _same, _typed, _values

# notes "Operators supported per type"
_OPS_BY_KIND: dict[str, frozenset[str]] = {
    "text": ALL_OPS,
    "number": ALL_OPS - {"like"},
    "date": ALL_OPS - {"like"},
    "boolean": frozenset({"equals", "notEquals"}),
    "choice": frozenset({"equals", "notEquals", "empty", "notEmpty"}),
    "relationship": frozenset({"equals", "notEquals", "empty", "notEmpty", "like"}),
    "nestedFields": frozenset({"equals", "empty", "notEmpty"}),
}


def _condition(entity: _Entity, path: str, expr: str, like_case_insensitive: bool) -> Any:
    """A compiled condition: a function record -> bool."""
    fd = _field(entity, path)
    op, args = parse_expr(expr)
    kind = fd.kind
    if fd.type == "nestedFields":
        raise _bad(f"Cannot filter by nested field [{path}] itself: use its inner fields", path)
    allowed = _OPS_BY_KIND.get(kind, frozenset())
    if op not in allowed:
        raise _bad(f"Operator [{op}] is not supported for field [{path}] of type {fd.type}", path)
    parts = path.split(".")
    is_rel = fd.type == "relationship"
    if is_rel:
        # notes: company=<label> or the id (company.id / company.label filter the parts).
        def rel_values(rec: Any) -> list[Any]:
            out = []
            for v in _values(rec, parts):
                if isinstance(v, dict):
                    out += [x for x in (v.get("id"), v.get("label")) if x is not None]
            return out

        values_of = rel_values
    elif fd.type == "bigNumber":
        def big(rec: Any) -> list[Any]:  # strings on the wire, numbers to the server
            return [decimal.Decimal(v) if isinstance(v, str) else v for v in _values(rec, parts)]

        values_of = big
    else:
        def plain(rec: Any) -> list[Any]:
            return _values(rec, parts)

        values_of = plain
    if op == "empty":
        return lambda rec: not values_of(rec)
    if op == "notEmpty":
        return lambda rec: bool(values_of(rec))
    if op == "like":
        matcher = _like(args[0], path, like_case_insensitive)
        return lambda rec: any(isinstance(v, str) and matcher(v) for v in values_of(rec))
    typed = [_typed(fd, a, path) for a in args]
    if op == "equals":
        wanted = typed
        return lambda rec: any(_same(v, w) for v in values_of(rec) for w in wanted)
    if op == "notEquals":
        if len(typed) != 1:
            raise _bad("notEquals() takes one value", path)
        w0 = typed[0]
        return lambda rec: not any(_same(v, w0) for v in values_of(rec))
    if op == "between":
        lo, hi = typed
        # MongoDB {$gte, $lte} on an array: each bound may be met by a different element.
        return lambda rec: (any((c := _cmp(v, lo)) is not None and c >= 0 for v in values_of(rec))
                            and any((c := _cmp(v, hi)) is not None and c <= 0 for v in values_of(rec)))
    w = typed[0]
    test = {"greater": lambda c: c > 0, "greaterOrEquals": lambda c: c >= 0,
            "less": lambda c: c < 0, "lessOrEquals": lambda c: c <= 0}[op]
    return lambda rec: any((c := _cmp(v, w)) is not None and test(c) for v in values_of(rec))


def _like(arg: str, path: str, like_case_insensitive: bool) -> Any:
    flags = re.IGNORECASE if like_case_insensitive else 0
    if len(arg) >= 2 and arg.startswith("/") and arg.endswith("/"):
        try:
            rx = re.compile(arg[1:-1], flags)
        except re.error as e:
            raise _bad(f"Invalid regular expression in like() for field [{path}]: {e}", path) from None
        return lambda v: rx.search(v) is not None
    if arg.startswith("/"):
        rx = re.compile("^" + re.escape(arg[1:]), flags)
    elif arg.endswith("/"):
        rx = re.compile(re.escape(arg[:-1]) + r"\Z", flags)
    else:
        rx = re.compile(re.escape(arg), flags)
    return lambda v: rx.search(v) is not None


def _query_tree(entity: _Entity, node: tuple[Any, ...], like_case_insensitive: bool) -> Any:
    if node[0] == "filter":
        return _condition(entity, node[1], node[2], like_case_insensitive)
    subs = [_query_tree(entity, n, like_case_insensitive) for n in node[1]]
    if node[0] == "and":
        return lambda rec: all(s(rec) for s in subs)
    return lambda rec: any(s(rec) for s in subs)


def _filters(entity: _Entity, request: Request, like_case_insensitive: bool) -> list[Any]:
    conds = []
    seen: set[str] = set()
    for key, value in request.query:
        if key.startswith("_"):
            if key == "_query":
                conds.append(_query_tree(entity, _QueryParser(value).parse(), like_case_insensitive))
            continue
        if key in seen:  # notes: "The same key cannot repeat."
            raise _bad(f"Parameter [{key}] is repeated", key)
        seen.add(key)
        conds.append(_condition(entity, key, value, like_case_insensitive))
    return conds

