"""JSON records -> ``pyarrow.RecordBatch`` with a table's declared schema.

The hot path does no per-value Python work: records (already-decoded dicts) become one
``StructArray`` shaped like the JSON (``pa.array(records, type=raw)`` in C++, or pyarrow's JSON
reader while that spares importing pandas: ``convert/pyobjects.py``), then each
column is cut out and converted with Arrow compute kernels: ISO text -> timestamps, epoch
milliseconds -> TIMESTAMPTZ, and Entu-style arrays of value objects -> first value / LIST.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from dialect import ColumnDef, TableDef
from lowcode_sql.convert.pyobjects import (
    beyond_2_53,
    ints_of,
    numpy_bools,
    numpy_ints,
    python_array,
    python_value_array,
    read_one_object,
)
from lowcode_sql.errors import ConversionError
from lowcode_sql.gcpause import paused_gc
from lowcode_sql.requests import ArrowPage

__all__ = ["arrow_page_decoder", "paused_gc", "raw_type", "records_to_batch", "top_level_fields"]

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
    counts = np.bincount(ints_of(parents.filter(mask)), minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return kept, offsets, counts


def _convert_column(col: ColumnDef, raw: pa.Array, top: Mapping[str, pa.Array] | None = None) -> pa.Array:
    import pyarrow.compute as pc

    arr = _path(raw, col.json_path(), top)
    if col.extract in ("first", "all"):
        kept, offsets, counts = _values_lists(arr, col.item_key or "value")
        kept = _parse(col, kept)
        # numpy into Arrow by its buffers, not pa.array: pyarrow would import pandas (pyobjects)
        empty = numpy_bools(counts == 0)
        if col.extract == "all":
            out = pa.ListArray.from_arrays(numpy_ints(offsets), kept, mask=empty)
            return out.cast(col.type)
        if len(kept) == 0:
            return pa.nulls(len(arr), col.type)
        starts = np.minimum(offsets[:-1], max(len(kept) - 1, 0))
        first = kept.take(numpy_ints(starts))
        return pc.if_else(empty, pa.nulls(len(first), col.type), first.cast(col.type))
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
            raw = python_array(records, raw_t) if raw_t.num_fields else None
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
        raise ConversionError(_diagnose(table, cols, records, e)) from None
    return _raw_to_batch(table, cols, schema, raw, len(records), echo)


def _raw_to_batch(table: TableDef, cols: Sequence[ColumnDef], schema: pa.Schema, raw: pa.StructArray | None,
                  n: int, echo: Mapping[str, Any] | None) -> pa.RecordBatch:
    """The columns of ``n`` records held as one struct array shaped like their JSON."""
    # One flatten() for every top-level field: a kernel call per column costs a GIL round trip each,
    # which dominated conversion while the fetch thread was busy (bench_concurrency over HTTP).
    top = dict(zip((f.name for f in raw.type), raw.flatten(), strict=True)) if raw is not None else None
    arrays = []
    for col in cols:
        if col.filter_only:
            value = (echo or {}).get(col.name)
            # not pa.array: pyarrow would import pandas (convert/pyobjects.py)
            arrays.append(pa.nulls(n, col.type) if value is None else python_value_array(value, col.type, n))
            continue
        try:
            arrays.append(_convert_column(col, raw, top))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            raise ConversionError(f"{table.name}.{col.name}: cannot convert values to {col.type}: {e}") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


#: Below this size, a page of flat records (no struct or list field read) takes the usual path:
#: read_json costs ~0.2 ms a call before the first byte, orjson + ``pa.array`` ~1.3 µs a flat
#: record, read_json ~1.1 (5 fields, 170 bytes a record: 0.37 vs 0.23 ms for 200 records, 5.6 vs
#: 7.4 ms for 5,000). Nested records always gain (9-12 against 28-40 ms for 1,000 CoreData tasks).
#: Above ~64 KB read_json also wins on the clock, more than its CPU says: it parses without the
#: GIL, in a decoding thread, while orjson and ``pa.array`` hold it on the thread every page passes
#: through (1,000-record flat pages, 170 KB, 300k rows, alternating in one process: 1.64 vs 1.81 s
#: and 1.41 vs 1.68 s; it was 256 KB, which 1,000-record flat pages never reached).
FLAT_MIN_BYTES = 64 << 10


def arrow_page_decoder(table: TableDef, columns: Sequence[str], layout: tuple[str, tuple[str, ...]],
                       echo: Mapping[str, Any] | None = None) -> Callable[[bytes], ArrowPage | None] | None:
    """A decoder of a page's bytes straight into the batch ``records_to_batch(table, columns, ...)``
    makes of its records (``fetch.scan.iter_converted``), or None where that cannot be exact.

    ``layout`` is the dialect's ``page_layout``: the field holding the records and the path of the
    total (``()``: none). ``pyarrow.json`` reads the whole page as one row, the records field as a
    list of the raw struct (unknown fields ignored), with the GIL released and no Python object per
    value: 10 µs of CPU a 21-field record against 22 for orjson + ``pa.array`` (benchmarks/README.md,
    issue 15 item 3, third pass). Where the JSON does not fit the declared types it raises, and the
    page takes the usual path (so it fails or succeeds exactly as before); checked mismatches:
    number, bool, object or list into a string, ``"5"`` or ``1.0`` into int64, int into bool, bool
    into float, duplicate keys, lone surrogates, int64 overflow, ``1e400``. The one value it reads
    where ``pa.array`` raises, an integer literal between 2^53 and 2^64 into float64 (``orjson``
    gives a Python int that no double holds exactly), cannot be told apart from ``1e17`` once read:
    a page with any floating-point value of 2^53 or more in magnitude takes the usual path.
    Also None: a table without a top-level string or int64 key (the guards read the key)."""
    import pyarrow.json as pj

    key = table.key
    if key is None or not table.has(key) or table.column(key).json_path() != (key,) or table.column(key).filter_only:
        return None
    records_field, total_path = layout
    if total_path and total_path[0] == records_field:
        return None
    cols = [table.column(c) for c in columns]
    raw_t = raw_type([*cols, table.column(key)])
    if _has_decimal(raw_t) or raw_t.field(key).type not in (pa.string(), pa.int64()):
        return None
    fields: list[tuple[str, pa.DataType]] = [(records_field, pa.list_(raw_t))]
    if total_path:
        total_t: pa.DataType = pa.int64()
        for part in reversed(total_path[1:]):
            total_t = pa.struct([(part, total_t)])
        fields.append((total_path[0], total_t))
    parse = pj.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")
    schema = table.schema(columns)
    nested = any(pa.types.is_struct(f.type) or pa.types.is_list(f.type) for f in raw_t)

    def decode(body: bytes) -> ArrowPage | None:
        if not nested and len(body) < FLAT_MIN_BYTES:
            return None  # the usual path is cheaper here
        page = read_one_object(body, parse)
        if page is None:
            return None  # refused, or several JSON values: not one object (orjson refuses those too)
        lists = page.column(records_field).combine_chunks()
        if lists.null_count:
            return None  # no records list: parse_answer says what is wrong
        raw = lists.flatten()
        keys = raw.field(key)
        if raw.null_count or keys.null_count or beyond_2_53(raw):
            return None  # a null record or key: the guards then compare whole records
        total: Any = None
        if total_path:
            total = page.column(total_path[0])[0].as_py()
            for part in total_path[1:]:
                total = total.get(part) if isinstance(total, dict) else None
        try:
            batch = _raw_to_batch(table, cols, schema, raw, len(raw), echo)
        except ConversionError:
            return None
        return ArrowPage(batch, keys.to_pylist(), total if isinstance(total, int) else None)

    return decode


def _has_decimal(t: pa.DataType) -> bool:
    if pa.types.is_decimal(t):
        return True
    return any(_has_decimal(t.field(i).type) for i in range(t.num_fields))


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
