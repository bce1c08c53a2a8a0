"""A query's answer as a Python user expects it: Arrow, rows, notebooks, other Arrow libraries.

``Result`` is what ``Connection.sql`` returns (the whole answer, held as one Arrow table);
``StreamedResult`` is what ``Connection.stream`` returns (the answer read batch by batch while the
scans' pages arrive). Both

* hand their Arrow data to any library that speaks the Arrow PyCapsule protocol
  (``__arrow_c_stream__``): ``pyarrow.table(r)``, ``polars.DataFrame(r)``, ``duckdb.sql("FROM r")``
  read the buffers without a copy;
* iterate rows one batch at a time, so ``for row in r`` holds the Python objects of one batch, never
  of the whole answer;
* print a short summary (rows, columns and their types, requests) and render as an HTML table in
  notebooks (``_repr_html_``), without the internal view names of the SQL DuckDB ran.
"""

from __future__ import annotations

import functools
import html
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import pyarrow as pa

__all__ = ["BATCH_ROWS", "Result", "StreamedResult", "python_values"]

BATCH_ROWS = 65_536  # rows turned into Python objects at a time (as Engine.stream's batches)
HTML_ROWS = 10  # rows shown by _repr_html_
_CELL = 80  # characters of a value shown in the HTML table
_REPR_COLUMNS = 8  # columns named by the text repr


def _type_name(t: pa.DataType) -> str:
    from lowcode_sql.sqltypes import sql_type  # DuckDB's names (VARCHAR, TIMESTAMP WITH TIME ZONE, ...)

    if pa.types.is_dictionary(t):
        t = t.value_type
    try:
        return sql_type(t)
    except (TypeError, KeyError, ValueError):  # a type no SQL name was made for: Arrow's name says what it is
        return str(t).upper()


def _rows(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[Any, ...]]:
    """Rows as tuples, one batch's Python values alive at a time (``zip`` builds each tuple lazily)."""
    for batch in batches:
        if batch.num_rows == 0:
            continue
        cols = [python_values(c) for c in batch.columns]
        if not cols:  # no columns (SELECT with an empty projection): empty tuples
            yield from (() for _ in range(batch.num_rows))
            continue
        yield from zip(*cols, strict=True)
        del cols


def python_values(col: pa.Array | pa.ChunkedArray) -> list[Any]:
    """``col.to_pylist()``, without importing pandas where pyarrow would for nothing.

    For a timestamp with a time zone, pyarrow first asks whether pandas is installed, which imports
    it (~0.2 s and ~40 MB once per process: pyarrow ``scalar.pxi`` ``TimestampScalar.as_py``), though
    it only uses pandas for nanoseconds. DuckDB's TIMESTAMPTZ is microseconds, so a DB-API
    ``fetchall`` paid that in a connection's first query. While pandas is not imported, a column
    holding such timestamps (in lists and structs too) is read without zones and each value then
    moved into its zone as pyarrow does it (``_zoned``)."""
    if "pandas" in sys.modules or not _has_zone(col.type):
        return col.to_pylist()
    return _zoned_values(col)


def _zoned_values(col: pa.Array | pa.ChunkedArray) -> list[Any]:
    t = col.type
    try:
        naive = col.cast(_without_zones(t))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a nesting Arrow cannot cast: pyarrow's way
        return col.to_pylist()
    return [_zoned(v, t) for v in naive.to_pylist()]


def _has_zone(t: pa.DataType) -> bool:
    """Whether a microsecond-or-coarser timestamp with a zone is in ``t`` (nanoseconds become
    pandas Timestamps where pandas is installed: that is pyarrow's to do)."""
    if pa.types.is_timestamp(t):
        return bool(t.tz) and t.unit != "ns"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _has_zone(t.value_type)
    if pa.types.is_struct(t):
        return any(_has_zone(t.field(i).type) for i in range(t.num_fields))
    return False  # maps, unions, dictionaries: pyarrow's way (_without_zones leaves them alone)


