"""What an ``InconsistentScan`` from the one-row page overlap tells the user (``fetch/scan.py``).

Only a page-number API reached through a skip parameter can be blamed on a server that ignores the
skip, so only there does the message name the ``drift_check`` option; a plain offset scan just says
that rows moved.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fetch_fakes import TABLE, FakeAPI, ids, offset_scan, rows

from lowcode_sql.errors import InconsistentScan
from lowcode_sql.fetch import iter_pages


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
