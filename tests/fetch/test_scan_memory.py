"""What a scan keeps alive while it streams (issue 19, item 4): counted, never timed."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pyarrow as pa
import pytest
from fetch_fakes import TABLE, FakeAPI, FakeDialect, ids, offset_scan, rows

from dialect import TableDef
from lowcode_sql.errors import InconsistentScan
from lowcode_sql.fetch import iter_pages
from lowcode_sql.fetch.scan import iter_converted
from lowcode_sql.requests import Page


def _live_responses() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, httpx.Response))


def test_read_responses_are_freed_without_the_cyclic_gc(make_runtime) -> None:
    # httpx binds each response's stream back to the response (encode/httpx#3733): without
    # fetch/runtime.py ``_unbind`` every page's response and raw body stayed alive until a full
    # cyclic collection (checked: all 11 here on the old code; with a 1,000-row 21-field page
    # ~0.25-1 MB each). With the cyclic GC off, only reference counting frees them.
    api = FakeAPI(rows(100))
    rt = make_runtime(api, concurrency=2)
    gc.collect()
    before = _live_responses()
    gc.disable()
    try:
        assert ids(iter_pages(rt, TABLE, offset_scan())) == list(range(100))
        assert len(api.requests) >= 10
        assert _live_responses() - before == 0
    finally:
        gc.enable()


class _Rec(dict):  # type: ignore[type-arg]
    """A decoded record whose liveness can be counted (plain dicts cannot be weakly referenced)."""

    __hash__ = object.__hash__  # by identity, for the WeakSet


class _CountingDialect(FakeDialect):
    def __init__(self) -> None:
        super().__init__()
        self.live: weakref.WeakSet[_Rec] = weakref.WeakSet()
        self.parsed = 0

    def parse_page(self, table: TableDef, body: Any) -> Page:
        page = super().parse_page(table, body)
        recs = [_Rec(r) for r in page.records]
        self.live.update(recs)
        self.parsed += 1
        return Page(recs, page.total, page.cursor)


def _wait(condition: Callable[[], bool]) -> None:
    """Wait for the I/O loop to reach a state (no time is asserted; 10 s is only a hang guard)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the scan never reached the expected state"
        time.sleep(0.005)


def test_converted_read_ahead_holds_no_decoded_records(make_runtime) -> None:
    # The read-ahead (here 8 pages of 10 rows, after the first) used to wait as decoded records:
    # the engine's scans read ``iter_pages`` (shown first: all 90 records alive while the consumer
    # holds the first page). ``iter_converted`` converts each page as it arrives and keeps only the
    # keys and the records at the page's edges (at most 3 a page).
    def scan(convert: Callable[[list[Any]], Any] | None) -> tuple[int, list[int]]:
        dialect = _CountingDialect()
        api = FakeAPI(rows(100))
        rt = make_runtime(api, dialect=dialect, concurrency=4)
        # ramp=False: the whole window (8 pages) is requested as soon as the total is known
        pages: Iterator[Any] = (iter_pages(rt, TABLE, offset_scan(), ramp=False) if convert is None
                                else iter_converted(rt, TABLE, offset_scan(), convert, ramp=False))
        first = next(pages)
        _wait(lambda: dialect.parsed == 9 and api.in_flight == 0)  # the first page and a full window
        if convert is not None:
            _wait(lambda: len(dialect.live) <= 9 * 3)
        held = len(dialect.live)
        got = [r["id"] for r in first] if convert is None else first.data.column(0).to_pylist()
        for page in pages:
            got += [r["id"] for r in page] if convert is None else page.data.column(0).to_pylist()
        return held, got

    held, got = scan(None)
    assert held == 90 and got == list(range(100))
    held, got = scan(lambda records: pa.record_batch({"id": [r["id"] for r in records]}))
    assert held <= 9 * 3 and got == list(range(100))  # every row once: the overlap row is sliced off


def _ids_batch(records: list[Any]) -> pa.RecordBatch:
    return pa.record_batch({"id": [r["id"] for r in records]})


def test_converted_pages_keep_the_scan_guards(make_runtime) -> None:
    # The guards read keys and edge records, which a converted page keeps: a key served twice and
    # rows moving between pages still fail the scan (never a partial answer).
    def twice(i: int, r: httpx.Request) -> httpx.Response | None:
        o, n = int(r.url.params["offset"]), int(r.url.params["limit"])
        if o >= 45:  # a later page repeats row 3 instead of one of its own (not at its boundary)
            page = rows(100)[o : o + n]
            page[2] = rows(100)[3]
            return httpx.Response(200, json={"items": page, "total": 100})
        return None

    with pytest.raises(InconsistentScan, match="returned twice"):
        list(iter_converted(make_runtime(FakeAPI(rows(100), hook=twice)), TABLE, offset_scan(), _ids_batch))

    def moved(i: int, r: httpx.Request) -> httpx.Response | None:
        o, n = int(r.url.params["offset"]), int(r.url.params["limit"])
        if o >= 27:  # from here on the first row was deleted: every later page starts one row late
            return httpx.Response(200, json={"items": rows(101)[o + 1 : o + 1 + n], "total": 100})
        return None

    with pytest.raises(InconsistentScan, match="rows moved between pages"):
        list(iter_converted(make_runtime(FakeAPI(rows(100), hook=moved)), TABLE, offset_scan(), _ids_batch))