def _without_zones(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp(t.unit)  # the same UTC values, no zone
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_without_zones(t.value_type)))
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_without_zones(t.value_type)))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(t.value_field.with_type(_without_zones(t.value_type)), t.list_size)
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_without_zones(t.field(i).type)) for i in range(t.num_fields)])
    return t


def _zoned(v: Any, t: pa.DataType) -> Any:
    """A value read by ``to_pylist`` from ``_without_zones(t)``, as ``t``'s ``to_pylist`` makes it:
    UTC instants moved into the zone pyarrow names (``string_to_tzinfo``: ``zoneinfo``, or a fixed
    offset)."""
    if v is None or not _has_zone(t):
        return v
    if pa.types.is_timestamp(t):
        return v.replace(tzinfo=UTC).astimezone(_zone(t.tz))
    if pa.types.is_struct(t):
        return {k: _zoned(x, t.field(k).type) for k, x in v.items()}
    return [_zoned(x, t.value_type) for x in v]


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> Any:
    return pa.lib.string_to_tzinfo(name)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _summary(schema: pa.Schema, rows: str, requests: int) -> str:
    cols = [f"{f.name} {_type_name(f.type)}" for f in schema]
    shown = ", ".join(cols[:_REPR_COLUMNS]) + (f", … ({len(cols) - _REPR_COLUMNS} more)"
                                                 if len(cols) > _REPR_COLUMNS else "")
    return f"{rows}, {_plural(len(cols), 'column')} ({shown}); {_plural(requests, 'request')}"


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    if len(text) > _CELL:
        text = text[:_CELL - 1] + "…"
    return html.escape(text)


