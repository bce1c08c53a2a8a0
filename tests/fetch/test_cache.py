"""The opt-in response cache: keys, expiry, size bound, and its use by a source."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

import lowcode_sql
from dialect import Secret
from lowcode_sql.errors import APIError
from lowcode_sql.fetch.cache import ResponseCache, credential_fingerprint
from lowcode_sql.types import HttpRequest


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_and_hits_are_fresh_copies():
    clock = Clock()
    cache = ResponseCache(ttl=10, clock=clock)
    key = cache.key(HttpRequest("GET", "p", (("b", "2"), ("a", "1"))), "fp")
    assert key == cache.key(HttpRequest("GET", "p", (("a", "1"), ("b", "2"))), "fp")  # parameter order
    assert cache.get(key) is None
    cache.put(key, {"rows": [1, 2]})
    hit = cache.get(key)
    hit["rows"].append(3)  # a caller changing its answer does not change the cache
    assert cache.get(key) == {"rows": [1, 2]}
    clock.now = 10.5
    assert cache.get(key) is None and len(cache) == 0
    assert (cache.hits, cache.misses) == (2, 2)


def test_keys_differ_by_body_and_credentials_and_hold_no_secret():
    a = credential_fingerprint({"key": Secret("s3cret-value")})
    b = credential_fingerprint({"key": Secret("other")})
    assert a != b and "s3cret-value" not in a
    req = HttpRequest("POST", "q", json={"filter": [{"x": 1}]})
    assert ResponseCache.key(req, a) != ResponseCache.key(req, b)
    assert ResponseCache.key(req, a) != ResponseCache.key(HttpRequest("POST", "q", json={"filter": [{"x": 2}]}), a)


def test_least_recently_used_entries_go_beyond_the_size_bound():
    cache = ResponseCache(ttl=60, max_bytes=100)
    keys = [ResponseCache.key(HttpRequest("GET", str(i)), "") for i in range(4)]
    for k in keys[:3]:
        cache.put(k, "x" * 30)  # 32 bytes of JSON each
    assert cache.get(keys[0]) is not None  # now the most recently used
    cache.put(keys[3], "y" * 30)
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None and cache.get(keys[3]) is not None
    cache.put(ResponseCache.key(HttpRequest("GET", "big"), ""), "z" * 200)  # larger than the bound: not kept
    assert len(cache) == 3


def test_a_source_with_cache_ttl_answers_repeated_queries_without_requests():
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=True, cache_ttl=60)
    sandbox = con.sandbox("cd")
    sql = "SELECT title FROM cd.projects WHERE title LIKE 'B%' ORDER BY title"
    first = con.sql(sql).fetchall()
    served = sandbox.stats.requests
    assert served >= 1
    assert con.sql(sql).fetchall() == first
    assert sandbox.stats.requests == served  # answered from the cache
    con.sql("SELECT count(*) FROM cd.projects")
    assert sandbox.stats.requests == served + 1  # another request is sent
    uncached = lowcode_sql.connect()
    uncached.add_source("cd", "coredata", sandbox=sandbox)
    uncached.sql(sql)
    assert sandbox.stats.requests > served + 1  # no cache unless asked for


# --- a finished scan's batches -------------------------------------------------------------------

def _scan_entries(con: lowcode_sql.Connection, source: str) -> list[tuple]:
    cache = con.catalog.sources[source].runtime.cache
    assert cache is not None
    return [k for k in cache._entries if k[0] == "scan"]


def _no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every way a page becomes a batch fail: a scan answered now read no page."""
    import lowcode_sql.execute.scan as scan_module

    def broken(*args: Any, **kw: Any) -> Any:
        raise AssertionError("a page was decoded")

    monkeypatch.setattr(scan_module, "records_to_batch", broken)
    monkeypatch.setattr(scan_module, "arrow_page_decoder", lambda *a, **kw: broken)


