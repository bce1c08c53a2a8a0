"""Per-request work that is not the request: nothing a page costs should be a failed import.

httpcore asks for ``sniffio`` each time it sets up a lock or event (several times a request); without
it installed, every ask searched ``sys.path`` on disk and failed: ~4-5 finder walks a request, ~10%
of a 100k-row scan's client CPU (issue 15, item 3, third pass). ``sniffio`` is now a dependency.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

import lowcode_sql
from lowcode_sql.sandbox.coredata import CoreDataSandbox


class _Missed:
    """Appended to ``sys.meta_path``: asked only when every real finder failed, i.e. for a module
    that does not exist; records the name and lets the import fail as it would have."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        self.names.append(name)
        return None


@pytest.fixture
def missed() -> Iterator[_Missed]:
    finder = _Missed()
    sys.meta_path.append(finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)


def test_a_scan_over_http_tries_no_missing_module(missed: _Missed) -> None:
    sandbox = CoreDataSandbox()
    with sandbox.serve() as server:
        con = lowcode_sql.connect()
        try:
            con.add_source("cd", "coredata", base_url=server.url, secrets={"user": "demo", "key": "demo-key"},
                           options={"page_size": 20})
            sql = "SELECT id, title FROM cd.tasks"
            first = con.sql(sql).fetchall()  # imports whatever a first query needs
            missed.names.clear()
            again = con.sql(sql).fetchall()  # several pages, each over a pooled connection
        finally:
            con.close()
    assert again == first and len(first) > 40
    assert missed.names == []
