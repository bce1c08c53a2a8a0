"""Mixed-case table and column names resolve as in DuckDB: case-insensitively, quoted or not, with
result columns named in the catalog's spelling, and filters still pushed."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.errors import UnknownColumn
from tests.differential.harness import compare

ROWS = {"createdAt": [[1.0], [2.0], None], "Name": [["a"], ["B"], ["c"]]}


@pytest.fixture(scope="module")
def env():
    source = pa.table({k: pa.array(v, pa.list_(pa.float64() if k == "createdAt" else pa.string()))
                       for k, v in ROWS.items()})
    con = lowcode_sql.connect_sandbox("entu", {"MixedCase": source})
    ref = duckdb.connect()
    ref.execute("CREATE SCHEMA entu")
    ref.execute('CREATE TABLE entu."MixedCase" AS SELECT * FROM (VALUES (1.0, \'a\'), (2.0, \'B\'), (NULL, \'c\')) '
                't("createdAt", "Name")')
    yield con, ref
    con.close()
    ref.close()


@pytest.mark.parametrize("sql", [
    "SELECT createdAt, Name FROM entu.MixedCase",
    "SELECT createdat, NAME FROM entu.mixedcase WHERE CREATEDAT > 1",
    'SELECT "createdat" FROM ENTU."MIXEDCASE" WHERE "name" = \'B\'',
    "SELECT m.createdAt FROM entu.mixedcase AS m ORDER BY 1 NULLS FIRST",
    "SELECT name, count(*) FROM entu.MixedCase GROUP BY name",
])
def test_names_resolve_like_duckdb(env, sql):
    con, ref = env
    result = compare(con, ref, sql, "ORDER BY" in sql)
    assert result.arrow().column_names == ref.sql(sql).to_arrow_table().column_names


def test_expanded_stars_keep_the_catalog_spelling(env):
    con, _ = env
    names = con.sql("SELECT * EXCLUDE (createdat) FROM entu.mixedcase").arrow().column_names
    assert names == ["_id", "Name", "Name__all", "createdAt__all"]


def test_filter_on_a_mixed_case_column_is_still_pushed(env):
    con, _ = env
    plan = con.explain("SELECT name FROM entu.mixedcase WHERE createdat > 1")
    assert "createdAt.number.gt=1.0" in plan


def test_unknown_column_still_named_with_suggestions(env):
    con, _ = env
    with pytest.raises(UnknownColumn, match="createdAt"):
        con.sql("SELECT createdat2 FROM entu.mixedcase")
