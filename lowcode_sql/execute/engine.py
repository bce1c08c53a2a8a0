"""Run a ``QueryPlan``: one lazy Arrow stream per remote scan, registered as a DuckDB view.

Each scan's pages are fetched (concurrently where the paging allows) only when DuckDB pulls the
stream, converted to Arrow batch by batch, and the scan stops requesting pages as soon as DuckDB
stops pulling (a LIMIT above a local filter). COUNT-only scans become a view of N rows of NULL
from one request; contradictory scans an empty view with no request at all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from dialect._base import ColumnDef, Dialect, TableDef
from lowcode_sql.catalog import Catalog
from lowcode_sql.convert.arrow import records_to_batch
from lowcode_sql.errors import ExecutionError, LowcodeSQLError
from lowcode_sql.execute.duck import connect_duckdb
from lowcode_sql.execute.folder import DuckDBFolder
from lowcode_sql.execute.verify import verifier_for
from lowcode_sql.fetch.scan import ScanStats, fetch_count, iter_pages
from lowcode_sql.fetch.stats import RequestCap
from lowcode_sql.plan import PlannedScan, QueryPlan, plan
from lowcode_sql.result import Result  # the answer's Python face lives in its own module
from lowcode_sql.types import Aggregate

__all__ = ["Engine", "Result", "ResultStream", "ScanReport"]

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
    convert_seconds: float = 0.0  # JSON records to Arrow


class Engine:
    """Plans and runs queries over a ``Catalog`` with a private DuckDB connection."""

    def __init__(self, catalog: Catalog, *, timezone: str = "UTC", readahead: int | None = None,
                 external_access: bool = True, allowed_directories: Sequence[str | os.PathLike[str]] = (),
                 settings: Mapping[str, str] | None = None, global_settings: Mapping[str, str] | None = None,
                 init_sql: Sequence[str] = ()) -> None:
        """``external_access=False``: SQL run here cannot read or write the host's files, reach the
        network or change DuckDB's settings (``execute/duck.py``), except reading
        ``allowed_directories``. ``settings`` are DuckDB settings applied before that lock;
        ``global_settings`` and ``init_sql`` (macros) apply to the constant folder's DuckDB too, so a
        folded constant means what the query means (the wire server's PostgreSQL semantics)."""
        self.catalog = catalog
        self.readahead = readahead
        self.timezone = timezone
        self.external_access = external_access
        opts: dict[str, Any] = {"timezone": timezone, "external_access": external_access,
                                "allowed_directories": allowed_directories, "global_settings": global_settings,
                                "init_sql": init_sql}
        self._con = connect_duckdb(**opts, settings=settings)
        # the folder evaluates constant expressions of the user's SQL: it gets the same walls
        self._fold_con = connect_duckdb(**opts)
        self.folder = DuckDBFolder(self._fold_con)
        self._lock = threading.RLock()
        self._counter = 0

    def plan(self, sql: str, params: Any = None, *, pushdown: bool = True) -> QueryPlan:
        """``pushdown=False``: nothing is pushed to the APIs (see ``lowcode_sql.plan``)."""
        with self._lock:
            self._counter += 1
            return plan(sql, self.catalog, self.folder, params, view_prefix=f"__lc_q{self._counter}",
                        pushdown=pushdown)

    def execute(self, sql: str, params: Any = None, progress: Progress | None = None, *, pushdown: bool = True,
                max_requests: int | None = None) -> Result:
        started = time.perf_counter()
        return self.run(self.plan(sql, params, pushdown=pushdown), progress, started, max_requests=max_requests)

    def run(self, qp: QueryPlan, progress: Progress | None = None, started: float | None = None, *,
            max_requests: int | None = None) -> Result:
        """Run a plan from ``plan`` (EXPLAIN ANALYZE shows the very plan it ran). ``max_requests``
        bounds the HTTP requests of all its scans together: the one that would pass it is not sent
        and the query fails with ``RequestLimitExceeded`` (never a partial answer)."""
        started = time.perf_counter() if started is None else started
        cap = RequestCap(max_requests) if max_requests is not None else None
        with self._lock:
            reports: list[ScanReport] = []
            closers: list[Callable[[], None]] = []
            failures: list[BaseException] = []
            try:
                for scan in qp.scans:
                    reports.append(self._register(scan, closers, failures, progress, cap))
                try:
                    table = self._con.sql(qp.sql).to_arrow_table()
                except duckdb.Error as e:
                    # DuckDB re-raises a stream's exception as its own error with the traceback as
                    # text: report the typed error the scan raised instead.
                    typed = _typed_error(e, failures, qp.scans)
                    raise typed from typed.__cause__
            finally:
                for close in closers:
                    with contextlib.suppress(Exception):
                        close()
                for scan in qp.scans:
                    with contextlib.suppress(duckdb.Error):
                        self._con.unregister(scan.view)
        return Result(table, reports, qp.sql, time.perf_counter() - started)

    def stream(self, sql: str, params: Any = None, *, batch_rows: int = 65_536,
               progress: Progress | None = None) -> ResultStream:
        """Start a query and read its result batch by batch: pages are fetched as batches are read,
        and closing the stream early stops its scans. Until it is closed, use this engine for
        nothing else (its DuckDB connection is busy with the stream)."""
        qp = self.plan(sql, params)
        reports: list[ScanReport] = []
        closers: list[Callable[[], None]] = []
        failures: list[BaseException] = []
        stream = ResultStream(self, qp, reports, closers, failures)
        try:
            with self._lock:
                for scan in qp.scans:
                    reports.append(self._register(scan, closers, failures, progress))
                stream._start(self._con.sql(qp.sql).to_arrow_reader(batch_rows))
        except duckdb.Error as e:
            stream.close()
            typed = stream._typed(e)
            raise typed from typed.__cause__
        except BaseException:
            stream.close()
            raise
        return stream

    def interrupt(self) -> None:
        """Stop the query running on this engine (from another thread): its scans stop too."""
        self._con.interrupt()

    def setting(self, name: str) -> str:
        """The current value of one of this engine's DuckDB settings (``current_setting``)."""
        with self._lock:
            return str(self._con.execute("SELECT current_setting(?)", [name]).fetchall()[0][0])

    def _register(self, scan: PlannedScan, closers: list[Callable[[], None]], failures: list[BaseException],
                  progress: Progress | None, cap: RequestCap | None = None) -> ScanReport:
        spec, table = scan.spec, scan.table
        report = ScanReport(scan.source, table.name)
        if spec.contradiction:
            report.mode = "none"
            cols = spec.columns or (_cheapest_column(table),)
            self._con.register(scan.view, table.schema(cols).empty_table())
            return report
        src = self.catalog.source(scan.source)
        request = scan.dialect.render_scan(table, spec)
        if spec.count_only:
            stats = ScanStats(cap=cap)
            asked = time.perf_counter()
            n = fetch_count(src.runtime, table, request, stats=stats, read_rows=True)
            report.wait_seconds = time.perf_counter() - asked
            report.mode, report.requests, report.rows, report.stats = "count", stats.requests, n, stats
            self._con.register(scan.view, pa.table({"__lc_row": pa.nulls(n)}))
            return report
        columns = spec.columns or (_cheapest_column(table),)
        if spec.grouped:
            # one row per API group: the keys and the group's aggregates (see ScanSpec.aggregates)
            extra = tuple(_aggregate_column(table, scan.dialect, a) for a in spec.aggregates)
            table = dataclasses.replace(table, columns=(*table.columns, *extra))
            columns = (*spec.group_by, *(c.name for c in extra))
            report.mode = "group"
        schema = table.schema(columns)
        echo = scan.dialect.echo_values(spec)
        stats = ScanStats(cap=cap)
        report.stats = stats
        label = f"{scan.source}.{table.name}"

        def on_progress(s: ScanStats, total: int | None) -> None:
            report.requests, report.rows, report.pages = s.requests, s.rows, s.pages
            if progress is not None:
                progress(label, s, total)

        pages = iter_pages(src.runtime, table, request, stats=stats, readahead=self.readahead,
                           on_progress=on_progress)
        verifier = verifier_for(scan.source, table, spec, scan.dialect)
        checked = tuple(dict.fromkeys((*columns, *(verifier.columns if verifier else ()))))

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                while True:  # timed apart from DuckDB's own work between two pulls
                    asked = time.perf_counter()
                    records = next(pages, None)
                    got = time.perf_counter()
                    report.wait_seconds += got - asked
                    if records is None:
                        break
                    batch = records_to_batch(table, checked, records, echo)
                    if verifier is not None:
                        verifier.check(batch)  # the API's answer against what was pushed
                        if len(checked) != len(columns):
                            batch = batch.select(list(columns))
                    report.convert_seconds += time.perf_counter() - got
                    yield batch
            except Exception as e:
                failures.append(e if isinstance(e, LowcodeSQLError) else _internal(label, e))
                raise
            finally:
                if verifier is not None:
                    verifier.close()

        gen = batches()

        def close() -> None:
            gen.close()
            pages.close()  # type: ignore[attr-defined]
            report.requests, report.rows, report.pages = stats.requests, stats.rows, stats.pages

        closers.append(close)
        self._con.register(scan.view, pa.RecordBatchReader.from_batches(schema, gen))
        return report

    def close(self) -> None:
        with self._lock:
            self._con.close()
            self._fold_con.close()


class ResultStream:
    """A started query (``Engine.stream``): ``schema`` now, batches on demand, then ``close()``."""

    def __init__(self, engine: Engine, qp: QueryPlan, reports: list[ScanReport],
                 closers: list[Callable[[], None]], failures: list[BaseException]) -> None:
        self._engine, self._qp, self.reports = engine, qp, reports
        self._closers, self._failures = closers, failures
        self._reader: pa.RecordBatchReader | None = None
        self._schema: pa.Schema | None = None
        self._closed = False

    def _start(self, reader: pa.RecordBatchReader) -> None:
        self._reader, self._schema = reader, reader.schema

    @property
    def schema(self) -> pa.Schema:
        """The result's columns (known before any page is read)."""
        assert self._schema is not None, "the stream did not start"
        return self._schema

    @property
    def sql(self) -> str:
        """The SQL DuckDB runs over the scan views."""
        return self._qp.sql

    def read_next_batch(self) -> pa.RecordBatch | None:
        """The next batch, or None at the end (the stream is then closed)."""
        if self._closed or self._reader is None:
            return None
        try:
            return self._reader.read_next_batch()
        except StopIteration:
            self.close()
            return None
        except duckdb.InterruptException:
            self.close()
            raise
        except Exception as e:
            # DuckDB's errors, and pyarrow's (an OSError carrying DuckDB's text, with the failed
            # scan's Python traceback in it) when the stream breaks between batches
            self.close()
            typed = self._typed(e)
            raise typed from typed.__cause__
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while (batch := self.read_next_batch()) is not None:
            yield batch

    def _typed(self, e: Exception) -> BaseException:
        # as Engine.execute: DuckDB re-raises a scan's exception as text; report the typed one
        if isinstance(e, duckdb.InterruptException) and not self._failures:
            return e
        return _typed_error(e, self._failures, self._qp.scans)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._reader = None
        for close in self._closers:
            with contextlib.suppress(Exception):
                close()
        for scan in self._qp.scans:
            with contextlib.suppress(duckdb.Error):
                self._engine._con.unregister(scan.view)

    def __enter__(self) -> ResultStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _internal(label: str, e: BaseException) -> ExecutionError:
    """A scan broke with something other than a ``LowcodeSQLError`` (a bug, an OSError): the
    message names the scan only; the original stays attached as ``__cause__`` (tracebacks, logs),
    so no path or class name of the host reaches whoever ran the SQL."""
    err = ExecutionError(f"{label}: internal error while reading the scan")
    err.__cause__ = e
    return err


_TRACEBACK = re.compile(r"(\. )?(Detail: )?Python exception: Traceback.*|Traceback \(most recent call last\).*", re.S)


def _typed_error(e: BaseException, failures: list[BaseException],
                 scans: Sequence[PlannedScan] = ()) -> BaseException:
    """The error to report for a query that failed with ``e``: the scan's own typed error if one
    failed (DuckDB only passes it on as text), else DuckDB's message without Python tracebacks and
    with the internal view names (``__lc_q3_1``) given back as the user's ``source.table``."""
    if failures:
        return failures[0]
    text = _TRACEBACK.sub("", str(e)).strip()
    # longest first: __lc_q1_1 must not rewrite the start of __lc_q1_10
    for scan in sorted(scans, key=lambda sc: len(sc.view), reverse=True):
        text = text.replace(scan.view, f"{scan.source}.{scan.table.name}")
    # pyarrow reports a DuckDB failure between batches as an errno-less OSError carrying its text
    from_duckdb = isinstance(e, duckdb.Error | pa.ArrowException) or (type(e) is OSError and e.errno is None)
    if not from_duckdb:
        return _internal("query", e)
    err = ExecutionError(text)
    err.__cause__ = e if isinstance(e, duckdb.Error) else None  # its class tells the SQLSTATE
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


