"""Entu filters: the query-parameter parser of routes/[db]/entity/index.get.js (github.com/entu/api)
and MongoDB's matching of its conditions over the value arrays of an entity ("notes" =
docs/notes/entu-api.md, section "Filters"; "MONGO:" marks where MongoDB overrides them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lowcode_sql.sandbox._base import Request
from lowcode_sql.sandbox._mongo import (
    ARRAY,
    MISSING,
    OBJECT,
    RegexSyntax,
    compare,
    compile_mongo_regex,
    is_nan,
)
from lowcode_sql.sandbox._mongo import Regex as _Regex
from lowcode_sql.sandbox._mongo import type_order as _bracket
from lowcode_sql.sandbox.entu.values import (
    EntuHTTPError,
    _js_lower,
    _js_split,
    _Ops,
    _server_error,
    js_number,
    object_id,
    parse_date,
)


def _js_regex(value: str) -> _Regex:
    """The ``regex`` branch of the filter parser: ``/pattern/flags``.

    ``parts = v.split('/')`` and only ``parts[1]`` is the pattern, so a ``/`` inside the pattern cuts
    it (notes "Filters"); flags keep only ``imsx``; ``new RegExp`` failure -> 400 "Invalid regex".
    """
    parts = value.split("/")
    pattern = parts[1]
    flags = re.sub(r"[^imsx]", "", parts[2] if len(parts) > 2 else "")
    if "x" in flags or len(set(flags)) != len(flags):
        raise EntuHTTPError(400, "Invalid regex")  # JS: "Invalid flags supplied to RegExp constructor"
    # MONGO/js-bson: RegExp -> BSON regex with source and flags i, m (dotAll 's' is dropped).
    source = pattern if pattern else "(?:)"
    mongo_flags = "".join(f for f in "im" if f in flags)
    try:
        compiled, js_ok = compile_mongo_regex(source, mongo_flags)
    except RegexSyntax as exc:
        if exc.js_ok:
            raise _server_error(f"MongoServerError: Regular expression is invalid: {exc}") from exc
        raise EntuHTTPError(400, "Invalid regex") from exc
    if not js_ok:  # e.g. (?i) or a possessive quantifier: new RegExp throws first
        raise EntuHTTPError(400, "Invalid regex")
    return _Regex(source, mongo_flags, compiled)


def _mongo_regex_string(value: str) -> _Regex:
    """``$regex: "<string>"`` (a value without ``/``): PCRE compiles it; an error is a MongoServerError (500)."""
    try:
        return _Regex(value, "", compile_mongo_regex(value, "")[0])
    except RegexSyntax as exc:
        raise _server_error(f"MongoServerError: Regular expression is invalid: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------

_OPERATORS = ("gt", "gte", "lt", "lte", "ne", "regex", "exists", "in")
_WORD = re.compile(r"[A-Za-z0-9_]+")


def _convert(type_: str, op: str | None, v: str | tuple[str, ...]) -> Any:
    """The type switch of routes/[db]/entity/index.get.js (notes "Filters" table).

    MONGO/notes "exists caveat": ``exists`` becomes a boolean only in the boolean and default branches.
    """
    if type_ == "reference":
        return [object_id(x) for x in _js_split(v)] if op == "in" else object_id(v)
    if type_ == "boolean":
        if op == "in":
            return [x.lower() == "true" for x in _js_split(v)]
        return _js_lower(v) == "true"
    if type_ in ("number", "filesize"):
        return [js_number(x) for x in _js_split(v)] if op == "in" else js_number(v)
    if type_ in ("date", "datetime"):
        return [parse_date(x) for x in _js_split(v)] if op == "in" else parse_date(v)
    if op == "regex" and "/" in v:  # String#includes, or Array#includes for a repeated key
        return _js_regex(v) if isinstance(v, str) else v
    if op == "exists":
        return _js_lower(v) == "true"
    if op == "in":
        return _js_split(v)
    return v


#: strict mode: the list parameters the seed documents ("GET /api/{account}/entity"); every other
#: key must be a filter ``property.type[.operator]`` with one of the seed's operators, or ``in``
#: (docs/notes/entu-api.md "Filters (parsed in routes/[db]/entity/index.get.js)" lists it [C])
_LIST_PARAMS = frozenset({"q", "props", "group", "sort", "limit", "skip"})
_DOCUMENTED_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "ne", "regex", "exists", "in"})


def undocumented_list_params(request: Request) -> str | None:
    """The first list parameter strict mode rejects, or None."""
    for k, _ in request.query:
        if k in _LIST_PARAMS:
            continue
        parts = k.split(".")
        if len(parts) == 2 or (len(parts) == 3 and parts[2] in _DOCUMENTED_OPERATORS):
            continue
        return k
    return None


def _query_args(request: Request) -> dict[str, str | tuple[str, ...]]:
    """h3 ``getQuery``: first-appearance key order; a repeated key becomes an array."""
    out: dict[str, str | tuple[str, ...]] = {}
    for k, v in request.query:
        if k in out:
            prev = out[k]
            out[k] = (*prev, v) if isinstance(prev, tuple) else (prev, v)
        else:
            out[k] = v
    return out


def parse_filters(query: Mapping[str, str | tuple[str, ...]]) -> dict[tuple[str, str], Any]:
    """Query parameters -> ``{(prop, type): operand-or-_Ops}`` exactly like the server's loop."""
    filters: dict[tuple[str, str], Any] = {}
    for k, v in query.items():
        if "." not in k:
            continue
        parts = k.split(".")
        field, type_ = parts[0], parts[1]
        op = parts[2] if len(parts) > 2 else None
        if not _WORD.fullmatch(field) or not _WORD.fullmatch(type_):
            continue  # notes: "other keys ... are silently ignored"
        value = _convert(type_, op, v)
        key = (field, type_)
        if op in _OPERATORS:
            # filter[k] = {...filter[k] || {}, [`$${op}`]: value}: spreading an earlier plain string
            # (or array) yields index keys, making a literal document that matches nothing.
            prev = filters.get(key)
            ops = _Ops(prev) if isinstance(prev, _Ops) else _Ops()
            ops.literal = (isinstance(prev, _Ops) and prev.literal) or (isinstance(prev, str | tuple) and len(prev) > 0)
            if op == "regex" and not isinstance(value, _Regex):
                if isinstance(value, str):
                    value = _mongo_regex_string(value)
                else:
                    raise _server_error("MongoServerError: $regex has to be a string")
            ops[op] = value
            filters[key] = ops
        else:
            filters[key] = value
    return filters


