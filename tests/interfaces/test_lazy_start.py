"""``iter_pages(lazy_start=True)``, the hook ``attach`` scans use: no page beyond the first is
requested before the consumer asks for the second (DuckDB never tells a source its LIMIT,
DUCKDB-SOURCES §3), on each paging scheme; the default keeps its slow-start prefetch."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from dialect import AuthPlan, Dialect, Secret, TableDef
from lowcode_sql.fetch import SourceRuntime, iter_pages
from lowcode_sql.types import CursorPaging, Exactness, HttpRequest, OffsetPaging, Page, ScanRequest

N, PAGE = 95, 10
TABLE = TableDef("items", (), key="id")


class _Dialect(Dialect):
    name = ""  # unregistered

    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan:
        return AuthPlan(headers=())

    def parse_page(self, table: TableDef, body: Any) -> Page:
        return Page(body["items"], body.get("total"), body.get("next"))

    def discover(self) -> Any:
        raise NotImplementedError  # the scans are built by hand

    def classify(self, table: TableDef, conjuncts: Any) -> list[Exactness]:
        return [Exactness.LOCAL for _ in conjuncts]

    def render_scan(self, table: TableDef, spec: Any) -> ScanRequest:
        raise NotImplementedError


class _API:
    """``GET /api/items`` over N rows by offset (with or without a total) or by an ``after`` cursor."""

    def __init__(self, with_total: bool) -> None:
        self.with_total = with_total
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        q = request.url.params
        limit = int(q["limit"])
        start = int(q.get("offset", q.get("after", 0)))
        end = min(N, start + limit)
        body: dict[str, Any] = {"items": [{"id": i} for i in range(start, end)]}
        if "offset" not in q:
            body["next"] = end if end < N else None
        if self.with_total:
            body["total"] = N
        return httpx.Response(200, json=body)


SCHEMES = {
    "offset+total": (True, OffsetPaging("offset", "limit", PAGE)),
    "offset, no total": (False, OffsetPaging("offset", "limit", PAGE)),
    "cursor": (False, CursorPaging("after", "limit", PAGE)),
}


@pytest.fixture(params=list(SCHEMES))
def scan(request: Any) -> Iterator[tuple[_API, SourceRuntime, ScanRequest]]:
    with_total, paging = SCHEMES[request.param]
    api = _API(with_total)
    rt = SourceRuntime("fake", "http://api.test/", _Dialect(), {}, transport=httpx.MockTransport(api))
    yield api, rt, ScanRequest(HttpRequest("GET", "api/items"), paging)
    rt.close()


def settle(api: _API, quiet: float = 0.2) -> int:
    """The request count once it has not changed for ``quiet`` seconds (background prefetches sent)."""
    n = -1
    while n != len(api.seen):
        n = len(api.seen)
        time.sleep(quiet)
    return n


def wait_for(api: _API, n: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while len(api.seen) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(api.seen)


def test_lazy_start_sends_one_request_for_one_page(scan: tuple[_API, SourceRuntime, ScanRequest]) -> None:
    api, rt, req = scan
    pages = iter_pages(rt, TABLE, req, readahead=4, lazy_start=True)
    assert [r["id"] for r in next(pages)] == list(range(PAGE))
    assert settle(api) == 1  # nothing prefetched: a consumer that stops here cost one request
    # offset pages after the first start on the row the previous one ended with (the boundary
    # check), which is not yielded twice: 9 new rows
    second = PAGE - 1 if isinstance(req.paging, OffsetPaging) else PAGE
    assert [r["id"] for r in next(pages)] == list(range(PAGE, PAGE + second))
    assert 2 <= settle(api) <= 3  # from the second page on, read-ahead ramps up as usual
    pages.close()


def test_lazy_start_reads_everything_in_order(scan: tuple[_API, SourceRuntime, ScanRequest]) -> None:
    api, rt, req = scan
    got = [r["id"] for page in iter_pages(rt, TABLE, req, readahead=4, lazy_start=True) for r in page]
    assert got == list(range(N))
    # every page once, no extra request (95 rows, a short last page); offset pages add 9 rows after
    # the first (one-row overlap): 10 + 9 * 9 + 4
    assert len(api.seen) == (11 if isinstance(req.paging, OffsetPaging) else 10)


def test_default_still_prefetches_behind_the_first_page(scan: tuple[_API, SourceRuntime, ScanRequest]) -> None:
    api, rt, req = scan
    pages = iter_pages(rt, TABLE, req, readahead=4)
    next(pages)
    assert wait_for(api, 2) >= 2  # the next page is requested without being asked for
    pages.close()
