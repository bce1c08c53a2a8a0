"""attach accepts the filters a dialect sends as a superset (Entu's default multi-valued columns)
and re-checks them batch by batch: differential against DuckDB over the same rows, and the API
narrows what it sends (the old attach refused these filters and read whole tables)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

import lowcode_sql

N = 400


def _rows() -> pa.Table:
    names, nums = [], []
    for i in range(N):
        k = i % 5
        names.append([] if k == 4 else [f"v{i % 7}", f"v{(i * 3) % 11}"][: 1 + (k % 2)])
        nums.append([float(i % 13), float(i % 3)][: 1 + (k % 3 == 0)] if k != 2 else [])
    return pa.table({"name": pa.array(names, pa.list_(pa.string())), "n": pa.array(nums, pa.list_(pa.float64()))})


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    rows = _rows()
    lc = lowcode_sql.connect_sandbox("entu", {"item": rows}, options={"page_size": 50})
    duck = duckdb.connect()
    att = lowcode_sql.attach(duck, lc)
    ref = duckdb.connect()
    # what SQL sees of a multi-valued property: its first value (README, Entu)
    ref.register("raw", rows)
    ref.execute("CREATE TABLE item AS SELECT name[1] AS name, n[1] AS n FROM raw")
    yield lc, duck, att, ref
    lowcode_sql.detach(duck)
    duck.close()
    ref.close()
    lc.close()


PREDICATES = [
    "name = 'v3'",
    "name <> 'v3'",
    "name IN ('v1', 'v5', 'v10')",
    "name > 'v5'",
    "name IS NULL",
    "n = 1",
    "n >= 7 AND n < 10",
    "n = 0 OR n = 12",
    "name = 'v2' AND n <= 6",
    "NOT (n BETWEEN 2 AND 9)",
]


@pytest.mark.parametrize("where", PREDICATES)
def test_superset_filters_give_duckdbs_answer(setup, where: str) -> None:  # type: ignore[no-untyped-def]
    lc, duck, _att, ref = setup
    expected = ref.sql(f"SELECT name, n FROM item WHERE {where} ORDER BY ALL").fetchall()
    got = duck.sql(f"SELECT name, n FROM entu.item WHERE {where} ORDER BY ALL").fetchall()
    assert got == expected
    assert lc.sql(f"SELECT name, n FROM entu.item WHERE {where} ORDER BY ALL").fetchall() == expected


def test_a_superset_filter_is_pushed_and_rechecked(setup) -> None:  # type: ignore[no-untyped-def]
    lc, duck, att, ref = setup
    att.clear()
    got = duck.sql("SELECT count(*) FROM entu.item WHERE name = 'v3'").fetchall()
    assert got == ref.sql("SELECT count(*) FROM item WHERE name = 'v3'").fetchall()
    scan = list(att.scans)[-1]
    assert scan.pushed and scan.rechecked  # sent to the API, and re-checked by the reader
    assert any(accepted for _, _, accepted in att.offered)
    # the API sent fewer pages than the table's 8: the old attach refused the filter and read all
    assert att.requests < N // 50
    engine = lc.sql("SELECT count(*) FROM entu.item WHERE name = 'v3'")
    assert att.requests <= engine.requests