def _candidates(private: Mapping[str, Any], prop: str, type_: str) -> tuple[bool, list[Any]]:
    """Values reachable by ``private.<prop>.<type>``: (some value object has the key, the values)."""
    arr = private.get(prop)
    if not isinstance(arr, list):
        return False, []
    vals = [sub[type_] for sub in arr if isinstance(sub, dict) and type_ in sub]
    return bool(vals), vals


def _match_values(has: bool, vals: list[Any], cond: Any) -> bool:
    """Whether ``cond`` holds of a field's candidates (``_candidates``: some value object has the
    key, the values)."""
    if not isinstance(cond, _Ops):
        if isinstance(cond, tuple):  # equality with an array operand: no scalar value equals it
            return False
        return any(_eq(c, cond) for c in vals)
    if cond.literal:
        return False
    for op, v in cond.items():
        if op in ("gt", "gte", "lt", "lte"):
            ok = not isinstance(v, tuple | list) and any(_range(op, c, v) for c in vals)
        elif op == "ne":
            ok = isinstance(v, tuple) or not any(_eq(c, v) for c in vals)
        elif op == "in":
            ok = any(_eq(c, x) for c in vals for x in v)
        elif op == "exists":
            ok = has if _true_value(v) else not has
        else:  # regex
            ok = any(isinstance(c, str) and v.compiled.search(c) is not None for c in vals)
        if not ok:
            return False
    return True


def _eq(c: Any, v: Any) -> bool:
    """Query equality of one candidate with the operand (same bracket; NaN equals NaN)."""
    if _bracket(c) != _bracket(v):
        return False
    return compare(c, v) == 0


def _range(op: str, c: Any, v: Any) -> bool:
    """$gt/$gte/$lt/$lte of one candidate: only within the operand's type bracket."""
    if _bracket(c) != _bracket(v) or _bracket(v) in (OBJECT, ARRAY):
        return False
    if is_nan(c) or is_nan(v):
        # MONGO (ComparisonMatchExpression): "NaN is equal to NaN but otherwise always compares to false".
        return op in ("gte", "lte") and is_nan(c) and is_nan(v)
    r = compare(c, v)
    return {"gt": r > 0, "gte": r >= 0, "lt": r < 0, "lte": r <= 0}[op]


def _true_value(v: Any) -> bool:
    """MONGO ``BSONElement::trueValue``: numbers are ``!= 0`` (so NaN is true), bool itself, null false,
    anything else (strings, dates, ObjectIds) true."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    return True
