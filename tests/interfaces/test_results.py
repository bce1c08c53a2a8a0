"""Results as a Python user expects them: the Arrow PyCapsule protocol, rows streamed batch by batch
(Result, Connection.stream, DB-API fetchmany), a short repr and an HTML table for notebooks."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql import dbapi
from lowcode_sql.result import BATCH_ROWS, Result, _rows

from .conftest import N_PROJECTS, PAGE


def _first_buffer(table: pa.Table) -> int:
    return int(table.column(0).chunks[0].buffers()[1].address)


def test_result_speaks_the_arrow_pycapsule_protocol(lc: Any) -> None:
    r = lc.sql("SELECT title, status FROM coredata.projects WHERE status = 'active' ORDER BY title")
    assert hasattr(r, "__arrow_c_stream__")
    t = pa.table(r)
    assert t.equals(r.arrow())
    assert _first_buffer(t) == _first_buffer(r.arrow())  # the same buffers: no copy
    import polars as pl

    df = pl.DataFrame(r)
    assert df.shape == (1000, 2) and df.columns == ["title", "status"]
    # DuckDB reads any Python object with __arrow_c_stream__ through its replacement scan
    assert duckdb.sql("SELECT count(*), min(status) FROM r").fetchall() == [(1000, "active")]


def test_streamed_result_speaks_the_arrow_pycapsule_protocol(lc: Any) -> None:
    import polars as pl

    sql = "SELECT identifier, count(*) AS n FROM coredata.projects GROUP BY identifier ORDER BY identifier"
    expected = lc.sql(sql).arrow()
    assert pa.table(lc.stream(sql)).equals(expected)
    assert pl.DataFrame(lc.stream(sql)).to_arrow().equals(pl.from_arrow(expected).to_arrow())
    s = lc.stream(sql)  # noqa: F841  (DuckDB finds it by its name)
    assert duckdb.sql("SELECT sum(n) FROM s").fetchall() == [(N_PROJECTS,)]


def _peak(fn: Any) -> int:
    """Peak Python memory (tracemalloc) while ``fn`` runs, above what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _wide(n: int) -> pa.Table:
    # values that are fresh Python objects each (no small-int cache, no interned strings)
    return pa.table({"id": pa.array(range(10**9, 10**9 + n), pa.int64()),
                     "name": pa.array([f"name {i:08d}" for i in range(n)]),
                     "score": pa.array([i * 0.5 for i in range(n)])})


def test_iterating_a_result_holds_one_batch_of_rows_at_a_time() -> None:
    table = _wide(4 * BATCH_ROWS)
    r = Result(table)
    first = table.slice(0, BATCH_ROWS)
    one_batch = _peak(lambda: list(_rows(first.to_batches())))  # one batch as a list of tuples

    def consume() -> None:
        n = 0
        for _row in r:
            n += 1
        assert n == table.num_rows

    peak = _peak(consume)
    # the old Result.__iter__ built every row first: 4x one batch
    assert peak <= 1.5 * one_batch, (peak, one_batch)
    assert r.fetchall()[BATCH_ROWS] == (10**9 + BATCH_ROWS, f"name {BATCH_ROWS:08d}", BATCH_ROWS * 0.5)


@pytest.fixture
def small_buffer(lc: Any) -> Iterator[None]:
    # DuckDB reads a streamed result ahead into a 10 MiB buffer: far more than these 3000 rows, so
    # without a smaller one every page would be read ahead and streaming could not be seen
    # (and each scan's own read-ahead, 2x the source's concurrency by default, is narrowed too)
    lc.engine._con.execute("SET streaming_buffer_size = '16KiB'")
    readahead, lc.engine.readahead = lc.engine.readahead, 2
    yield
    lc.engine.readahead = readahead
    lc.engine._con.execute("RESET streaming_buffer_size")


def test_stream_reads_pages_as_rows_are_read(lc: Any, sandbox: Any, small_buffer: None) -> None:
    pages = N_PROJECTS // PAGE
    with lc.stream("SELECT title, created FROM coredata.projects", batch_rows=100) as s:
        assert s.columns == ["title", "created"]
        it = iter(s)
        first = [next(it) for _ in range(10)]
        assert len(first) == 10
        served = len(sandbox.stats.log)
        assert served < pages // 2, served  # not every page was fetched for 10 rows
        assert 0 < s.requests <= len(sandbox.stats.log)  # (a page may be in flight)
    assert s.closed
    assert lc.sql("SELECT count(*) FROM coredata.projects").fetchall() == [(N_PROJECTS,)]


