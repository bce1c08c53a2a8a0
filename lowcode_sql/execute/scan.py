"""Open one remote scan: a planned ``ScanSpec`` -> request -> pages -> Arrow, checked on the way.

The one path every consumer of a scan takes (the engine's ``execute`` and ``stream``, and the
tables ``duckdb_attach`` registers in the user's DuckDB), so that a check added here (the run-time
verifier of ``execute/verify.py``, the local re-check of filters a dialect could not send
together) guards them all:

* a contradiction is an empty table, with no request;
* a COUNT-only scan is N rows of NULL, from one request;
* a row scan (or a grouped one: a row per API group) is a lazy ``RecordBatchReader``: pages are
  fetched only as it is read, converted batch by batch, each batch checked against the exact
  filters and the order that were pushed, and closing it stops the pages.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dialect import ColumnDef, Dialect, TableDef
from lowcode_sql.convert.arrow import arrow_page_decoder, records_to_batch
from lowcode_sql.errors import ExecutionError, LowcodeSQLError
from lowcode_sql.execute.duck import scratch_cursor
from lowcode_sql.execute.verify import verifier_for
from lowcode_sql.fetch.cache import ResponseCache
from lowcode_sql.fetch.runtime import SourceRuntime
from lowcode_sql.fetch.scan import ScanStats, fetch_count, iter_converted
from lowcode_sql.requests import ArrowPage
from lowcode_sql.scanspec import Aggregate, ScanSpec

__all__ = ["OpenScan", "Progress", "ScanReport", "open_scan"]

Progress = Callable[[str, ScanStats, int | None], None]


@dataclass
class ScanReport:
    """What one remote scan did: for EXPLAIN ANALYZE-style output and tests."""

    source: str
    table: str
    requests: int = 0
    rows: int = 0
    pages: int = 0
    mode: str = "scan"  # scan | count | group | none
    # for EXPLAIN ANALYZE: the fetcher's counters, and the scan's time as DuckDB pulled it
    stats: ScanStats | None = None
    wait_seconds: float = 0.0  # waiting for the next page (the network)
    convert_seconds: float = 0.0  # JSON records to Arrow, in the consumer's thread
    # JSON to Arrow on the I/O loop as pages arrived (fetch.scan.iter_converted): mostly while the
    # consumer waited, so EXPLAIN ANALYZE moves it from the wait to "converting" (explain.py)
    decode_seconds: float = 0.0
    detail: str = ""  # how the scan was read, when not as planned alone (a bound join: execute/bound.py)


@dataclass
class OpenScan:
    """An opened scan: ``data`` to hand to DuckDB, its ``report``, and ``close()`` (stops the pages)."""

    data: pa.Table | pa.RecordBatchReader
    report: ScanReport
    close: Callable[[], None]


def _nothing() -> None:
    return None


def open_scan(source: str, table: TableDef, dialect: Dialect, spec: ScanSpec, runtime: SourceRuntime, *,
              readahead: int | None = None, lazy_start: bool = False, stats: ScanStats | None = None,
              progress: Progress | None = None, failures: list[BaseException] | None = None,
              output: Sequence[str] | None = None, recheck: str = "", ramp: bool = True) -> OpenScan:
    """Open the scan of ``table`` that ``spec`` describes.

    ``output``: the columns the reader yields, in that order (default: the spec's columns, or the
    table's cheapest one when the query needs rows but no column). ``recheck``: a DuckDB boolean
    expression over the fetched columns that every yielded row must satisfy (filters DuckDB
    accepted but the dialect could not send together). ``failures`` collects the typed error a
    broken scan raises (DuckDB passes it on only as text). ``ramp=False``: the consumer reads every
    page (a query without a LIMIT), so once the total is known every remaining page is requested
    at once (``fetch.scan.iter_pages``)."""
    report = ScanReport(source, table.name)
    if spec.contradiction:
        report.mode = "none"
        cols = spec.columns or (_cheapest_column(table),)
        return OpenScan(table.schema(cols).empty_table(), report, _nothing)
    request = dialect.render_scan(table, spec)
    if spec.count_only:
        stats = stats if stats is not None else ScanStats()
        asked = time.perf_counter()
        n = fetch_count(runtime, table, request, stats=stats, read_rows=True)
        report.wait_seconds = time.perf_counter() - asked
        report.mode, report.requests, report.rows, report.stats = "count", stats.requests, n, stats
        return OpenScan(pa.table({"__lc_row": pa.nulls(n)}), report, _nothing)
    columns = spec.columns if spec.columns or output is not None else (_cheapest_column(table),)
    if spec.grouped:
        # one row per API group: the keys and the group's aggregates (see ScanSpec.aggregates)
        extra = tuple(_aggregate_column(table, dialect, a) for a in spec.aggregates)
        table = dataclasses.replace(table, columns=(*table.columns, *extra))
        columns = (*spec.group_by, *(c.name for c in extra))
        report.mode = "group"
    names = list(columns if output is None else output)
    echo = dialect.echo_values(spec)
    stats = stats if stats is not None else ScanStats()
    report.stats = stats
    label = f"{source}.{table.name}"

    def on_progress(s: ScanStats, total: int | None) -> None:
        report.requests, report.rows, report.pages = s.requests, s.rows, s.pages
        if progress is not None:
            progress(label, s, total)

    verifier = verifier_for(source, table, spec, dialect, runtime)
    converted = tuple(dict.fromkeys((*columns, *(verifier.columns if verifier else ()))))
    tdef = table

    timing = threading.Lock()  # decode_seconds is added to from the loop and the decoding threads

    def convert(records: list[Any]) -> pa.RecordBatch:
        # on the I/O loop, as each page arrives: the read-ahead then holds Arrow batches, not
        # decoded JSON (fetch.scan.iter_converted); the time still counts as this scan's conversion
        # (ScanReport.decode_seconds)
        started = time.perf_counter()
        try:
            return records_to_batch(tdef, converted, records, echo)
        finally:
            with timing:
                report.decode_seconds += time.perf_counter() - started

    layout = dialect.page_layout(tdef, request)
    decoder = arrow_page_decoder(tdef, converted, layout, echo) if layout is not None else None
    fast: Callable[[bytes], ArrowPage | None] | None = None
    if decoder is not None:
        def fast(body: bytes) -> ArrowPage | None:
            # the page's bytes straight into the batch convert() would make (fetch.scan.iter_converted);
            # in a worker thread (fetch.loop.off_loop), several pages at once
            started = time.perf_counter()
            try:
                return decoder(body)
            finally:
                with timing:
                    report.decode_seconds += time.perf_counter() - started

    # A finished scan's batches, kept by the source's response cache (fetch/cache.py): keyed by
    # the request (filters, sort, limit, paging), the table's columns as converted and the echoed
    # filter values; they are the batches before the local recheck, which runs on them again.
    cache = runtime.cache
    memo = None if cache is None else runtime.scan_key(
        repr(request), repr([tdef.column(c) for c in converted]), repr(sorted((echo or {}).items())))

    def batches() -> Generator[pa.RecordBatch, None, None]:
        hit = kept = None
        if cache is not None and memo is not None:
            hit = cache.get_batches(memo)
            if hit is not None:
                stats.add(cache_hits=1, rows=sum(b.num_rows for b in hit))
            else:
                kept = _Kept(cache, memo)
        pages = None if hit is not None else iter_converted(
            runtime, tdef, request, convert, stats=stats, readahead=readahead, on_progress=on_progress,
            lazy_start=lazy_start, ramp=ramp, fast=fast)
        held = iter(hit or ())
        local = scratch_cursor() if recheck else None  # a fresh database per scan cost 30-100 ms
        try:
            while True:  # timed apart from DuckDB's own work between two pulls
                asked = time.perf_counter()
                if pages is None:
                    cached = next(held, None)
                    if cached is None:
                        break
                    batch = cached
                    got = time.perf_counter()
                else:
                    page = next(pages, None)
                    got = time.perf_counter()
                    report.wait_seconds += got - asked
                    if page is None:
                        if verifier is not None:
                            verifier.finish(stats)  # a sorted LIMIT's boundary check
                        if kept is not None:
                            kept.finish()  # read to its end
                        break
                    batch = page.data
                    del page  # the batch alone: the page's keys and edge records are the guards' business
                    if verifier is not None:
                        verifier.check(batch)  # the API's answer against what was pushed
                    if kept is not None:
                        kept.add(batch)
                if local is not None and batch.num_rows:
                    # DuckDB evaluates the predicates (its semantics exactly); the batch keeps
                    # its own arrays, so no type makes a round trip through DuckDB
                    mask = local.from_arrow(batch).project(f"coalesce(({recheck}), false)").to_arrow_table()
                    batch = batch.filter(mask.column(0).combine_chunks())
                if list(batch.schema.names) != names:
                    batch = batch.select(names)
                report.convert_seconds += time.perf_counter() - got
                yield batch
        except Exception as e:
            if failures is not None:
                failures.append(e if isinstance(e, LowcodeSQLError) else internal_error(label, e))
            raise
        finally:
            if pages is not None:
                pages.close()  # cancels requests in flight
            if verifier is not None:
                verifier.close()
            if local is not None:
                local.close()

    gen = batches()

    def close() -> None:
        gen.close()
        report.requests, report.rows, report.pages = stats.requests, stats.rows, stats.pages

    return OpenScan(pa.RecordBatchReader.from_batches(table.schema(names), gen), report, close)


class _Kept:
    """A scan's batches on their way to the response cache (``put_batches``), once it is read to
    its end; its start time is the entry's (it expires with the scan's first page)."""

    def __init__(self, cache: ResponseCache, key: tuple[Any, ...]) -> None:
        self.cache, self.key, self.started = cache, key, cache.clock()
        self.batches: list[pa.RecordBatch] | None = []
        self.size = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if self.batches is None:
            return
        self.size += batch.nbytes
        if self.size > self.cache.max_bytes:
            self.batches = None  # the cache would not keep it: stop holding the batches
        else:
            self.batches.append(batch)

    def finish(self) -> None:
        if self.batches is not None:
            self.cache.put_batches(self.key, tuple(self.batches), self.started)


def internal_error(label: str, e: BaseException) -> ExecutionError:
    """A scan broke with something other than a ``LowcodeSQLError`` (a bug, an OSError): the
    message names the scan only; the original stays attached as ``__cause__`` (tracebacks, logs),
    so no path or class name of the host reaches whoever ran the SQL."""
    err = ExecutionError(f"{label}: internal error while reading the scan")
    err.__cause__ = e
    return err


def _aggregate_column(table: TableDef, dialect: Dialect, agg: Aggregate) -> ColumnDef:
    """How a grouped answer's record holds ``agg``: counts as BIGINT; a sum in its column's numeric
    type; MIN/MAX parsed like the column itself (ISO text, epoch milliseconds)."""
    path = dialect.aggregate_path(agg)
    if agg.column is None or agg.func == "count":
        return ColumnDef(agg.name, pa.int64(), path=path)
    col = table.column(agg.column)
    if agg.func == "sum":
        return ColumnDef(agg.name, pa.int64() if pa.types.is_integer(col.type) else pa.float64(), path=path)
    return dataclasses.replace(col, name=agg.name, path=path, extract="value", item_key=None, filter_only=False)


def _cheapest_column(table: Any) -> str:
    # Rows are needed but no column is (SELECT 1 FROM t, joins counting rows): fetch the key.
    if table.key:
        return table.key
    return next(c.name for c in table.columns if not c.filter_only)
