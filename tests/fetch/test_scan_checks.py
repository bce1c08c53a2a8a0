"""Details of the scan's completeness checks (``fetch/scan.py``) that the broader fetch tests leave
open: what the one-row page overlap's ``InconsistentScan`` tells the user, how it compares records a
dialect parsed into values JSON cannot hold, and a cursor scan ending at the reported total.

Only a page-number API reached through a skip parameter can be blamed on a server that ignores the
skip, so only there does the message name the ``drift_check`` option; a plain offset scan just says
that rows moved.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fetch_fakes import TABLE, TABLE_NOKEY, FakeAPI, FakeDialect, ids, offset_scan, rows

from lowcode_sql.errors import InconsistentScan
from lowcode_sql.fetch import iter_pages
from lowcode_sql.types import Page


class SkipAPI(FakeAPI):
    """Page numbers plus an added ``skip`` (Totalum's ``pagination.skip``)."""

    def answer(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        start = int(q["page"]) * int(q["limit"]) + int(q.get("skip", 0))
        return httpx.Response(200, json={"items": self.rows[start : start + int(q["limit"])], "total": len(self.rows)})


def _move_rows_after_first_page(api: FakeAPI) -> None:
    answered = 0

    def hook(i: int, r: httpx.Request) -> None:
        nonlocal answered
        if answered == 1:  # delete three rows at the front, append three at the end: same total
            api.rows = api.rows[3:] + [{"id": 1000 + n, "name": f"new {n}"} for n in range(3)]
        answered += 1

    api.hook = hook


def _message(make_runtime: Any, api: FakeAPI, scan: Any) -> str:
    _move_rows_after_first_page(api)
    with pytest.raises(InconsistentScan) as err:
        ids(iter_pages(make_runtime(api, concurrency=1), TABLE, scan))
    return str(err.value)


def test_a_skip_paged_scan_names_the_option_that_turns_the_overlap_off(make_runtime) -> None:
    msg = _message(make_runtime, SkipAPI(rows(35), page_number=True), offset_scan(page_number=True, skip_param="skip"))
    assert "rows moved between pages" in msg
    assert "may ignore skip" in msg and "drift_check = false" in msg


def test_a_plain_offset_scan_only_says_rows_moved(make_runtime) -> None:
    msg = _message(make_runtime, FakeAPI(rows(40)), offset_scan())
    assert "rows moved between pages" in msg
    assert "ignore" not in msg and "drift_check" not in msg and "None" not in msg


class DecimalDialect(FakeDialect):
    """Parses numbers as Decimal, which has no canonical JSON text: rows are then compared as they are."""

    def parse_page(self, table: Any, body: Any) -> Page:
        page = super().parse_page(table, body)
        return dataclasses.replace(page, records=[{k: Decimal(v) if isinstance(v, int) else v for k, v in r.items()}
                                                  for r in page.records])


def test_records_without_json_text_are_compared_as_they_are(make_runtime) -> None:
    # unchanged: every boundary row is the same record, so the scan completes
    got = [r for page in iter_pages(make_runtime(FakeAPI(rows(40)), dialect=DecimalDialect()), TABLE_NOKEY,
                                    offset_scan()) for r in page]
    assert [r["id"] for r in got] == [Decimal(i) for i in range(40)]
    # rows moved: the boundary row differs, which must still be seen
    api = FakeAPI(rows(40))
    with pytest.raises(InconsistentScan, match="rows moved between pages"):
        _message_raw(make_runtime(api, dialect=DecimalDialect(), concurrency=1), api)


def _message_raw(runtime: Any, api: FakeAPI) -> None:
    _move_rows_after_first_page(api)
    list(iter_pages(runtime, TABLE_NOKEY, offset_scan()))


def test_a_cursor_scan_stops_at_the_reported_total(make_runtime) -> None:
    """Some APIs hand out a cursor on the last page too: once the total is reached, another request
    would only cost a round trip (and an empty page, which reads as rows gone missing)."""
    from fetch_fakes import cursor_scan

    class AlwaysNext(FakeAPI):
        def answer(self, request: httpx.Request) -> httpx.Response:
            start, limit = int(request.url.params.get("after", 0)), int(request.url.params["limit"])
            return httpx.Response(200, json={"items": self.rows[start : start + limit], "next": start + limit,
                                             "total": len(self.rows)})

    api = AlwaysNext(rows(40))
    assert ids(iter_pages(make_runtime(api), TABLE, cursor_scan())) == list(range(40))
    assert len(api.data_requests()) == 4
