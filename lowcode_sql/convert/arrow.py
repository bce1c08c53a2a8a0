"""JSON records -> ``pyarrow.RecordBatch`` with a table's declared schema.

The hot path does no per-value Python work: records (already-decoded dicts) become one
``StructArray`` shaped like the JSON (``pa.array(records, type=raw)`` runs in C++), then each
column is cut out and converted with Arrow compute kernels: ISO text -> timestamps, epoch
milliseconds -> TIMESTAMPTZ, and Entu-style arrays of value objects -> first value / LIST.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from dialect import ColumnDef, TableDef
from lowcode_sql.errors import ConversionError
from lowcode_sql.gcpause import paused_gc

__all__ = ["paused_gc", "raw_type", "records_to_batch", "top_level_fields"]

def _leaf_raw(col: ColumnDef) -> pa.DataType:
    if col.parse in ("iso", "date"):
        return pa.string()
    if col.parse == "epoch_ms":
        return pa.int64()
    if col.extract == "all":
        return col.type.value_type
    return col.type


def _column_raw(col: ColumnDef) -> pa.DataType:
    leaf = _leaf_raw(col)
    if col.extract in ("first", "all"):
        return pa.list_(pa.struct([(col.item_key or "value", leaf)]))
    return leaf


def raw_type(columns: Sequence[ColumnDef]) -> pa.StructType:
    """The JSON shape holding ``columns``, merged into one nested struct type."""
    tree: dict[str, Any] = {}
    for col in columns:
        if col.filter_only:
            continue
        path = col.json_path()
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConversionError(f"column {col.name}: path {'.'.join(path)} crosses a scalar")
        leaf, new = path[-1], _column_raw(col)
        old = node.get(leaf)
        if old is not None and old != new:
            if isinstance(old, pa.DataType) and pa.types.is_list(old) and pa.types.is_list(new):
                node[leaf] = pa.list_(_merge_struct(old.value_type, new.value_type))
                continue
            raise ConversionError(f"column {col.name}: conflicting JSON types at {'.'.join(path)}")
        node[leaf] = new

    def build(node: dict[str, Any]) -> pa.StructType:
        return pa.struct([(k, build(v) if isinstance(v, dict) else v) for k, v in node.items()])

    return build(tree)


def top_level_fields(table: TableDef, columns: Sequence[str]) -> frozenset[str]:
    """The record fields ``records_to_batch(table, columns, ...)`` reads: each column's first
    JSON path step."""
    return frozenset(table.column(c).json_path()[0] for c in columns if not table.column(c).filter_only)


def _merge_struct(a: pa.StructType, b: pa.StructType) -> pa.StructType:
    fields = {f.name: f for f in a}
    for f in b:
        fields.setdefault(f.name, f)
    return pa.struct(list(fields.values()))


def _path(arr: pa.Array, path: Sequence[str], top: Mapping[str, pa.Array] | None = None) -> pa.Array:
    import pyarrow.compute as pc  # lazily: ~50 ms of kernel wrapping that a query without a scan never needs

    if top is not None and path:  # the record's own fields, flattened once per page
        arr, path = top[path[0]], path[1:]
    for part in path:
        arr = pc.struct_field(arr, [part])
    return arr


def _values_lists(lists: pa.ListArray, key: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Non-null ``key`` values of every list element, with per-row offsets and counts."""
    import pyarrow.compute as pc

    n = len(lists)
    values = pc.struct_field(lists.flatten(), [key])
    parents = pc.list_parent_indices(lists)
    mask = values.is_valid()
    kept = values.filter(mask)
    counts = np.bincount(parents.filter(mask).to_numpy(zero_copy_only=False), minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return kept, offsets, counts


def _convert_column(col: ColumnDef, raw: pa.Array, top: Mapping[str, pa.Array] | None = None) -> pa.Array:
    import pyarrow.compute as pc

    arr = _path(raw, col.json_path(), top)
    if col.extract in ("first", "all"):
        kept, offsets, counts = _values_lists(arr, col.item_key or "value")
        kept = _parse(col, kept)
        empty = pa.array(counts == 0)
        if col.extract == "all":
            out = pa.ListArray.from_arrays(pa.array(offsets), kept, mask=empty)
            return out.cast(col.type)
        if len(kept) == 0:
            return pa.nulls(len(arr), col.type)
        starts = np.minimum(offsets[:-1], max(len(kept) - 1, 0))
        first = kept.take(pa.array(starts))
        return pc.if_else(empty, pa.scalar(None, col.type), first.cast(col.type))
    return _parse(col, arr).cast(col.type)


def _parse(col: ColumnDef, arr: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    target = col.type.value_type if col.extract == "all" else col.type
    if col.parse == "epoch_ms":
        return arr.cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC")).cast(target)
    if col.parse == "date":
        return pc.utf8_slice_codeunits(arr, 0, 10).cast(pa.date32())
    if col.parse == "iso":
        if pa.types.is_timestamp(target) and target.tz is None:
            # naive wall-clock text; tolerate a trailing 'Z' by reading it as UTC and dropping the zone
            if pc.any(pc.ends_with(arr, "Z")).as_py():
                return arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
            return arr.cast(pa.timestamp("us"))
        if pa.types.is_timestamp(target):
            return arr.cast(pa.timestamp("us", tz="UTC"))
    return arr


def records_to_batch(
    table: TableDef,
    columns: Sequence[str],
    records: list[Any],
    echo: Mapping[str, Any] | None = None,
) -> pa.RecordBatch:
    """Convert decoded JSON records into a batch holding ``columns`` (declared order kept).

    ``echo`` fills filter-only columns with the value of their pushed equality filter.
    """
    cols = [table.column(c) for c in columns]
    schema = table.schema(columns)
    if not cols:
        return pa.RecordBatch.from_pydict({}, schema=schema)
    raw_t = raw_type(cols)
    try:
        with paused_gc():
            raw = pa.array(records, type=raw_t) if raw_t.num_fields else None
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
        raise ConversionError(_diagnose(table, cols, records, e)) from None
    # One flatten() for every top-level field: a kernel call per column costs a GIL round trip each,
    # which dominated conversion while the fetch thread was busy (bench_concurrency over HTTP).
    top = dict(zip((f.name for f in raw_t), raw.flatten(), strict=True)) if raw is not None else None
    arrays = []
    for col in cols:
        if col.filter_only:
            value = (echo or {}).get(col.name)
            arrays.append(pa.array([value] * len(records), col.type))
            continue
        try:
            arrays.append(_convert_column(col, raw, top))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            raise ConversionError(f"{table.name}.{col.name}: cannot convert values to {col.type}: {e}") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _diagnose(table: TableDef, cols: Sequence[ColumnDef], records: list[Any], err: Exception) -> str:
    if any(not isinstance(r, dict) for r in records):
        return f"{table.name}: a record is not a JSON object"
    for col in cols:
        if col.filter_only:
            continue
        try:
            pa.array(records, type=raw_type([col]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
            return f"{table.name}.{col.name} ({'.'.join(col.json_path())}): unexpected value: {e}"
    return f"{table.name}: page does not match the declared schema: {err}"