def _html(schema: pa.Schema, head: pa.Table, caption: str) -> str:
    out = ["<table class=\"lowcode-sql-result\">", f"<caption>{html.escape(caption)}</caption>", "<thead><tr>"]
    out.extend(f"<th>{html.escape(f.name)}<br><small>{html.escape(_type_name(f.type))}</small></th>"
               for f in schema)
    out.append("</tr></thead><tbody>")
    for row in _rows(head.to_batches()):
        out.append("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


@dataclass(repr=False)
class Result:
    """A query's answer, as Arrow (and converters), with what fetching it cost."""

    table: pa.Table
    scans: list[Any] = field(default_factory=list)  # ScanReport per remote scan
    sql: str = ""  # what DuckDB ran over the scans' internal views (for debugging, not shown)
    elapsed: float = 0.0

    @property
    def columns(self) -> list[str]:
        return self.table.column_names

    @property
    def schema(self) -> pa.Schema:
        return self.table.schema

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.scans)

    def arrow(self) -> pa.Table:
        return self.table

    to_arrow = arrow

    def df(self) -> Any:
        """A pandas DataFrame (needs pandas: ``pip install 'lowcode-sql[pandas]'``)."""
        _need("pandas", "df")
        return self.table.to_pandas()

    def pl(self) -> Any:
        """A polars DataFrame (needs polars: ``pip install 'lowcode-sql[polars]'``)."""
        _need("polars", "pl")
        import polars as pl

        return pl.from_arrow(self.table)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self)

    def batches(self, max_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        """The rows as Arrow record batches of at most ``max_rows`` rows (no copy)."""
        return iter(self.table.to_batches(max_chunksize=max_rows))

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        # batch by batch: the Python objects of one batch at a time, not of every row at once
        return _rows(self.batches())

    def __len__(self) -> int:
        return self.table.num_rows

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule stream protocol: other libraries read the buffers without a copy."""
        return self.table.__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self) -> Any:
        return self.table.schema.__arrow_c_schema__()

    def __repr__(self) -> str:
        return f"<lowcode_sql.Result: {_summary(self.table.schema, _plural(len(self), 'row'), self.requests)}>"

    def _repr_html_(self) -> str:
        """The first rows as an HTML table with the row count, column types and requests (Jupyter)."""
        n = len(self)
        shown = min(n, HTML_ROWS)
        caption = (f"{_plural(n, 'row')}" + (f" (first {shown} shown)" if shown < n else "")
                   + f", {_plural(self.table.num_columns, 'column')}, {_plural(self.requests, 'request')}")
        return _html(self.table.schema, self.table.slice(0, shown), caption)


class StreamedResult:
    """A started query read batch by batch (``Connection.stream``): iterate rows or batches, or hand
    it to an Arrow library; close it (or use ``with``) to stop its scans early.

    While it is open, the Connection's other queries first read the rest of it into memory (its
    DuckDB connection can run one query at a time), so it stays correct, only no longer streamed.
    """

    def __init__(self, stream: Any, on_close: Any = None) -> None:
        self._stream = stream  # lowcode_sql.execute.engine.ResultStream
        self._on_close = on_close
        self._buffered: list[pa.RecordBatch] | None = None  # filled by _settle()
        self._closed = False

    @property
    def schema(self) -> pa.Schema:
        return self._stream.schema

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    @property
    def scans(self) -> list[Any]:
        return list(self._stream.reports)

    @property
    def requests(self) -> int:
        """Requests the scans have sent so far."""
        return sum(s.requests for s in self._stream.reports)

    @property
    def closed(self) -> bool:
        return self._closed

    def read_next_batch(self) -> pa.RecordBatch | None:
        """The next batch, or None at the end (the scans are then closed)."""
        if self._buffered is not None:
            if self._buffered:
                return self._buffered.pop(0)
            self.close()
            return None
        if self._closed:
            return None
        batch = self._stream.read_next_batch()
        if batch is None:
            self.close()
        return batch

    def batches(self) -> Iterator[pa.RecordBatch]:
        while (batch := self.read_next_batch()) is not None:
            yield batch

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return _rows(self.batches())

    def read_all(self) -> pa.Table:
        """The rest of the answer as one ``pyarrow.Table``."""
        return pa.Table.from_batches(list(self.batches()), self.schema)

    def arrow(self) -> pa.Table:
        return self.read_all()

    def df(self) -> Any:
        _need("pandas", "df")
        return self.read_all().to_pandas()

    def pl(self) -> Any:
        _need("polars", "pl")
        import polars as pl

        return pl.from_arrow(self.read_all())

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self)

    def reader(self) -> pa.RecordBatchReader:
        """The rest of the answer as a ``pyarrow.RecordBatchReader`` (lazy)."""
        return pa.RecordBatchReader.from_batches(self.schema, self.batches())

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule stream protocol (read once: the batches are consumed)."""
        return self.reader().__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self) -> Any:
        return self.schema.__arrow_c_schema__()

    def _settle(self) -> None:
        """Read the rest into memory and free the DuckDB connection (another query needs it)."""
        if self._closed or self._buffered is not None:
            return
        rest: list[pa.RecordBatch] = []
        while (batch := self._stream.read_next_batch()) is not None:
            rest.append(batch)
        self._stream.close()
        self._buffered = rest

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._buffered = None
        self._stream.close()
        if self._on_close is not None:
            self._on_close(self)

    def __enter__(self) -> StreamedResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort: an abandoned stream frees DuckDB
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<lowcode_sql.StreamedResult ({state}): {_summary(self.schema, 'streamed', self.requests)}>"

    def _repr_html_(self) -> str:
        # rendering must not consume the stream: show the columns only
        caption = f"streamed result, {_plural(len(self.schema), 'column')}, {_plural(self.requests, 'request')}"
        return _html(self.schema, self.schema.empty_table(), caption)


def _need(module: str, method: str) -> None:
    """An optional dependency, or an error that says how to install it (a bare "No module named
    'pandas'" left users guessing the extra's name)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise ModuleNotFoundError(f"Result.{method}() needs {module}: pip install 'lowcode-sql[{module}]'",
                                  name=module) from None
