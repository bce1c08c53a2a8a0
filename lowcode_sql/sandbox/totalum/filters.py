"""The Totalum filter language (``FilterSearchQueryI``) and ``sort``, with MongoDB semantics.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from typing import Any

from lowcode_sql.sandbox._mongo import MISSING, compare, field_sort_key
from lowcode_sql.sandbox._mongo import type_order as _bracket
from lowcode_sql.sandbox.totalum.values import (
    _OPS,
    _RANGE,
    _RANGE_TYPES,
    TotalumHTTPError,
    _eq,
    _get,
    _ptype,
    _Table,
    compile_regex,
    parse_date,
)

# --------------------------------------------------------------------------------------------
# The Totalum filter language (``FilterSearchQueryI``)
# --------------------------------------------------------------------------------------------


def _cast(table: _Table, name: str, value: Any, from_text: bool) -> Any:
    """An operand as the server stores it for that property (dates parsed; bracket text typed)."""
    kind = _ptype(table, name)
    if value is None:
        return None
    if kind == "date":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            d = parse_date(value)
            if d is None:
                raise TotalumHTTPError(400, f"invalid date {value!r} for property {name!r}")
            return d
        return value
    if from_text and isinstance(value, str):
        if kind == "number":
            try:
                return float(value)
            except ValueError:
                return value
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def _field_matcher(table: _Table, name: str, cond: Any, from_text: bool) -> Any:
    """A predicate over a document for one ``field: cond`` pair."""
    if isinstance(cond, dict) and cond and set(cond) <= set(_OPS):
        tests = []
        kind = _ptype(table, name)
        if "options" in cond and "regex" not in cond:
            raise TotalumHTTPError(400, f"'options' without 'regex' on property {name!r}")
        for op, raw in cond.items():
            if op == "options":
                continue
            if op in _RANGE:
                if kind not in _RANGE_TYPES:
                    raise TotalumHTTPError(
                        400, f"operator {op!r} is only allowed for properties of type date or number "
                             f"({name!r} is {kind or 'unknown'})")
                v = _cast(table, name, raw, from_text)
                tests.append(_range_test(op, v))
            elif op == "ne":
                v = _cast(table, name, raw, from_text)
                tests.append(lambda x, v=v: not _eq(x, v))
            elif op == "regex":
                rx = compile_regex(raw, cond.get("options", "") or "")
                tests.append(rx.search)
            elif op in ("in", "nin"):
                if not isinstance(raw, list):
                    raise TotalumHTTPError(400, f"{op!r} needs an array on property {name!r}")
                vals = [_cast(table, name, v, from_text) for v in raw]
                hit = lambda x, vals=vals: any(_eq(x, v) for v in vals)  # noqa: E731
                tests.append(hit if op == "in" else (lambda x, hit=hit: not hit(x)))
            elif op == "exists":
                want = raw not in (False, 0, "false", "0", None)
                tests.append(lambda x, want=want: (x is not MISSING) == want)
        return lambda doc: all(t(_get(doc, name)) for t in tests)
    if isinstance(cond, dict):
        if any(k.startswith("$") for k in cond) or any(k in _OPS for k in cond):
            bad = sorted(k for k in cond if k not in _OPS)
            raise TotalumHTTPError(400, f"unknown filter operator {bad[0]!r} on property {name!r}")
        return lambda doc: _eq(_get(doc, name), cond)  # a literal document
    v = _cast(table, name, cond, from_text)
    return lambda doc: _eq(_get(doc, name), v)


def _range_test(op: str, v: Any) -> Any:
    def test(x: Any) -> bool:
        if x is MISSING or x is None or v is None or _bracket(x) != _bracket(v):
            return False  # comparisons stay inside one BSON type bracket
        c = compare(x, v)
        return {"gt": c > 0, "gte": c >= 0, "lt": c < 0, "lte": c <= 0}[op]

    return test


def _cond_matcher(table: _Table, cond: Any, from_text: bool) -> Any:
    if not isinstance(cond, dict):
        raise TotalumHTTPError(400, f"each filter condition must be an object, got {type(cond).__name__}")
    parts = []
    for key, value in cond.items():
        if key == "or":
            if not isinstance(value, list) or not value:
                raise TotalumHTTPError(400, "'or' needs a non-empty array of conditions")
            branches = [_cond_matcher(table, c, from_text) for c in value]
            parts.append(lambda doc, b=branches: any(m(doc) for m in b))
        else:
            parts.append(_field_matcher(table, key, value, from_text))
    return lambda doc: all(m(doc) for m in parts)


def compile_filter(table: _Table, flt: Any, from_text: bool = False) -> Any:
    if flt is None:
        return lambda doc: True
    if isinstance(flt, dict):
        flt = [flt]
    if not isinstance(flt, list):
        raise TotalumHTTPError(400, f"filter must be an array of conditions, got {type(flt).__name__}")
    parts = [_cond_matcher(table, c, from_text) for c in flt]
    return lambda doc: all(m(doc) for m in parts)


def sort_keys(sort: Mapping[str, Any]) -> list[tuple[str, int]]:
    """``(property, 1 | -1)`` for each key of a ``sort`` object; a bad direction is a 400."""
    keys = []
    for name, direction in sort.items():
        try:
            d = int(direction)
        except (TypeError, ValueError):
            d = {"asc": 1, "desc": -1, "ascending": 1, "descending": -1}.get(str(direction).lower(), 0)
        if d not in (1, -1):
            raise TotalumHTTPError(400, f"sort direction for {name!r} must be 1 or -1")
        keys.append((name, d))
    return keys


def _sort_docs(docs: list[dict[str, Any]], sort: Mapping[str, Any],
               rng: random.Random | None = None) -> list[dict[str, Any]]:
    keys = sort_keys(sort)
    if not keys:
        return docs

    def cmp(a: dict[str, Any], b: dict[str, Any]) -> int:
        for name, d in keys:
            c = compare(field_sort_key(_get(a, name), d), field_sort_key(_get(b, name), d))
            if c:
                return c * d
        return 0

    if rng is not None:
        docs = rng.sample(docs, len(docs))  # the sort below is stable: ties keep this random order
    return sorted(docs, key=functools.cmp_to_key(cmp))
