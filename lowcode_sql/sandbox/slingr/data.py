"""Slingr data loading: Arrow columns as Slingr fields and Python values in the API's wire format
(slingr-docs data/types/*.yml, via docs/notes/slingr-api.md).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox.slingr.values import FieldDef


def _field_from_arrow(name: str, t: pa.DataType) -> FieldDef:
    multiple = False
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        multiple, t = True, t.value_type
    if pa.types.is_struct(t):
        names = [f.name for f in t]
        if sorted(names) == ["id", "label"]:
            return FieldDef(name, "relationship", multiple)
        sub = {f.name: _field_from_arrow(f.name, f.type) for f in t}
        return FieldDef(name, "nestedFields", multiple, sub)
    if pa.types.is_boolean(t):
        typ = "boolean"
    elif pa.types.is_integer(t):
        typ = "integer"
    elif pa.types.is_decimal(t) and t.precision > 15:
        typ = "bigNumber"  # more digits than a JSON number (a double) keeps: Slingr's string-valued type
    elif pa.types.is_floating(t) or pa.types.is_decimal(t):
        typ = "decimal"
    elif pa.types.is_timestamp(t):
        typ = "dateTime"
    elif pa.types.is_date(t):
        typ = "date"
    else:
        typ = "text"
    return FieldDef(name, typ, multiple)


def _wire(v: Any, typ: str | None = None) -> Any:
    """A Python value from Arrow as the API writes it (``typ``: the field's Slingr type)."""
    if isinstance(v, list) and typ is not None:
        return [_wire(x, typ) for x in v]
    if isinstance(v, dt.datetime) and typ == "dateTimeNoTimezone":
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}"  # whole minutes
    if isinstance(v, dt.time) and typ == "time":
        return f"{v.hour:02d}:{v.minute:02d}"
    if isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool) and typ == "bigNumber":
        return str(v)
    if isinstance(v, decimal.Decimal):  # a decimal field is a JSON number (seed, record format)
        return float(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        delta = v - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return delta // dt.timedelta(milliseconds=1)  # floored to the millisecond
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _wire(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_wire(x) for x in v]
    return v


