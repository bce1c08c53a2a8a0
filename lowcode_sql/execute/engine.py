"""Run a ``QueryPlan``: one lazy Arrow stream per remote scan, registered as a DuckDB view.

Each scan's pages are fetched (concurrently where the paging allows) only when DuckDB pulls the
stream, converted to Arrow batch by batch, and the scan stops requesting pages as soon as DuckDB
stops pulling (a LIMIT above a local filter). COUNT-only scans become a view of N rows of NULL
from one request; contradictory scans an empty view with no request at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from lowcode_sql.catalog import Catalog
from lowcode_sql.errors import ExecutionError
from lowcode_sql.execute.bound import BoundRun, Opener
from lowcode_sql.execute.duck import connect_duckdb
from lowcode_sql.execute.folder import DuckDBFolder
from lowcode_sql.execute.scan import OpenScan, Progress, ScanReport, internal_error, open_scan
from lowcode_sql.execute.shared import register, views_of
from lowcode_sql.fetch.stats import RequestCap, ScanStats
from lowcode_sql.plan import PlannedScan, QueryPlan, plan
from lowcode_sql.result import Result  # the answer's Python face lives in its own module
from lowcode_sql.scanspec import ScanSpec

__all__ = ["Engine", "Progress", "Result", "ResultStream", "ScanReport"]


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
        # the folder evaluates constant expressions of the user's SQL: a second connection to the
        # same database, so the same walls, global settings and macros (``init_sql``), but not
        # ``settings`` (session-only) nor the views a query registers. Not a second database:
        # creating one costs 40-60 ms, a cursor ~0.1 ms (issue 15, item 5)
        self._fold_con = self._con.cursor()
        self.folder = DuckDBFolder(self._fold_con)
        self._lock = threading.RLock()
        self._pid = os.getpid()  # a DuckDB database belongs to the process that opened it
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
            max_requests: int | None = None, profile: bool = False) -> Result:
        """Run a plan from ``plan`` (EXPLAIN ANALYZE shows the very plan it ran). ``max_requests``
        bounds the HTTP requests of all its scans together: the one that would pass it is not sent
        and the query fails with ``RequestLimitExceeded`` (never a partial answer). ``profile``: DuckDB
        runs it as ``EXPLAIN (ANALYZE, FORMAT JSON)``, and the table is that profile (one row), not
        the answer (``lowcode_sql.explain.analyze`` reads the rows each operator passed on)."""
        started = time.perf_counter() if started is None else started
        self._same_process()
        cap = RequestCap(max_requests) if max_requests is not None else None
        with self._lock:
            reports: list[ScanReport] = []
            closers: list[Callable[[], None]] = []
            failures: list[BaseException] = []
            try:
                bound = self._bound(qp, failures, progress, cap)
                for scan in qp.scans:
                    reports.append(self._register(scan, closers, failures, progress, _may_stop_early(qp.sql),
                                                  cap, bound))
                try:
                    sql = f"EXPLAIN (ANALYZE, FORMAT JSON) {qp.sql}" if profile else qp.sql
                    table = self._con.sql(sql).to_arrow_table()
                except duckdb.Error as e:
                    # DuckDB re-raises a stream's exception as its own error with the traceback as
                    # text: report the typed error the scan raised instead.
                    typed = _typed_error(e, failures, qp.scans)
                    raise typed from typed.__cause__
            finally:
                for close in closers:
                    with contextlib.suppress(Exception):
                        close()
                for view in (v for scan in qp.scans for v in views_of(scan)):
                    with contextlib.suppress(duckdb.Error):
                        self._con.unregister(view)
        return Result(table, reports, qp.sql, time.perf_counter() - started)

    def stream(self, sql: str, params: Any = None, *, batch_rows: int = 65_536,
               progress: Progress | None = None) -> ResultStream:
        """Start a query and read its result batch by batch: pages are fetched as batches are read,
        and closing the stream early stops its scans. Until it is closed, use this engine for
        nothing else (its DuckDB connection is busy with the stream)."""
        self._same_process()
        qp = self.plan(sql, params)
        reports: list[ScanReport] = []
        closers: list[Callable[[], None]] = []
        failures: list[BaseException] = []
        stream = ResultStream(self, qp, reports, closers, failures)
        try:
            with self._lock:
                bound = self._bound(qp, failures, progress)
                for scan in qp.scans:
                    reports.append(self._register(scan, closers, failures, progress, _may_stop_early(qp.sql),
                                                  bound=bound))
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
                  progress: Progress | None, may_stop_early: bool = True,
                  cap: RequestCap | None = None, bound: BoundRun | None = None) -> ScanReport:
        opened = (bound.open(scan) if bound is not None
                  else self._opener(scan, failures, progress, may_stop_early)(scan.spec, ScanStats(cap=cap)))
        if scan.feeds:  # one fetch, read by several references (plan/sharing.py)
            closers.append(register(self._con, scan, opened.data, opened.close))
            return opened.report
        closers.append(opened.close)
        self._con.register(scan.view, opened.data)
        return opened.report

    def _opener(self, scan: PlannedScan, failures: list[BaseException], progress: Progress | None,
                may_stop_early: bool) -> Opener:
        src = self.catalog.source(scan.source)

        def opener(spec: ScanSpec, stats: ScanStats) -> OpenScan:
            return open_scan(scan.source, scan.table, scan.dialect, spec, src.runtime, readahead=self.readahead,
                             progress=progress, failures=failures, ramp=may_stop_early, stats=stats)

        return opener

    def _bound(self, qp: QueryPlan, failures: list[BaseException], progress: Progress | None,
               cap: RequestCap | None = None) -> BoundRun | None:
        """The plan's bound joins (``execute/bound.py``): build scans read first, probes given their keys."""
        if not qp.joins:
            return None
        return BoundRun(qp, lambda s: self._opener(s, failures, progress, False),
                        lambda s: self.catalog.source(s.source).runtime, cap, failures)

    def _same_process(self) -> None:
        if self._pid != os.getpid():
            raise ExecutionError(
                f"this connection was opened by process {self._pid}, before a fork: DuckDB's database cannot be "
                f"shared with a forked child (its threads stay in the parent); open a new connection in process "
                f"{os.getpid()} (lowcode_sql.connect() after the fork)")

    def close(self) -> None:
        if self._pid != os.getpid():
            return  # the parent's database: closing it here waits on threads the child does not have
        with self._lock:
            self._fold_con.close()
            self._con.close()


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
        for view in (v for scan in self._qp.scans for v in views_of(scan)):
            with contextlib.suppress(duckdb.Error):
                self._engine._con.unregister(view)

    def __enter__(self) -> ResultStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    named = [(v, f"{sc.source}.{sc.table.name}") for sc in scans for v in views_of(sc)]
    for view, name in sorted(named, key=lambda vn: len(vn[0]), reverse=True):
        text = text.replace(view, name)
    # pyarrow reports a DuckDB failure between batches as an errno-less OSError carrying its text
    from_duckdb = isinstance(e, duckdb.Error | pa.ArrowException) or (type(e) is OSError and e.errno is None)
    if not from_duckdb:
        return internal_error("query", e)
    err = ExecutionError(text)
    err.__cause__ = e if isinstance(e, duckdb.Error) else None  # its class tells the SQLSTATE
    return err


_EARLY_STOP = re.compile(r"\b(LIMIT|FETCH)\b", re.I)


def _may_stop_early(sql: str) -> bool:
    """Whether DuckDB may stop reading a scan before its end: only under a LIMIT (or FETCH FIRST).
    Then the scans ramp their read-ahead up page by page; otherwise every page is read anyway, so
    all are requested at once. A word "limit" in a name or a string only costs the ramp."""
    return _EARLY_STOP.search(sql) is not None
