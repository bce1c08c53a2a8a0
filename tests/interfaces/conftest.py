"""Fixtures for the Python interfaces (DB-API, SQLAlchemy, DuckDB attach): CoreData sandboxes
loaded with generated projects, and the sandbox's request log to prove what was sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import lowcode_sql

N_PROJECTS = 3000
PAGE = 100  # small pages, so a full scan is 30 requests and read-ahead is visible


def projects_table(n: int = N_PROJECTS) -> pa.Table:
    base = dt.datetime(2024, 1, 1)
    return pa.table({
        "title": [f"Project {i:04d}" if i % 7 else None for i in range(n)],
        "status": ["active" if i % 3 == 0 else "closed" for i in range(n)],
        "identifier": [f"P-{i % 50:02d}" for i in range(n)],
        "created": pa.array([base + dt.timedelta(hours=i) for i in range(n)], pa.timestamp("us")),
    })


@pytest.fixture(scope="module")
def lc() -> Iterator[Any]:
    """A lowcode_sql Connection to a CoreData sandbox with 3000 projects and 100-row pages."""
    con = lowcode_sql.connect_sandbox("coredata", {"projects": projects_table()}, options={"page_size": PAGE})
    yield con
    con.close()


@pytest.fixture
def sandbox(lc: Any) -> Any:
    """The emulator behind ``lc``, its request counters cleared."""
    sb = lc.sandbox("coredata")
    sb.stats.clear()
    return sb


@pytest.fixture
def duck(lc: Any, sandbox: Any) -> Iterator[Any]:
    """A plain DuckDB connection with ``lc`` attached (its request counters cleared)."""
    con = duckdb.connect()
    lowcode_sql.attach(con, lc)
    sandbox.stats.clear()
    yield con
    lowcode_sql.detach(con)
    con.close()


def queries(sandbox: Any) -> list[dict[str, str]]:
    """The query strings of the requests the sandbox served, as dicts, in arrival order."""
    return [dict(e.query) for e in sandbox.stats.log]
