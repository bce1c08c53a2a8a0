"""attach's first page sized by the query's LIMIT (issue 19): DuckDB tells a scan no LIMIT, so the
SQL text the attached connection ran decides (lowcode_sql/attach_head.py); full scans unchanged."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pytest

from lowcode_sql.attach_head import head_rows, headed
from lowcode_sql.errors import InconsistentScan

from .conftest import N_PROJECTS, PAGE, queries


def limits(sandbox: Any) -> list[int]:
    return [int(q["limit"]) for q in queries(sandbox)]


def test_limit_10_asks_for_10_rows(duck: Any, lc: Any, sandbox: Any) -> None:
    rows = duck.sql("SELECT * FROM coredata.projects LIMIT 10").fetchall()
    assert len(rows) == 10
    assert limits(sandbox) == [10]  # as con.sql asks (a whole page of 100 before)
    sandbox.stats.clear()
    assert duck.execute("SELECT title FROM coredata.projects LIMIT 5 OFFSET 3").fetchall() == \
        lc.sql("SELECT title FROM coredata.projects LIMIT 5 OFFSET 3").fetchall()  # no ORDER BY: both API order
    assert limits(sandbox)[0] == 8
    sandbox.stats.clear()
    # a cursor notes its own SQL
    assert len(duck.cursor().execute("SELECT id FROM coredata.projects LIMIT 3").fetchall()) == 3
    assert limits(sandbox) == [3]


def test_a_local_filter_needing_more_rows_costs_one_request_more(duck: Any, lc: Any, sandbox: Any) -> None:
    sql = "SELECT title FROM coredata.projects WHERE title LIKE '%9%' LIMIT 10"  # LIKE: DuckDB filters
    got = duck.sql(sql).fetchall()
    sent = limits(sandbox)
    assert Counter(got) == Counter(lc.sql(sql).fetchall())  # both read the API's order
    assert sent[0] == 10 and all(n == PAGE for n in sent[1:])
    sandbox.stats.clear()
    # the same scan without the head: one request fewer
    duck.sql("SELECT 1").fetchall()
    assert Counter(duck.table("coredata.projects").filter("title LIKE '%9%'").project("title").limit(10)
                   .fetchall()) == Counter(got)
    assert len(sent) <= len(limits(sandbox)) + 1


def test_full_scans_and_sorted_limits_ask_whole_pages(duck: Any, sandbox: Any) -> None:
    assert len(duck.sql("SELECT title FROM coredata.projects").fetchall()) == N_PROJECTS
    assert limits(sandbox)[0] == PAGE
    pages = len(limits(sandbox))
    sandbox.stats.clear()
    duck.sql("SELECT title FROM coredata.projects ORDER BY title LIMIT 10").fetchall()
    assert limits(sandbox)[0] == PAGE and len(limits(sandbox)) == pages


def test_a_table_smaller_than_the_head_is_one_request(duck: Any, sandbox: Any) -> None:
    rows = duck.sql("SELECT title FROM coredata.projects WHERE identifier = 'P-07' LIMIT 90").fetchall()
    assert len(rows) == N_PROJECTS // 50
    assert limits(sandbox) == [90]


@pytest.mark.parametrize(("sql", "rows"), [
    ("SELECT * FROM t LIMIT 10", 10),
    ("select a from s.t where a = 1 limit 7 offset 3", 10),
    ("SELECT * FROM t LIMIT 0", 1),
    ("SELECT * FROM t", None),
    ("SELECT * FROM t ORDER BY a LIMIT 10", None),
    ("SELECT a, count(*) FROM t GROUP BY a LIMIT 10", None),
    ("SELECT count(*) FROM t LIMIT 10", None),
    ("SELECT DISTINCT a FROM t LIMIT 10", None),
    ("SELECT * FROM t JOIN u ON t.a = u.a LIMIT 10", None),
    ("SELECT * FROM t WHERE a IN (SELECT a FROM u) LIMIT 10", None),
    ("SELECT * FROM (SELECT * FROM t) LIMIT 10", None),
    ("WITH x AS (SELECT * FROM t) SELECT * FROM x LIMIT 10", None),
    ("SELECT * FROM t LIMIT 10 UNION ALL SELECT * FROM u", None),
    ("SELECT row_number() OVER () FROM t LIMIT 10", None),
    ("SELECT * FROM t LIMIT ?", None),
    ("SELECT * FROM t LIMIT 10; SELECT * FROM u LIMIT 10", None),
    ("this is not SQL limit", None),
    (None, None),
])
def test_head_rows(sql: str | None, rows: int | None) -> None:
    assert head_rows(sql) == rows


def _opener(tables: list[pa.Table], sent: list[int]) -> Any:
    def open_scan(limit: int | None) -> Any:
        table = tables.pop(0)
        if limit is not None:
            table = table.slice(0, limit)
        sent.append(table.num_rows)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=4)), \
            (lambda: None), (lambda: table.num_rows)
    return open_scan


def test_headed_checks_the_rows_it_already_gave() -> None:
    before = pa.table({"id": list(range(20))})
    sent: list[int] = []
    assert pa.Table.from_batches(list(headed(_opener([before, before], sent), 5, "t"))).equals(before)
    assert sent == [5, 20]
    changed = pa.table({"id": [99, *range(1, 20)]})  # the first row was replaced between the two scans
    with pytest.raises(InconsistentScan, match="first rows changed"):
        list(headed(_opener([before, changed], []), 5, "t"))
    small = pa.table({"id": [1, 2]})
    sent = []
    assert pa.Table.from_batches(list(headed(_opener([small], sent), 5, "t"))).equals(small)
    assert sent == [2]  # fewer rows than asked: the API had no more, nothing else is sent
