"""Run the same SQL through lowcode_sql (against a sandbox) and directly in DuckDB; compare."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import duckdb
import pyarrow as pa

from lowcode_sql.errors import LowcodeSQLError


def reference(tables: dict[str, pa.Table], schema: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE SCHEMA {schema}")
    for name, t in tables.items():
        con.register("__src", t)
        con.execute(f'CREATE TABLE {schema}."{name}" AS SELECT * FROM __src')
        con.unregister("__src")
    return con


def _norm(v: Any) -> Any:
    if isinstance(v, float):
        # + 0.0 turns -0.0 into 0.0: SQL holds them equal, and a group's shown key may be either
        return ("nan",) if math.isnan(v) else round(v, 9) + 0.0
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC)
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _norm(x)) for k, x in v.items()))
    return v


def _key(row: tuple[Any, ...]) -> Any:
    return tuple((x is None, repr(x)) for x in row)


def rows(table: pa.Table) -> list[tuple[Any, ...]]:
    cols = [c.to_pylist() for c in table.columns]
    return [tuple(_norm(v) for v in r) for r in zip(*cols, strict=True)] if cols else []


def compare(con: Any, ref: duckdb.DuckDBPyConnection, sql: str, ordered: bool) -> Any:
    """Assert both sides agree; returns the engine's Result (or None when both raise)."""
    try:
        expected = ref.sql(sql).to_arrow_table()
        ref_error = None
    except duckdb.Error as e:
        expected, ref_error = None, e
    try:
        result = con.sql(sql)
    except LowcodeSQLError as e:
        if ref_error is not None:
            return None  # DuckDB rejects it too (e.g. a bad cast): both fail, that agrees
        raise AssertionError(f"lowcode_sql failed where DuckDB did not:\n{sql}\n{type(e).__name__}: {e}") from e
    assert ref_error is None, f"DuckDB failed but lowcode_sql answered:\n{sql}\n{ref_error}"
    got, want = rows(result.arrow()), rows(expected)
    if not ordered:
        got, want = sorted(got, key=_key), sorted(want, key=_key)
    assert got == want, f"\n{sql}\n{con.explain(sql)}\nlowcode_sql: {got[:10]}\nduckdb:      {want[:10]}"
    return result
