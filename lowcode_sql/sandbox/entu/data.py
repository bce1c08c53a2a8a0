"""Entu data loading: property definitions and Arrow columns -> Entu value objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lowcode_sql.sandbox._mongo import (
    BDate,
    ObjectId,
)
from lowcode_sql.sandbox.entu.values import _HEX24

# --------------------------------------------------------------------------------------------
# Property definitions
# --------------------------------------------------------------------------------------------


@dataclass
class _PropDef:
    name: str
    type: str  # string | number | boolean | date | datetime | reference
    search: bool = False
    list: bool = False
    reference_type: str | None = None


# --------------------------------------------------------------------------------------------
# Arrow -> values
# --------------------------------------------------------------------------------------------


def _arrow_values(column: pa.ChunkedArray | pa.Array) -> tuple[str, list[list[Any] | None]]:
    """(value key, per row: None or the non-null values)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        if pa.types.is_fixed_size_list(t):
            arr = arr.cast(pa.list_(t.value_type))
        kind, flat = _scalar_values(arr.values)
        offsets = arr.offsets.to_pylist()
        valid = arr.is_valid().to_pylist()
        rows: list[list[Any] | None] = []
        for i in range(len(arr)):
            if not valid[i]:
                rows.append(None)
                continue
            vals = [v for v in flat[offsets[i] : offsets[i + 1]] if v is not None]
            rows.append(vals or None)
        return kind, rows
    kind, flat = _scalar_values(arr)
    return kind, [None if v is None else [v] for v in flat]


def _scalar_values(arr: pa.Array) -> tuple[str, list[Any]]:
    t = arr.type
    if pa.types.is_dictionary(t):
        return _scalar_values(arr.dictionary_decode())
    if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
        return "string", arr.to_pylist()
    if pa.types.is_boolean(t):
        return "boolean", arr.to_pylist()
    if pa.types.is_integer(t):
        return "number", [v if v is None or abs(v) <= 2**53 else float(v) for v in arr.to_pylist()]
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number", [None if v is None else _num(float(v)) for v in arr.to_pylist()]
    if pa.types.is_date32(t):
        return "date", [None if v is None else BDate(v * 86_400_000) for v in arr.cast(pa.int32()).to_pylist()]
    if pa.types.is_date64(t):
        return "date", [None if v is None else BDate(v) for v in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_timestamp(t):
        div = {"s": None, "ms": 1, "us": 1000, "ns": 1_000_000}[t.unit]
        raw = arr.cast(pa.int64()).to_pylist()
        return "datetime", [None if v is None else BDate(v * 1000 if div is None else v // div) for v in raw]
    if pa.types.is_null(t):
        return "string", [None] * len(arr)
    raise TypeError(f"Entu sandbox cannot store Arrow type {t}")


def _load_oid(x: Any) -> ObjectId | None:
    if x is None:
        return None
    if isinstance(x, str) and _HEX24.fullmatch(x):
        return ObjectId(x.lower())
    raise ValueError(f"Entu ids and references are 24-hex ObjectId strings, not {x!r}")


def _num(f: float) -> float:
    return int(f) if f.is_integer() and abs(f) < 2**53 and not (f == 0 and math.copysign(1, f) < 0) else f
