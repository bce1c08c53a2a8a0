"""The documented API that starts an emulator loaded with Arrow tables and connects to it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

import lowcode_sql


def test_entu_sandbox_from_arrow_tables():
    item = pa.table({
        "name": ["alpha", "beta", None],
        "tags": [["x", "y"], [], ["y"]],
        "price": [1.5, None, 3.0],
        "seen": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.UTC), None, None], pa.timestamp("ms", tz="UTC")),
    })
    with lowcode_sql.connect_sandbox("entu", {"item": item}) as con:
        assert "item" in [t for _, t, _ in con.tables()]  # beside the system types entity, property
        rows = con.sql("SELECT name, tags__all, price FROM entu.item ORDER BY price NULLS LAST").fetchall()
        assert rows == [("alpha", ["x", "y"], 1.5), (None, ["y"], 3.0), ("beta", None, None)]
        r = con.sql("SELECT count(*) FROM entu.item WHERE list_contains(tags__all, 'y')")
        assert r.fetchall() == [(2,)] and r.requests == 1


def test_coredata_sandbox_from_arrow_tables_and_settings():
    projects = pa.table({"title": ["a", "b"], "created": pa.array([dt.datetime(2020, 1, 1)] * 2, pa.timestamp("us"))})
    with lowcode_sql.connect_sandbox("coredata", {"projects": projects}, source="crm", latency=0.0) as con:
        assert con.sql("SELECT title FROM crm.projects WHERE title = 'b'").fetchall() == [("b",)]
        assert con.sandbox("crm").stats.requests >= 1
