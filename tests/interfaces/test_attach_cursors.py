"""Every cursor of an attached DuckDB connection sees the tables: ``duck.cursor()``, polars
``read_database`` and pandas ``read_sql`` (which open their own), with their requests counted by
the attachment, and errors that name the user's table, never ``<source>__<table>``."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

import lowcode_sql

from .conftest import N_PROJECTS, queries


@pytest.fixture
def attached(lc: Any) -> Iterator[tuple[duckdb.DuckDBPyConnection, Any]]:
    duck = duckdb.connect()
    att = lowcode_sql.attach(duck, lc)
    yield duck, att
    lowcode_sql.detach(duck)
    duck.close()


def test_a_plain_cursor_sees_the_tables_with_pushdown(attached: Any, sandbox: Any) -> None:
    duck, att = attached
    att.clear()
    cur = duck.cursor()
    assert cur.sql("SELECT status FROM coredata.projects WHERE title = 'Project 0004'").fetchall() == [("closed",)]
    assert cur.sql("SELECT count(*) FROM coredata__projects").fetchall() == [(N_PROJECTS,)]
    assert cur.sql("SELECT count(*) FROM lowcode_scan('coredata', 'projects')").fetchall() == [(N_PROJECTS,)]
    assert any(q.get("title") == "Project 0004" for q in queries(sandbox))  # pushed from the cursor
    # the cursor's scans count in the attachment's requests (the old att.requests left them out)
    assert att.requests == len(sandbox.stats.log) and att.requests > 0
    cur.close()


def test_polars_read_database_on_the_connection(attached: Any, sandbox: Any) -> None:
    pl = pytest.importorskip("polars")
    duck, att = attached
    att.clear()
    df = pl.read_database("SELECT title, status FROM coredata.projects WHERE title = 'Project 0005'",
                          connection=duck)
    assert df.rows() == [("Project 0005", "closed")]
    assert [q.get("title") for q in queries(sandbox)] == ["Project 0005"]
    assert att.requests == 1


def test_pandas_read_sql_on_the_connection(attached: Any, sandbox: Any) -> None:
    pd = pytest.importorskip("pandas")
    duck, att = attached
    att.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas: "only supports SQLAlchemy connectable ..."
        df = pd.read_sql("SELECT status, count(*) AS n FROM coredata__projects GROUP BY status ORDER BY status", duck)
    assert df.to_dict("list") == {"status": ["active", "closed"], "n": [1000, 2000]}
    assert att.requests == len(sandbox.stats.log) > 0


def test_dropped_cursors_are_forgotten(attached: Any) -> None:
    duck, att = attached
    for _ in range(5):
        cur = duck.cursor()
        assert cur.sql("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0001'").fetchall() == [(1,)]
        cur.close()
        del cur
    gc.collect()
    assert att.cursors == []  # a tool opening a cursor per query does not grow the attachment


def test_errors_name_the_users_table(lc: Any) -> None:
    duck = duckdb.connect()
    early = duck.cursor()  # opened before attach: it has no registrations, but sees the catalog
    lowcode_sql.attach(duck, lc)
    try:
        with pytest.raises(duckdb.CatalogException) as info:
            early.sql("SELECT * FROM coredata.projects").fetchall()
        assert "coredata.projects" in str(info.value) and "coredata__projects" not in str(info.value)
    finally:
        lowcode_sql.detach(duck)
        early.close()
        duck.close()
