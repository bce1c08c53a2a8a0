"""Bound joins at run time: read the build scan first, send its keys to the probe scan's API.

The planner (``plan/joins.py``) names, per bound join, a build scan and a probe scan. Here the build
scan is read whole (DuckDB would read it whole anyway: the planner skips queries with a LIMIT) and
registered as a table; its distinct non-NULL join keys are split into batches, each batch the largest
list the probe's dialect sends *exactly* together with the probe's own pushed filters (its
``classify``, so each platform's list limits apply: Totalum's or-branches or ``in`` array, Alumio's
``inq``, Entu's comma list; a one-value batch is an equality, all CoreData sends) and whose first page
request stays within ``URL_BUDGET`` characters. Then, by request counts:

* no key: the probe is empty, no request (an equi-join matches no NULL, and no row of an empty side);
* one batch: never more requests than a full scan (its rows are a subset of the full scan's);
* more: one COUNT request on the probe tells the pages of a full scan; the batches are sent only
  when there are fewer of them than those pages.

A key a dialect cannot send exactly, a dialect without totals, too many batches, or a build side of
more than ``MAX_BUILD_ROWS`` rows (then streamed to DuckDB as usual, nothing held): the full scan, as
without a bound join. The batches of one probe are read concurrently (``BATCH_CONCURRENCY``) with one
``ScanStats``, so the source's rate budget and the query's request cap hold across them. The join
itself stays in DuckDB's SQL: the probe's rows only have to include every row the join can match.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from lowcode_sql.execute.scan import OpenScan, ScanReport
from lowcode_sql.fetch.runtime import SourceRuntime
from lowcode_sql.fetch.scan import fetch_count
from lowcode_sql.fetch.stats import ScanStats
from lowcode_sql.ir import Cmp, Exactness, InList, Op, Pred
from lowcode_sql.plan import PlannedScan, QueryPlan
from lowcode_sql.plan.joins import MAX_BATCH, BoundJoin, full_scan_pages, page_size
from lowcode_sql.scanspec import ScanSpec

__all__ = ["BATCH_CONCURRENCY", "MAX_BUILD_ROWS", "URL_BUDGET", "BoundRun", "Opener", "batches"]

URL_BUDGET = 4000  # characters of a request target: well under the 8 KB most servers and proxies accept
BATCH_CONCURRENCY = 4
MAX_BUILD_ROWS = 100_000  # a bigger build side is streamed to DuckDB as usual, its keys not sent

#: Opens one scan of a planned table with the given spec, counting into the given stats.
Opener = Callable[[ScanSpec, ScanStats], OpenScan]


class BoundRun:
    """The bound joins of one run of a plan: ``open`` replaces opening a scan directly."""

    def __init__(self, qp: QueryPlan, opener_for: Callable[[PlannedScan], Opener],
                 runtime_for: Callable[[PlannedScan], SourceRuntime], cap: Any = None,
                 failures: list[BaseException] | None = None) -> None:
        self._scans = {s.view: s for s in qp.scans}
        self._probe = {j.probe: j for j in qp.joins}
        self._builds = {j.build for j in qp.joins}
        self._opener_for, self._runtime_for, self._cap = opener_for, runtime_for, cap
        self._read: dict[str, OpenScan] = {}  # build scans read whole, by view
        self._failures = failures if failures is not None else []

    def open(self, scan: PlannedScan) -> OpenScan:
        if scan.view in self._probe:
            return self._open_probe(scan, self._probe[scan.view])
        if scan.view in self._builds:
            return self._build(scan.view)
        return self._opener_for(scan)(scan.spec, ScanStats(cap=self._cap))

    def _build(self, view: str) -> OpenScan:
        """The build scan, read whole; past ``MAX_BUILD_ROWS`` it is handed on as a stream (the rows
        read so far, then the rest), so a big build side costs no memory and no request more."""
        if view not in self._read:
            scan = self._scans[view]
            opened = self._opener_for(scan)(scan.spec, ScanStats(cap=self._cap))
            if isinstance(opened.data, pa.Table):
                self._read[view] = OpenScan(opened.data, opened.report, opened.close)
                return self._read[view]
            reader = opened.data
            read: list[pa.RecordBatch] = []
            rows = 0
            try:
                while rows <= MAX_BUILD_ROWS and (batch := _next(reader)) is not None:
                    read.append(batch)
                    rows += batch.num_rows
            except Exception as e:
                opened.close()
                raise self._failures[0] if self._failures else e from None
            if rows <= MAX_BUILD_ROWS:
                opened.close()
                self._read[view] = OpenScan(pa.Table.from_batches(read, reader.schema), opened.report, _nothing)
            else:
                rest = pa.RecordBatchReader.from_batches(reader.schema, itertools.chain(read, reader))
                self._read[view] = OpenScan(rest, opened.report, opened.close)
        return self._read[view]

    def _open_probe(self, scan: PlannedScan, join: BoundJoin) -> OpenScan:
        build = self._build(join.build).data
        if not isinstance(build, pa.Table):
            return _noted(self._opener_for(scan)(scan.spec, ScanStats(cap=self._cap)),
                          f"bound join not used: {join.build_alias} has more than {MAX_BUILD_ROWS:,} rows; full scan")
        keys = _keys(build.column(join.build_column))
        stats = ScanStats(cap=self._cap)
        opener = self._opener_for(scan)
        groups = batches(scan, join.probe_column, keys) if keys else []
        if keys and groups is None:
            return _noted(opener(scan.spec, stats), f"bound join not used: a key of {join.build_alias}."
                          f"{join.build_column} cannot be sent exactly; full scan")
        assert groups is not None
        pages: int | None = None
        if len(groups) > 1:
            pages = self._full_pages(scan, stats)
            if pages is None or len(groups) >= pages:
                why = ("the API reports no total" if pages is None
                       else f"{len(groups)} batches >= {pages} pages of a full scan")
                return _noted(opener(scan.spec, stats), f"bound join not used: {len(keys)} keys, {why}; full scan")
        report = ScanReport(scan.source, scan.table.name, mode="bound", stats=stats)
        report.detail = (f"bound join: {len(keys)} keys of {join.build_alias}.{join.build_column} in "
                         f"{len(groups)} batch{'es' if len(groups) != 1 else ''}"
                         + (f" (one COUNT: a full scan is {pages} pages)" if pages is not None else ""))
        tables = self._read_batches(opener, scan.spec, stats, groups)
        names = list(scan.spec.columns) or [c.name for c in scan.table.columns if not c.filter_only][:1]
        data = (pa.concat_tables([t.select(names) for t in tables]) if tables
                else scan.table.schema(names).empty_table())
        report.requests, report.rows, report.pages = stats.requests, stats.rows, stats.pages
        return OpenScan(data, report, _nothing)

    def _read_batches(self, opener: Opener, spec: ScanSpec, stats: ScanStats, groups: list[Pred]) -> list[pa.Table]:
        def read(pred: Pred) -> pa.Table:
            return self._read_all(opener(_with(spec, pred), stats))

        if len(groups) <= 1:
            return [read(p) for p in groups]
        with ThreadPoolExecutor(min(BATCH_CONCURRENCY, len(groups)), thread_name_prefix="lc-bound") as pool:
            return list(pool.map(read, groups))

    def _read_all(self, opened: OpenScan) -> pa.Table:
        """All of a scan's rows; a broken scan raises the typed error it recorded."""
        try:
            return opened.data if isinstance(opened.data, pa.Table) else opened.data.read_all()
        except Exception as e:
            if self._failures:
                raise self._failures[0] from None
            raise e
        finally:
            opened.close()

    def _full_pages(self, scan: PlannedScan, stats: ScanStats) -> int | None:
        """The page requests of the probe's full scan, from one COUNT request (None: no total)."""
        if not scan.dialect.can_count(scan.table):
            return None
        req = scan.dialect.render_scan(scan.table, scan.spec)
        total = fetch_count(self._runtime_for(scan), scan.table, req, stats=stats, read_rows=False)
        return full_scan_pages(req, total)


