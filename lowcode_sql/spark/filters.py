"""Spark's pushed filters (``pyspark.sql.datasource``) as the planner's predicates.

Only filters whose meaning is certain become predicates; the rest stay with Spark. A value must have
the Python type of its column's Arrow type (Spark casts literals to the column's type first, so a
mismatch means a cast we do not model). Timestamps with a time zone are never translated: Spark hands
their literals over as naive datetimes in the session's zone, which the API's instants would read
differently.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pyarrow as pa
from pyspark.sql import datasource as sds

from lowcode_sql.types import Cmp, InList, IsNull, Like, LikePattern, Op, Pred

__all__ = ["to_pred"]

_CMP = {sds.EqualTo: Op.EQ, sds.GreaterThan: Op.GT, sds.GreaterThanOrEqual: Op.GE,
        sds.LessThan: Op.LT, sds.LessThanOrEqual: Op.LE}


def _fits(value: Any, typ: pa.DataType) -> bool:
    """Whether ``value`` is a literal of exactly the column's type."""
    if value is None:
        return False
    if pa.types.is_boolean(typ):
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if pa.types.is_integer(typ):
        return isinstance(value, int)
    if pa.types.is_floating(typ):
        return isinstance(value, float) and math.isfinite(value)  # NaN orders differently everywhere
    if pa.types.is_decimal(typ):
        return isinstance(value, Decimal) and value.is_finite()
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return isinstance(value, str)
    if pa.types.is_date(typ):
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if pa.types.is_timestamp(typ):
        return typ.tz is None and isinstance(value, dt.datetime) and value.tzinfo is None
    return False  # lists, structs, binary...


def _like(column: str, kind: type, text: str) -> Like:
    any_ = LikePattern.ANY
    parts: tuple[Any, ...]
    if kind is sds.StringStartsWith:
        parts = (text, any_)
    elif kind is sds.StringEndsWith:
        parts = (any_, text)
    else:
        parts = (any_, text, any_)
    return Like(column, LikePattern(tuple(p for p in parts if p != "")))


def to_pred(f: Any, types: dict[str, pa.DataType], *, top: bool = True) -> Pred | None:
    """``f`` as a ``Pred`` with the same rows kept in a WHERE clause, or None."""
    if isinstance(f, sds.Not):
        inner = to_pred(f.child, types, top=False)
        return None if inner is None else inner.negate()  # NNF: De Morgan holds in 3-valued logic
    attr = getattr(f, "attribute", None)
    if not isinstance(attr, tuple) or len(attr) != 1 or attr[0] not in types:
        return None  # a struct field (a.b) has no name in the IR
    col, typ = attr[0], types[attr[0]]
    if isinstance(f, sds.IsNull | sds.IsNotNull):
        return IsNull(col, negated=isinstance(f, sds.IsNotNull))
    if isinstance(f, sds.EqualNullSafe):
        # a <=> v keeps the rows a = v keeps; under NOT they differ (NULL), so only at the top
        return Cmp(col, Op.EQ, f.value) if top and _fits(f.value, typ) else None
    op = _CMP.get(type(f))
    if op is not None:
        return Cmp(col, op, f.value) if _fits(f.value, typ) else None
    if isinstance(f, sds.In):
        values = tuple(dict.fromkeys(f.value)) if isinstance(f.value, list | tuple) else ()
        if not values or not all(_fits(v, typ) for v in values):
            return None
        return InList(col, values)
    if isinstance(f, sds.StringStartsWith | sds.StringEndsWith | sds.StringContains):
        return _like(col, type(f), f.value) if _fits(f.value, typ) else None
    return None
