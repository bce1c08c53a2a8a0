"""The opt-in response cache: keys, expiry, size bound, and its use by a source."""

from __future__ import annotations

import lowcode_sql
from dialect import Secret
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