def test_another_query_meanwhile_keeps_an_open_stream_whole(lc: Any, small_buffer: None) -> None:
    sql = "SELECT title FROM coredata.projects ORDER BY created"
    expected = lc.sql(sql).fetchall()
    s = lc.stream(sql, batch_rows=100)
    head = s.read_next_batch()
    assert head is not None
    assert lc.sql("SELECT count(*) FROM coredata.projects").fetchall() == [(N_PROJECTS,)]
    rest = list(s)  # read into memory before the second query ran: nothing lost
    assert [tuple(r.values()) for r in head.to_pylist()] + rest == expected


def test_dbapi_fetchmany_streams(lc: Any, sandbox: Any, small_buffer: None) -> None:
    con = dbapi.connect(connection=lc)
    cur = con.cursor()
    cur.batch_rows = 100
    cur.execute("SELECT title, created FROM coredata.projects")
    assert len(cur.fetchmany(10)) == 10
    served = len(sandbox.stats.log)
    # the old cursor ran the query to the end in execute(): all 30 pages
    assert served < N_PROJECTS // PAGE // 2, served
    assert cur.rowcount == -1  # not known before the end
    # a second cursor meanwhile: the first keeps its rows
    other = con.cursor().execute("SELECT count(*) FROM coredata.projects")
    assert other.fetchall() == [(N_PROJECTS,)] and other.rowcount == 1
    rest = cur.fetchall()
    assert len(rest) == N_PROJECTS - 10 and cur.rowcount == N_PROJECTS
    assert cur.fetchmany(5) == []


def test_dbapi_fetch_arrow_after_rows(lc: Any) -> None:
    cur = dbapi.connect(connection=lc).cursor()
    cur.batch_rows = 64
    cur.execute("SELECT title FROM coredata.projects WHERE title IS NOT NULL ORDER BY title")
    assert cur.fetchone() == ("Project 0001",)
    reader = cur.fetch_record_batch(50)
    sizes = [b.num_rows for b in reader]
    assert max(sizes) <= 50 and sum(sizes) == N_PROJECTS - N_PROJECTS // 7 - 2 and cur.fetchall() == []


def test_repr_is_short_and_hides_internal_views(lc: Any) -> None:
    r = lc.sql("SELECT title, created, 1::BIGINT AS n FROM coredata.projects WHERE title = 'Project 0001'")
    text = repr(r)
    assert "__lc_q" not in text and "__lc_q" not in str(r)
    assert text.startswith("<lowcode_sql.Result: 1 row, 3 columns")
    assert "title VARCHAR" in text and "created TIMESTAMP" in text and "n BIGINT" in text
    assert "1 request" in text and len(text) < 300
    s = lc.stream("SELECT title FROM coredata.projects LIMIT 3")
    assert "__lc_q" not in repr(s) and "title VARCHAR" in repr(s) and "__lc_q" not in s._repr_html_()
    s.close()


def test_repr_html_is_an_escaped_table_with_counts(lc: Any) -> None:
    r = lc.sql("SELECT title, '<script>alert(1)</script>' AS x FROM coredata.projects "
               "WHERE title LIKE 'Project 00%' ORDER BY title")
    page = r._repr_html_()
    assert "__lc_q" not in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<tr>") == 1 + 10  # the header and the first 10 rows
    assert f"{len(r):,} rows (first 10 shown)" in page and "2 columns" in page
    assert "VARCHAR" in page and f"{r.requests} request" in page
    assert "<td>Project 0001</td>" in page
    empty = lc.sql("SELECT title FROM coredata.projects WHERE title = 'nope'")._repr_html_()
    assert "0 rows" in empty and empty.count("<tr>") == 1


def test_public_stream_in_package_and_readme() -> None:
    from pathlib import Path

    assert lowcode_sql.StreamedResult is not None
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "con.stream(" in readme


def test_duckdbs_progress_bar_is_off_in_the_engine() -> None:
    # it printed "\r 12% ▕██..." to the process's stdout (a pipe too) from any query over 2 s,
    # into whatever the caller writes there (checked by hand: a 3.6 s query printed it before)
    with lowcode_sql.demo() as con:
        assert con.engine._con.sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
