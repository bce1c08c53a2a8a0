"""Typed lowcode_sql errors out of attached scans (issue 19): DuckDB passes a scan's exception on
only as text, so ``att.sql`` / ``att.execute`` / ``att.typed_errors()`` give the typed error back,
and DuckDB's own text names the lowcode_sql type when the user calls ``duck.sql`` directly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

import lowcode_sql
from lowcode_sql.errors import APIError, ExecutionError, RequestTimeout, UnknownColumn, UnknownTable

QUERY = "SELECT title FROM coredata.projects"


@pytest.fixture
def att(lc: Any, sandbox: Any) -> Iterator[Any]:
    con = duckdb.connect()
    attachment = lowcode_sql.attach(con, lc)
    yield attachment
    sandbox.faults.clear()
    lowcode_sql.detach(con)
    con.close()


def test_an_api_500_is_an_api_error(att: Any, sandbox: Any) -> None:
    sandbox.faults.add("status", status=500, times=None)
    with pytest.raises(APIError, match=r"\[coredata\].*HTTP 500") as info:
        att.sql(QUERY)
    assert info.value.status == 500
    sandbox.faults.clear()
    assert att.execute("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0001'") == [(1,)]


def test_a_timeout_is_a_request_timeout(att: Any, sandbox: Any) -> None:
    sandbox.faults.add("timeout", times=None)
    with pytest.raises(RequestTimeout, match=r"\[coredata\].*timed out"):
        att.execute(QUERY)


def test_duckdb_text_names_the_lowcode_sql_error(att: Any, sandbox: Any) -> None:
    sandbox.faults.add("status", status=500, times=None)
    with pytest.raises(duckdb.InvalidInputException) as info:
        att.duck.sql(QUERY).fetchall()
    text = str(info.value)
    assert "lowcode_sql.errors.APIError: [coredata] GET api/v2/projects/" in text
    assert "HTTP 500" in text
    # the traceback is our one frame, not the HTTP client's internals; never a credential
    assert "httpx" not in text and "retry.py" not in text
    assert "demo-key" not in text and "api_key" not in text


def test_unknown_column_and_table_are_typed(att: Any, sandbox: Any) -> None:
    sandbox.faults.add("status", status=500, times=None)
    with pytest.raises(APIError):
        att.sql(QUERY)
    sandbox.faults.clear()
    # an unrelated error after a failed scan is never reported as that (stale) scan failure
    with pytest.raises(UnknownColumn, match="'nosuch'"):
        att.sql("SELECT nosuch FROM coredata.projects")
    with pytest.raises(UnknownTable, match="'nosuch'"):
        att.execute("SELECT 1 FROM coredata.nosuch")
    with pytest.raises(ExecutionError, match="Conversion Error"):
        att.sql("SELECT CAST(status AS INTEGER) FROM coredata.projects")
    # without the wrapper, DuckDB's own binder error stays DuckDB's
    with pytest.raises(duckdb.BinderException):
        att.duck.sql("SELECT nosuch FROM coredata.projects").fetchall()


def test_typed_errors_covers_cursors_and_leaves_other_errors_alone(att: Any, sandbox: Any) -> None:
    sandbox.faults.add("status", status=500, times=None)
    with pytest.raises(APIError), att.typed_errors():
        att.duck.cursor().sql(QUERY).fetchall()  # a tool's own cursor (polars, pandas)
    with pytest.raises(ValueError, match="mine"), att.typed_errors():
        raise ValueError("mine")
    assert att.sql("SELECT 42 AS x").to_pylist() == [{"x": 42}]
    att.sql("CREATE TEMP TABLE t AS SELECT 1 AS x")
    assert att.execute("SELECT x FROM t") == [(1,)]
