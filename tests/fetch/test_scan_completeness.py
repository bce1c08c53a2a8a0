"""The scan's completeness checks on a *first* page that contradicts itself (public behaviour only).

``test_fetch_scan`` covers an empty page later in the scan; these cover the first page of an offset
scan, where the stride of the following pages is derived from it: an empty first page with a total
must be reported as an inconsistent scan, never fall through to a page plan with a zero stride.
"""

from __future__ import annotations

import httpx
import pytest
from fetch_fakes import TABLE, FakeAPI, offset_scan, rows

from lowcode_sql.errors import InconsistentScan
from lowcode_sql.fetch import iter_pages


@pytest.mark.parametrize("total", [1, 11, 50])
@pytest.mark.parametrize("page_number", [False, True])
def test_empty_first_page_with_a_total_is_inconsistent(make_runtime, total: int, page_number: bool) -> None:
    api = FakeAPI(rows(total), page_number=page_number,
                  hook=lambda i, r: httpx.Response(200, json={"items": [], "total": total}))
    with pytest.raises(InconsistentScan, match="empty page"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan(page_number=page_number)))


@pytest.mark.parametrize("start", [5, 20])
def test_empty_first_page_after_a_start_offset_is_inconsistent(make_runtime, start: int) -> None:
    api = FakeAPI(rows(50), hook=lambda i, r: httpx.Response(200, json={"items": [], "total": 50}))
    with pytest.raises(InconsistentScan, match="empty page"):
        list(iter_pages(make_runtime(api), TABLE, offset_scan(start=start)))


def test_empty_first_page_with_a_zero_total_is_an_empty_answer(make_runtime) -> None:
    api = FakeAPI([], hook=lambda i, r: httpx.Response(200, json={"items": [], "total": 0}))
    assert [r for page in iter_pages(make_runtime(api), TABLE, offset_scan()) for r in page] == []
    assert len(api.data_requests()) == 1


def test_empty_first_page_past_the_total_is_an_empty_answer(make_runtime) -> None:
    api = FakeAPI(rows(50), hook=lambda i, r: httpx.Response(200, json={"items": [], "total": 50}))
    assert [r for page in iter_pages(make_runtime(api), TABLE, offset_scan(start=60)) for r in page] == []
