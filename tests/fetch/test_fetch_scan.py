"""Paging: concurrency, order, clamps, limits, guards against inconsistent scans, early close."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fetch_fakes import TABLE, TABLE_NOKEY, FakeAPI, cursor_scan, ids, offset_scan, rows

from lowcode_sql.errors import APIError, DialectError, InconsistentScan
from lowcode_sql.fetch import ScanStats, fetch_count, iter_pages
from lowcode_sql.types import HttpRequest, NoPaging, ScanRequest


def params(api: FakeAPI, *names: str) -> list[tuple[str, ...]]:
    return [tuple(r.url.params.get(n) for n in names) for r in api.data_requests()]


# --- offset paging with a total -------------------------------------------------------------------


def test_offset_pages_in_order_with_exact_urls(make_runtime) -> None:
    api = FakeAPI(rows(95))
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan())) == list(range(95))
    assert str(api.requests[0].url) == "http://api.test/x/api/items?offset=0&limit=10"
    # Every page after the first starts one row early, on the row the page before ended with (the
    # boundary check), so a page adds 9 rows; the last page asks only for what is left.
    assert sorted(params(api, "offset", "limit")) == sorted(
        [("0", "10")] + [(str(o), "10") for o in range(9, 90, 9)] + [("90", "5")]
    )


def test_lazy_until_first_next(make_runtime) -> None:
    api = FakeAPI(rows(20))
    pages = iter_pages(make_runtime(api), TABLE, offset_scan())
    time.sleep(0.01)
    assert api.requests == []
    assert len(next(pages)) == 10
    pages.close()


def test_pages_are_fetched_concurrently_within_the_budget(make_runtime) -> None:
    api = FakeAPI(rows(400), latency=0.01)
    rt = make_runtime(api, concurrency=4)
    started = time.perf_counter()
    assert ids(iter_pages(rt, TABLE, offset_scan())) == list(range(400))
    elapsed = time.perf_counter() - started
    assert 1 < api.peak <= 4
    assert rt.budget.peak == api.peak
    assert elapsed < len(api.requests) * 0.01 * 0.75  # clearly faster than one page after another (45 pages)


def test_in_order_even_when_later_pages_answer_first(make_runtime) -> None:
    # Earlier offsets are slower, so the answers arrive in reverse order.
    api = FakeAPI(rows(80), latency=lambda r: 0.002 * (8 - int(r.url.params["offset"]) // 10))
    pages = list(iter_pages(make_runtime(api, concurrency=8), TABLE, offset_scan()))
    assert [p[0]["id"] for p in pages] == [0, *range(10, 80, 9)]  # the overlapping row is not yielded twice
    assert ids(pages) == list(range(80))


def test_server_clamp_uses_observed_page_size(make_runtime) -> None:
    api = FakeAPI(rows(50), max_page=7)
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(page_size=10))) == list(range(50))
    offsets = sorted(int(o) for (o,) in params(api, "offset"))
    assert offsets == [0, *range(6, 49, 6)]  # stride 7, minus the one-row overlap


def test_server_ignoring_page_size_uses_its_own(make_runtime) -> None:
    def fixed_25(i: int, r: httpx.Request) -> httpx.Response:
        o = int(r.url.params["offset"])  # the limit parameter is ignored: always 25 rows
        return httpx.Response(200, json={"items": rows(60)[o : o + 25], "total": 60})

    api = FakeAPI(rows(60), hook=fixed_25)
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(page_size=10))) == list(range(60))
    assert sorted(int(o) for (o,) in params(api, "offset")) == [0, 24, 48]
    api.requests.clear()
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(page_size=10, max_rows=3))) == [0, 1, 2]
    assert len(api.requests) == 1


def test_long_page_in_the_middle_is_inconsistent(make_runtime) -> None:
    api = FakeAPI(rows(50))

    def long_second_page(i: int, r: httpx.Request) -> httpx.Response | None:
        if r.url.params["offset"] == "9":
            return httpx.Response(200, json={"items": rows(50)[9:24], "total": 50})
        return None

    api.hook = long_second_page
    with pytest.raises(InconsistentScan, match="offset 9 has 15 rows instead of 10"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan()))


def test_page_number_paging_with_clamp(make_runtime) -> None:
    api = FakeAPI(rows(50), max_page=7, page_number=True)
    scan = offset_scan(page_size=10, page_number=True)
    assert ids(iter_pages(make_runtime(api), TABLE, scan)) == list(range(50))
    assert sorted(params(api, "page", "limit"), key=lambda p: int(p[0])) == [("0", "10")] + [
        (str(k), "7") for k in range(1, 8)
    ]


def test_page_number_with_limit_keeps_page_geometry(make_runtime) -> None:
    api = FakeAPI(rows(100), page_number=True)
    scan = offset_scan(page_size=10, page_number=True, max_rows=25)
    assert ids(iter_pages(make_runtime(api), TABLE, scan)) == list(range(25))
    assert sorted(params(api, "page", "limit")) == [("0", "10"), ("1", "10"), ("2", "10")]  # trimmed locally


def test_page_number_cannot_start_mid_page(make_runtime) -> None:
    with pytest.raises(DialectError, match="cannot start at row 5"):
        list(iter_pages(make_runtime(FakeAPI(rows(9))), TABLE, offset_scan(page_number=True, start=5)))


def test_start_and_max_rows(make_runtime) -> None:
    api = FakeAPI(rows(100))
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(start=5, max_rows=23))) == list(range(5, 28))
    assert sorted(params(api, "offset", "limit"), key=lambda p: int(p[0])) == [("5", "10"), ("14", "10"), ("23", "5")]


def test_small_limit_asks_for_a_small_page(make_runtime) -> None:
    api = FakeAPI(rows(100))
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(max_rows=3))) == [0, 1, 2]
    assert params(api, "offset", "limit") == [("0", "3")]


def test_zero_rows_costs_nothing(make_runtime) -> None:
    api = FakeAPI(rows(10))
    assert list(iter_pages(make_runtime(api), TABLE, offset_scan(max_rows=0))) == []
    assert api.requests == []


def test_empty_table(make_runtime) -> None:
    api = FakeAPI([])
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan())) == []
    assert len(api.requests) == 1


# --- offset paging without a total ------------------------------------------------------------


def test_sequential_without_total_stops_at_short_page(make_runtime) -> None:
    api = FakeAPI(rows(35), with_total=False)
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan())) == list(range(35))
    assert params(api, "offset") == [("0",), ("9",), ("18",), ("27",)]  # each page from the last row seen


def test_sequential_prefetches_next_page_while_consumer_works(make_runtime) -> None:
    api = FakeAPI(rows(30), with_total=False)
    pages = iter_pages(make_runtime(api), TABLE, offset_scan())
    next(pages)
    time.sleep(0.05)  # the consumer "converts" page 1; page 2 is fetched meanwhile
    assert len(api.data_requests()) == 2
    assert ids(pages) == list(range(10, 30))
    assert len(api.data_requests()) == 4  # pages add 9 rows after the first: 10 + 9 + 9 + 2


def test_sequential_max_rows(make_runtime) -> None:
    api = FakeAPI(rows(100), with_total=False)
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(max_rows=15))) == list(range(15))
    assert params(api, "offset", "limit") == [("0", "10"), ("9", "6")]  # 5 rows wanted, plus the overlap


# --- cursor and single-request scans ----------------------------------------------------------


def test_cursor_paging(make_runtime) -> None:
    api = FakeAPI(rows(25), with_total=False)
    assert ids(iter_pages(make_runtime(api), TABLE, cursor_scan())) == list(range(25))
    assert params(api, "after", "limit") == [(None, "10"), ("10", "10"), ("20", "10")]


def test_cursor_paging_max_rows(make_runtime) -> None:
    api = FakeAPI(rows(100), with_total=False)
    assert ids(iter_pages(make_runtime(api), TABLE, cursor_scan(max_rows=15))) == list(range(15))
    assert params(api, "after", "limit") == [(None, "10"), ("10", "5")]


def test_cursor_paging_stops_at_reported_total(make_runtime) -> None:
    api = FakeAPI(rows(20))
    assert ids(iter_pages(make_runtime(api), TABLE, cursor_scan())) == list(range(20))
    assert len(api.requests) == 2


def test_repeated_cursor_is_inconsistent(make_runtime) -> None:
    def loop_forever(i: int, r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": i}], "next": "abc"})

    api = FakeAPI(rows(5), hook=loop_forever)
    with pytest.raises(InconsistentScan, match="cursor 'abc' came back twice"):
        list(iter_pages(make_runtime(api), TABLE, cursor_scan()))
    assert len(api.requests) == 2


def test_cursor_short_of_total_is_inconsistent(make_runtime) -> None:
    api = FakeAPI(rows(25))

    def answer(i: int, r: httpx.Request) -> httpx.Response | None:
        resp = api.answer(r)
        body = resp.json()
        body["total"] = 30  # the platform counts 30 but pages end after 25
        return httpx.Response(200, json=body)

    api.hook = answer
    with pytest.raises(InconsistentScan, match="expected 30 rows, received 25"):
        list(iter_pages(make_runtime(api), TABLE, cursor_scan()))


def test_no_paging_is_one_request(make_runtime) -> None:
    api = FakeAPI(rows(7))
    scan = ScanRequest(HttpRequest("GET", "api/items", (("limit", "1000"),)), NoPaging())
    assert ids(iter_pages(make_runtime(api), TABLE, scan)) == list(range(7))
    assert len(api.requests) == 1


# --- guards ------------------------------------------------------------------------------------


def test_short_scan_is_inconsistent(make_runtime) -> None:
    api = FakeAPI(rows(45))

    def total_says_50(i: int, r: httpx.Request) -> httpx.Response:
        body = api.answer(r).json()
        body["total"] = 50
        return httpx.Response(200, json=body)

    api.hook = total_says_50
    with pytest.raises(InconsistentScan) as info:
        list(iter_pages(make_runtime(api), TABLE, offset_scan()))
    text = str(info.value)
    assert text.startswith("[fake] items: ")
    assert "the page at offset 36 has 9 rows instead of 10 (expected 50 rows in all)" in text
    assert "the data changed during the scan or the API capped results; retry or narrow the query" in text


def test_empty_page_before_end_is_inconsistent(make_runtime) -> None:
    api = FakeAPI(rows(50))

    def capped(i: int, r: httpx.Request) -> httpx.Response | None:
        if int(r.url.params["offset"]) >= 30:  # an API that silently caps results at 30
            return httpx.Response(200, json={"items": [], "total": 50})
        return None

    api.hook = capped
    with pytest.raises(InconsistentScan, match="empty page at offset 36 before the expected end"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan()))


def test_first_page_longer_than_total_is_inconsistent(make_runtime) -> None:
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(200, json={"items": rows(5), "total": 3}))
    with pytest.raises(InconsistentScan, match="leaves room for 3"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan()))


def test_duplicate_key_across_pages_is_inconsistent(make_runtime) -> None:
    data = rows(40)
    shifted = [*data[:10], data[9], *data[10:39]]  # a row inserted before the cursor: same total, a repeat
    api = FakeAPI(data)

    def shift(i: int, r: httpx.Request) -> httpx.Response | None:
        if r.url.params["offset"] != "0":
            o, n = int(r.url.params["offset"]), int(r.url.params["limit"])
            return httpx.Response(200, json={"items": shifted[o : o + n], "total": 40})
        return None

    api.hook = shift
    with pytest.raises(InconsistentScan, match="key id=9 was returned twice"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan()))
    # Without a declared key the duplicate cannot be seen; the scan completes (DESIGN: declare keys).
    assert len(ids(iter_pages(make_runtime(FakeAPI(data, hook=shift)), TABLE_NOKEY, offset_scan()))) == 40


def test_changing_total_is_inconsistent(make_runtime) -> None:
    api = FakeAPI(rows(50))

    def grow(i: int, r: httpx.Request) -> httpx.Response | None:
        if r.url.params["offset"] == "18":
            body = api.answer(r).json()
            body["total"] = 51
            return httpx.Response(200, json=body)
        return None

    api.hook = grow
    with pytest.raises(InconsistentScan, match="total changed from 50 to 51"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan()))


def test_unparseable_page_names_source_and_request(make_runtime) -> None:
    api = FakeAPI(rows(5), hook=lambda i, r: httpx.Response(200, json={"data": []}))
    with pytest.raises(APIError, match=r"^\[fake\] GET api/items\?offset=0&limit=10: malformed page for table items"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan()))


def test_error_in_a_later_page_propagates_and_stops(make_runtime) -> None:
    api = FakeAPI(rows(200))
    api.hook = lambda i, r: httpx.Response(404, json={"detail": "gone"}) if r.url.params["offset"] == "45" else None
    pages = iter_pages(make_runtime(api, concurrency=2), TABLE, offset_scan())
    got = []
    with pytest.raises(APIError, match="HTTP 404: gone"):
        for page in pages:
            got.extend(page)
    assert len(got) == 46  # rows 0-45: the pages before the one at offset 45 (which starts on row 45)


# --- early close, stats, progress, count, rate ---------------------------------------------------


def test_early_close_cancels_and_stops_requests(make_runtime) -> None:
    api = FakeAPI(rows(1000), latency=0.005)  # a 100-page total
    rt = make_runtime(api, concurrency=4)
    pages = iter_pages(rt, TABLE, offset_scan())  # read-ahead window: 2 * concurrency = 8
    assert len(next(pages)) == 10
    pages.close()
    sent = len(api.requests)
    assert sent <= 1 + 8
    time.sleep(0.05)
    assert len(api.requests) == sent  # nothing more after close
    assert api.in_flight == 0 and rt.budget.in_flight == 0  # in-flight ones were cancelled


def test_explicit_readahead_bounds_requests(make_runtime) -> None:
    api = FakeAPI(rows(1000), latency=0.002)
    pages = iter_pages(make_runtime(api, concurrency=8), TABLE, offset_scan(), readahead=2)
    next(pages)
    time.sleep(0.03)
    assert len(api.requests) <= 3
    pages.close()


def test_stats_and_progress(make_runtime) -> None:
    api = FakeAPI(rows(25))
    stats = ScanStats()
    seen: list[tuple[int, int | None]] = []
    pages = iter_pages(
        make_runtime(api), TABLE, offset_scan(), stats=stats, on_progress=lambda s, exp: seen.append((s.rows, exp))
    )
    assert ids(pages) == list(range(25))
    assert seen == [(10, 25), (19, 25), (25, 25)]
    assert (stats.requests, stats.pages, stats.rows, stats.retries) == (3, 3, 25, 0)
    assert stats.bytes > 100
    assert stats.elapsed > 0 and stats.finished is not None
    assert stats.as_dict()["rows"] == 25


def test_fetch_count_is_one_request(make_runtime) -> None:
    api = FakeAPI(rows(123))
    assert fetch_count(make_runtime(api), TABLE, offset_scan(start=0)) == 123
    assert params(api, "offset", "limit") == [("0", "1")]


def test_fetch_count_without_total_is_an_error(make_runtime) -> None:
    with pytest.raises(APIError, match="reports no total"):
        fetch_count(make_runtime(FakeAPI(rows(3), with_total=False)), TABLE, offset_scan())


def test_rate_limit_spaces_requests(make_runtime) -> None:
    stamps: list[float] = []

    def stamp(i: int, r: httpx.Request) -> None:
        stamps.append(time.monotonic())

    api = FakeAPI(rows(50), hook=stamp)
    rt = make_runtime(api, concurrency=8, rate_limit=100.0)
    assert ids(iter_pages(rt, TABLE, offset_scan())) == list(range(50))
    # 100/s: request k leaves no earlier than k * 10 ms after the first. (Single gaps may be shorter
    # when a sleeper woke late: the bucket keeps the schedule, not the spacing of each pair.)
    assert len(stamps) == 6  # 10 + 9 + 9 + 9 + 9 + 4 rows
    assert all(t - stamps[0] >= k * 0.01 - 0.002 for k, t in enumerate(stamps))


# --- URL joining and discovery -----------------------------------------------------------------


@pytest.mark.parametrize("base", ["http://h/x", "http://h/x/", "http://h/x//"])
def test_url_join_keeps_base_path(make_runtime, base: str) -> None:
    rt = make_runtime(FakeAPI([]))
    rt.base_url = base.rstrip("/") + "/"
    assert rt.url("api/v2/p/") == "http://h/x/api/v2/p/"
    assert rt.url("/api/v2/p/") == "http://h/x/api/v2/p/"


def test_absolute_links_only_on_our_origin(make_runtime) -> None:
    rt = make_runtime(FakeAPI([]))
    assert rt.url("http://api.test/x/api/items?after=5") == "http://api.test/x/api/items?after=5"
    with pytest.raises(DialectError, match="refusing to send credentials"):
        rt.url("https://evil.example/steal")


def test_discover_drives_the_generator(make_runtime) -> None:
    def meta(i: int, r: httpx.Request) -> httpx.Response:
        if r.url.path == "/x/meta/tables":
            return httpx.Response(200, json={"tables": ["a", "b"]})
        return httpx.Response(200, json={"doc": "table " + r.url.path.rsplit("/", 1)[1]})

    from lowcode_sql.fetch import loop

    api = FakeAPI([], hook=meta)
    tables = loop.run(make_runtime(api).discover())
    assert [(t.name, t.doc) for t in tables] == [("a", "table a"), ("b", "table b")]
    assert [r.url.path for r in api.requests] == ["/x/meta/tables", "/x/meta/tables/a", "/x/meta/tables/b"]


def test_discover_bad_answer_is_api_error(make_runtime) -> None:
    from lowcode_sql.fetch import loop

    api = FakeAPI([], hook=lambda i, r: httpx.Response(200, json={"unexpected": 1}))
    with pytest.raises(APIError, match="discovering tables: KeyError"):
        loop.run(make_runtime(api).discover())


def test_runtime_refuses_foreign_loops(make_runtime) -> None:
    rt = make_runtime(FakeAPI(rows(1)))

    async def direct() -> Any:
        return await rt.send(HttpRequest("GET", "api/items", (("offset", "0"), ("limit", "1"))))

    with pytest.raises(RuntimeError, match="I/O loop"):
        asyncio.run(direct())


# --- read-ahead without the ramp ----------------------------------------------------------------


def _held_api(n_rows: int, hold_until: int) -> tuple[FakeAPI, list[int]]:
    """An API that answers the first page at once and holds every later one until ``hold_until``
    requests are in flight together (or 2 s went by); records how many were in flight at release."""
    released: list[int] = []
    gate = asyncio.Event()

    async def hook(index: int, request: httpx.Request) -> None:
        if index == 0:
            return
        if api.in_flight >= hold_until:
            gate.set()
        try:
            await asyncio.wait_for(gate.wait(), 2.0)
        except TimeoutError:
            gate.set()
        if not released:
            released.append(api.peak)

    api = FakeAPI(rows(n_rows), hook=hook)
    return api, released


def test_full_scan_requests_every_page_of_the_window_at_once(make_runtime) -> None:
    # ramp=False (a consumer that reads every page): once the total is known, the whole window is
    # requested; the old ramp had 4 in flight (2, then 4 once the first page was taken) and waited
    api, released = _held_api(200, hold_until=8)
    pages = iter_pages(make_runtime(api, concurrency=8), TABLE, offset_scan(), ramp=False)
    assert ids(pages) == list(range(200))
    assert released == [8]


def test_the_ramp_stays_for_a_consumer_that_may_stop_early(make_runtime) -> None:
    api, released = _held_api(200, hold_until=8)
    pages = iter_pages(make_runtime(api, concurrency=8), TABLE, offset_scan())  # ramp=True by default
    assert len(next(pages)) == 10
    assert len(next(pages)) == 9  # waited for the 2 s fallback: the ramp never had 8 in flight
    pages.close()
    assert released == [4]


def test_default_read_ahead_is_bounded_by_rows() -> None:
    from lowcode_sql.fetch.scan import READAHEAD_ROWS, _readahead

    assert _readahead(8, 100) == 16  # small pages: twice the concurrency
    assert _readahead(8, 1000) == 8  # 1,000-row pages: the concurrency, not 16 decoded pages
    assert _readahead(8, 10 * READAHEAD_ROWS) == 8  # never below the concurrency
    assert _readahead(1, 1) == 2


def test_big_pages_keep_at_most_the_concurrency_unconsumed(make_runtime) -> None:
    api = FakeAPI(rows(20_000), max_page=None, latency=0.001)
    scan = offset_scan(page_size=1000)
    pages = iter_pages(make_runtime(api, concurrency=4), TABLE, scan, ramp=False)
    assert len(next(pages)) == 1000
    time.sleep(0.2)  # a consumer that does not read: the scan fills its window and stops
    assert len(api.data_requests()) == 1 + 4  # 2 x 4 = 8 pages of 1,000 rows before
    assert ids(pages) == list(range(1000, 20_000))


def test_records_keep_only_the_fields_the_consumer_reads(make_runtime) -> None:
    # pages waiting in the read-ahead hold what the query needs, not every field (issue 15, item 6)
    data = [{"id": i, "name": f"row {i}", "blob": "x" * 100, "more": [i]} for i in range(25)]
    del data[3]["name"]  # a missing field stays missing (not NULL)
    data[4]["name"] = None
    pages = list(iter_pages(make_runtime(FakeAPI(data)), TABLE, offset_scan(), fields=frozenset({"name"})))
    got = [r for page in pages for r in page]
    assert [sorted(r) for r in got] == [["id"] if i == 3 else ["id", "name"] for i in range(25)]
    assert got[4] == {"id": 4, "name": None} and got[7] == {"id": 7, "name": "row 7"}
    # without a key the boundary check compares whole records: nothing is dropped
    whole = list(iter_pages(make_runtime(FakeAPI(data)), TABLE_NOKEY, offset_scan(), fields=frozenset({"name"})))
    assert [r for page in whole for r in page] == data