@pytest.mark.parametrize("sql", [
    "SELECT * EXCLUDE (associated_contacts_id) FROM cd.tasks ORDER BY id",
    "SELECT id, title FROM cd.tasks WHERE status = 'done' AND title ILIKE '%a%' ORDER BY id",  # a local recheck
    "SELECT title FROM cd.projects WHERE title LIKE 'B%' ORDER BY title",
])
def test_a_finished_scan_is_answered_again_from_its_batches(sql: str, monkeypatch: pytest.MonkeyPatch) -> None:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=True, cache_ttl=60, options={"page_size": 40})
    sandbox = con.sandbox("cd")
    first = con.sql(sql).arrow()
    served = sandbox.stats.requests
    assert served >= 1 and len(_scan_entries(con, "cd")) == 1
    _no_decoding(monkeypatch)
    again = con.sql(sql)
    assert again.arrow().equals(first)
    assert sandbox.stats.requests == served and again.requests == 0
    monkeypatch.undo()
    uncached = lowcode_sql.connect()
    uncached.add_source("cd", "coredata", sandbox=sandbox, options={"page_size": 40})
    assert uncached.sql(sql).arrow().equals(first)  # the same answer as read from the platform


def test_a_scan_not_read_to_its_end_leaves_no_batches() -> None:
    from lowcode_sql.execute.scan import open_scan
    from lowcode_sql.scanspec import ScanSpec

    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=True, cache_ttl=60, options={"page_size": 40})
    source = con.catalog.sources["cd"]
    spec = ScanSpec("cd", "tasks", columns=("id",))
    scan = open_scan("cd", source.tables()["tasks"], source.dialect, spec, source.runtime)
    assert isinstance(scan.data, pa.RecordBatchReader)
    assert scan.data.read_next_batch().num_rows == 40
    scan.close()  # the consumer leaves after one page
    assert _scan_entries(con, "cd") == []
    whole = open_scan("cd", source.tables()["tasks"], source.dialect, spec, source.runtime)
    assert whole.data.read_all().num_rows == 400
    whole.close()
    assert len(_scan_entries(con, "cd")) == 1


def test_a_failing_scan_leaves_no_batches() -> None:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=True, cache_ttl=60, options={"page_size": 40})
    sandbox = con.sandbox("cd")
    sandbox.faults.add("status", status=500, times=None)
    with pytest.raises(APIError):
        con.sql("SELECT id FROM cd.tasks").arrow()
    assert _scan_entries(con, "cd") == []


def test_scan_batches_expire_with_the_scans_first_page_and_differ_by_filter_and_credentials() -> None:
    clock = Clock()
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=True, cache_ttl=60, options={"page_size": 40})
    sandbox = con.sandbox("cd")
    cache = con.catalog.sources["cd"].runtime.cache
    assert cache is not None
    cache.clock = clock
    con.sql("SELECT id FROM cd.tasks").arrow()
    served = sandbox.stats.requests
    con.sql("SELECT id FROM cd.projects").arrow()  # another request: another entry
    assert sandbox.stats.requests > served and len(_scan_entries(con, "cd")) == 2
    served = sandbox.stats.requests
    clock.now = 59.0
    con.sql("SELECT id FROM cd.tasks").arrow()
    assert sandbox.stats.requests == served
    clock.now = 60.0  # the first page was stored at 0: it and the scan's batches are stale together
    con.sql("SELECT id FROM cd.tasks").arrow()
    assert sandbox.stats.requests > served
    keys = _scan_entries(con, "cd")
    assert all(k[-1] == con.catalog.sources["cd"].runtime._fingerprint for k in keys)
    assert not any("demo-key" in repr(k) for k in keys)  # a digest of the credentials, never them


def test_a_scan_larger_than_the_cache_is_not_kept() -> None:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=True, cache_ttl=60, cache_max_mb=0.02, options={"page_size": 40})
    sandbox = con.sandbox("cd")
    assert con.sql("SELECT * EXCLUDE (associated_contacts_id) FROM cd.tasks").arrow().nbytes > 0.02 * (1 << 20)
    assert _scan_entries(con, "cd") == []
    served = sandbox.stats.requests
    con.sql("SELECT id FROM cd.projects").arrow()  # small enough: kept
    assert len(_scan_entries(con, "cd")) == 1 and sandbox.stats.requests > served
