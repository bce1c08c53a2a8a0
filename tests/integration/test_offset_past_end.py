"""An OFFSET past the last matching row is an empty answer (one request), not an InconsistentScan,
on every platform; so is an OFFSET exactly at the end."""

from __future__ import annotations

import pytest

import lowcode_sql

QUERIES = {
    "coredata": "SELECT title FROM coredata.projects ORDER BY created LIMIT 5 OFFSET {n}",
    "entu": "SELECT name FROM entu.book ORDER BY _id LIMIT 3 OFFSET {n}",
    "totalum": "SELECT name FROM totalum.client LIMIT 5 OFFSET {n}",
    "slingr": "SELECT name FROM slingr.companies LIMIT 5 OFFSET {n}",
    "alumio": "SELECT name FROM alumio.routes LIMIT 5 OFFSET {n}",
}


@pytest.fixture(scope="module")
def con():
    with lowcode_sql.demo() as c:
        yield c


@pytest.mark.parametrize("platform", sorted(QUERIES))
def test_offset_at_or_past_the_end_is_empty(con, platform):
    table = QUERIES[platform].split("FROM ")[1].split()[0]
    total = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    assert total > 0
    for n in (total, total + 1, total + 10_000):
        result = con.sql(QUERIES[platform].format(n=n))
        assert result.fetchall() == [], (platform, n)
    last = con.sql(QUERIES[platform].format(n=total - 1)).fetchall()
    assert len(last) == 1
