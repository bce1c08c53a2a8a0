"""The subset of MongoDB aggregation pipelines that ``custom-mongo-aggregation-query`` runs.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping
from typing import Any

from lowcode_sql.sandbox._mongo import MISSING, BDate, ObjectId, compare, group_key
from lowcode_sql.sandbox.totalum.filters import _range_test, _sort_docs
from lowcode_sql.sandbox.totalum.values import (
    _HEX24,
    _OPS,
    _RANGE,
    TotalumHTTPError,
    _eq,
    _get,
    _Table,
    compile_regex,
    parse_date,
)

# --------------------------------------------------------------------------------------------
# Aggregation pipelines (subset)
# --------------------------------------------------------------------------------------------


def _expr(doc: Mapping[str, Any], e: Any) -> Any:
    if isinstance(e, str) and e.startswith("$"):
        return _get(doc, e[1:])
    if isinstance(e, dict) and len(e) == 1 and next(iter(e)).startswith("$"):
        (op, arg), = e.items()
        if op == "$cond":
            if isinstance(arg, dict):
                arg = [arg.get("if"), arg.get("then"), arg.get("else")]
            test = _expr(doc, arg[0])
            return _expr(doc, arg[1] if test not in (None, False, 0, MISSING) else arg[2])
        if op in ("$gt", "$gte", "$lt", "$lte", "$eq", "$ne", "$cmp"):
            a, b = (_expr(doc, x) for x in arg)
            c = _expr_cmp(a, b)
            return {"$gt": c > 0, "$gte": c >= 0, "$lt": c < 0, "$lte": c <= 0, "$eq": c == 0, "$ne": c != 0,
                    "$cmp": c}[op]
        if op == "$ifNull":
            for x in arg:
                v = _expr(doc, x)
                if v is not None and v is not MISSING:
                    return v
            return None
        if op == "$literal":
            return arg
        if op == "$toDate":
            v = _expr(doc, arg)
            if v is None or v is MISSING or isinstance(v, BDate):
                return None if v is MISSING else v
            d = parse_date(v)
            if d is None:
                raise TotalumHTTPError(400, f"$toDate cannot convert {v!r}")
            return d
        if op == "$toObjectId":
            v = _expr(doc, arg)
            if isinstance(v, str):
                if not _HEX24.match(v):
                    raise TotalumHTTPError(400, f"$toObjectId: {v!r} is not an ObjectId")
                return ObjectId(v)
            return None if v is MISSING else v
        raise TotalumHTTPError(400, f"unsupported aggregation expression {op!r}")
    if isinstance(e, dict):
        return {k: _expr(doc, v) for k, v in e.items()}
    return e


def _expr_cmp(a: Any, b: Any) -> int:
    # In aggregation expressions a missing field sorts below null (BSON "undefined" vs null).
    if a is MISSING or b is MISSING:
        if a is MISSING and b is MISSING:
            return 0
        return -1 if a is MISSING else 1
    return compare(a, b)


def _mongo_query(table: _Table, q: Any, caseless: bool = False) -> Any:
    """A ``$match`` document (Mongo query language with ``$`` operators). ``caseless``: the variant
    ``case_insensitive_eq``, text equality under a case-insensitive collation (as in ``filter``)."""

    def eq(key: str, v: Any) -> Callable[[Any], bool]:
        prop = table.props.get(key)
        if caseless and isinstance(v, str) and prop is not None and prop.type in ("text", "options"):
            return lambda x: isinstance(x, str) and x.casefold() == v.casefold()
        return lambda x: _eq(x, v)

    if not isinstance(q, dict):
        raise TotalumHTTPError(400, "$match needs an object")
    parts: list[Callable[..., bool]] = []  # lambdas binding loop values as defaults
    for key, cond in q.items():
        if key == "$expr":
            parts.append(lambda d, e=cond: _expr(d, e) not in (None, False, 0, MISSING))
            continue
        if key in ("$and", "$or", "$nor"):
            subs = [_mongo_query(table, c, caseless) for c in cond]
            if key == "$and":
                parts.append(lambda d, s=subs: all(m(d) for m in s))
            elif key == "$or":
                parts.append(lambda d, s=subs: any(m(d) for m in s))
            else:
                parts.append(lambda d, s=subs: not any(m(d) for m in s))
            continue
        if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            mapped = {}
            for op, v in cond.items():
                name = op[1:]
                if name == "eq":
                    test = eq(key, v)
                    parts.append(lambda d, k=key, t=test: t(_get(d, k)))
                    continue
                if name not in _OPS:
                    raise TotalumHTTPError(400, f"unsupported query operator {op!r}")
                mapped[name] = v
            if mapped:
                # $match is raw Mongo: no property-type restriction on ranges
                tests: list[Callable[..., Any]] = []
                for name, v in mapped.items():
                    if name in _RANGE:
                        tests.append(_range_test(name, v))
                    elif name == "ne":
                        tests.append(lambda x, v=v: not _eq(x, v))
                    elif name == "regex":
                        rx = compile_regex(v, mapped.get("options", ""))
                        tests.append(rx.search)
                    elif name in ("in", "nin"):
                        each = [eq(key, y) for y in v]
                        hit = lambda x, ts=each: any(t(x) for t in ts)  # noqa: E731
                        tests.append(hit if name == "in" else (lambda x, hit=hit: not hit(x)))
                    elif name == "exists":
                        tests.append(lambda x, w=bool(v): (x is not MISSING) == w)
                parts.append(lambda d, k=key, t=tests: all(f(_get(d, k)) for f in t))
            continue
        test = eq(key, cond)
        parts.append(lambda d, k=key, t=test: t(_get(d, k)))
    return lambda d: all(m(d) for m in parts)


def _accumulate(op: str, values: list[Any]) -> Any:
    if op == "$sum":
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        total = sum(nums)
        return total
    if op == "$avg":
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        return sum(nums) / len(nums) if nums else None
    if op in ("$min", "$max"):
        present = [v for v in values if v is not None and v is not MISSING]
        if not present:
            return None
        key = functools.cmp_to_key(compare)
        return min(present, key=key) if op == "$min" else max(present, key=key)
    if op == "$first":
        return None if not values or values[0] is MISSING else values[0]
    raise TotalumHTTPError(400, f"unsupported accumulator {op!r}")


def _bson_ids(table: _Table, doc: dict[str, Any]) -> dict[str, Any]:
    """A stored row as MongoDB holds it: ``_id`` and many-to-one values are ObjectIds (notes "Storage and
    types"), kept as hex text elsewhere in the sandbox. The REST filters cast operands by property type,
    so there the text compares and sorts like the ObjectId; a raw pipeline does not cast, and an ObjectId
    must sort after strings (and never equal one). Ids that are not 24 lower-case hex digits (possible
    through ``load_table``) stay strings."""
    refs = [name for name, p in table.props.items() if p.type == "many-to-one"] + ["_id"]
    out = dict(doc)
    for name in refs:
        v = out.get(name)
        if isinstance(v, str) and _HEX24.match(v):
            out[name] = ObjectId(v)
    return out


def _aggregate(table: _Table, docs: list[dict[str, Any]], pipeline: list[Any],
               rng: random.Random | None = None, caseless: bool = False) -> list[dict[str, Any]]:
    docs = [_bson_ids(table, d) for d in docs]
    for stage in pipeline:
        if not isinstance(stage, dict) or len(stage) != 1:
            raise TotalumHTTPError(400, "each pipeline stage must be an object with one operator")
        (op, arg), = stage.items()
        if op == "$match":
            m = _mongo_query(table, arg, caseless)
            docs = [d for d in docs if m(d)]
        elif op == "$group":
            if not isinstance(arg, dict) or "_id" not in arg:
                raise TotalumHTTPError(400, "$group needs an _id")
            groups: dict[Any, tuple[Any, list[dict[str, Any]]]] = {}
            for d in docs:
                key = _expr(d, arg["_id"])
                key = None if key is MISSING else key
                if isinstance(key, dict):
                    key = {k: (None if v is MISSING else v) for k, v in key.items()}
                # 1 and 1.0 are one key, dates and strings stay apart, and documents keep their
                # field order ({a, b} and {b, a} are two groups, as in MongoDB)
                groups.setdefault(group_key(key), (key, []))[1].append(d)
            out = []
            for key, members in groups.values():
                row: dict[str, Any] = {"_id": key}
                for name, acc in arg.items():
                    if name == "_id":
                        continue
                    if not isinstance(acc, dict) or len(acc) != 1:
                        raise TotalumHTTPError(400, f"bad accumulator for {name!r}")
                    (aop, aexpr), = acc.items()
                    if aop == "$count":
                        row[name] = len(members)
                        continue
                    row[name] = _accumulate(aop, [_expr(m, aexpr) for m in members])
                out.append(row)
            docs = out
        elif op == "$sort":
            docs = _sort_docs(docs, arg, rng)
        elif op == "$skip":
            docs = docs[int(arg):]
        elif op == "$limit":
            docs = docs[: int(arg)]
        elif op == "$count":
            docs = [{str(arg): len(docs)}] if docs else []
        elif op == "$project":
            keep = [k for k, v in arg.items() if v not in (0, False)]
            docs = [{k: d[k] for k in keep if k in d} | ({"_id": d["_id"]} if arg.get("_id", 1) and "_id" in d else {})
                    for d in docs]
        else:
            raise TotalumHTTPError(400, f"unsupported pipeline stage {op!r}")
    return docs