def _nothing() -> None:
    return None


def _next(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


def _noted(opened: OpenScan, detail: str) -> OpenScan:
    opened.report.detail = detail
    return opened


def _keys(column: pa.ChunkedArray) -> list[Any]:
    """The distinct non-NULL values, sorted (so the batches, and the requests, are deterministic)."""
    import pyarrow.compute as pc  # 50-80 ms of import: only queries with a bound join pay it (tests/test_startup.py)

    values = pc.unique(column.combine_chunks()).drop_null()
    return sorted(values.to_pylist())


def _pred(column: str, values: Sequence[Any]) -> Pred:
    return Cmp(column, Op.EQ, values[0]) if len(values) == 1 else InList(column, tuple(values))


def _with(spec: ScanSpec, pred: Pred) -> ScanSpec:
    from dataclasses import replace

    return replace(spec, pushed=(*spec.pushed, (pred, Exactness.EXACT)))


def _sendable(scan: PlannedScan, pred: Pred) -> bool:
    """Whether the probe's dialect sends ``pred`` exactly beside the scan's own pushed filters
    (which must keep their own verdicts), in a request target within ``URL_BUDGET``."""
    pushed = [p for p, _ in scan.spec.pushed]
    got = scan.dialect.classify(scan.table, [*pushed, pred])
    if got[-1] is not Exactness.EXACT or list(got[:-1]) != [e for _, e in scan.spec.pushed]:
        return False
    req = scan.dialect.render_scan(scan.table, _with(scan.spec, pred))
    return len(req.page_request(0, page_size(req) or 1).target()) <= URL_BUDGET


def batches(scan: PlannedScan, column: str, keys: list[Any]) -> list[Pred] | None:
    """``keys`` as the fewest exact filters, each the longest run the dialect takes (by bisection:
    a dialect's list limits are monotone in the list's length); None when a key cannot be sent."""
    out: list[Pred] = []
    i = 0
    while i < len(keys):
        if not _sendable(scan, _pred(column, keys[i:i + 1])):
            return None
        lo, hi = 1, min(MAX_BATCH, len(keys) - i)  # lo values are known to fit
        if out and hi >= len(_values(out[-1])):
            hi = lo = max(lo, min(hi, len(_values(out[-1]))))  # the last batch's size is the first guess
            if not _sendable(scan, _pred(column, keys[i:i + lo])):
                lo, hi = 1, lo - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _sendable(scan, _pred(column, keys[i:i + mid])):
                lo = mid
            else:
                hi = mid - 1
        out.append(_pred(column, keys[i:i + lo]))
        i += lo
    return out


def _values(pred: Pred) -> tuple[Any, ...]:
    return pred.values if isinstance(pred, InList) else (pred.value,) if isinstance(pred, Cmp) else ()
