"""Scan sharing against each platform's emulator: a table read through several references costs the
requests of reading it once (issue 15, item 1), answers unchanged, EXPLAIN ANALYZE counting once."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.execute.shared import tee
from tests.differential import (
    test_alumio_diff,
    test_coredata_diff,
    test_entu_diff,
    test_slingr_diff,
    test_totalum_diff,
)
from tests.differential.harness import compare, reference

# platform -> (suite, table, key)
PLATFORMS = {
    "coredata": (test_coredata_diff.SUITE, "projects", "id"),
    "totalum": (test_totalum_diff.SUITE, "item", "_id"),
    "slingr": (test_slingr_diff.SUITE, "item", "id"),
    "alumio": (test_alumio_diff.SUITE, "queue_processes", "identifier"),
    "entu": (test_entu_diff.SUITE, "item", "_id"),
}

QUERIES = [
    "SELECT count(*) FROM {t} a JOIN {t} b ON a.{k} = b.{k}",
    "SELECT a.{k} FROM {t} a WHERE EXISTS (SELECT 1 FROM {t} b WHERE b.{k} = a.{k})",
    "SELECT count(*) FROM {t} a WHERE NOT EXISTS (SELECT 1 FROM {t} b WHERE b.{k} = a.{k})",
    "SELECT {k} FROM {t} UNION ALL SELECT {k} FROM {t}",
    "SELECT a.{k} FROM {t} a WHERE a.{k} IN (SELECT b.{k} FROM {t} b) AND a.{k} >= (SELECT min({k}) FROM {t})",
]


@pytest.fixture(scope="module", params=list(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> Iterator[tuple[lowcode_sql.Connection, object, str, str]]:
    suite, table, key = PLATFORMS[request.param]
    config = suite.configs[0]
    con, _ = suite.connect(config)
    ref = reference(suite.reference_tables(config), suite.schema)
    yield con, ref, f"{suite.schema}.{table}", key
    con.close()
    ref.close()


@pytest.mark.parametrize("template", QUERIES)
def test_a_table_read_through_several_references_costs_one_read(platform, template: str) -> None:
    con, ref, t, k = platform
    once = con.sql(f"SELECT {k} FROM {t}").requests  # fetching the table once
    assert once >= 2  # several pages, so that two reads would show
    sql = template.format(t=t, k=k)
    result = compare(con, ref, sql, ordered=False)
    assert result.requests == once, con.explain(sql)
    assert len(result.scans) == 1 and result.scans[0].requests == once


def test_explain_analyze_shows_the_shared_scan_and_counts_its_requests_once(platform) -> None:
    con, _, t, k = platform
    sql = f"SELECT count(*) FROM {t} a JOIN {t} b ON a.{k} = b.{k}"
    text = con.explain(sql)
    assert text.count("\nscan ") + text.startswith("scan ") == 1
    assert "shared:   one fetch feeds a (view" in text and "; b (view" in text
    once = con.sql(f"SELECT {k} FROM {t}").requests
    analyzed = con.explain(sql, analyze=True)
    assert f"actual {once} (" in analyzed


def test_a_shared_scan_that_fails_fails_every_reference_instead_of_ending_it() -> None:
    schema = pa.schema([("a", pa.int64()), ("b", pa.int64())])

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([1]), pa.array([2])], schema=schema)
        raise OSError("page 2 failed")

    first, second = tee(pa.RecordBatchReader.from_batches(schema, batches()), [["a"], ["b", "a"]])
    assert first.read_next_batch().to_pydict() == {"a": [1]}
    with pytest.raises(OSError, match="page 2"):
        first.read_next_batch()
    assert second.read_next_batch().to_pydict() == {"b": [2], "a": [1]}  # buffered for it
    with pytest.raises(OSError, match="page 2"):
        second.read_next_batch()  # not an early end of its rows


def test_every_reader_of_a_tee_gets_every_batch_in_order() -> None:
    table = pa.table({"x": list(range(10)), "y": [str(i) for i in range(10)]})
    readers = tee(pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=3)),
                  [["x"], ["y"], ["y", "x"]])
    # read in an interleaving: the last reader first, wholly, then the others
    assert readers[2].read_all().to_pydict() == {"y": table["y"].to_pylist(), "x": table["x"].to_pylist()}
    assert readers[0].read_all().column("x").to_pylist() == list(range(10))
    assert readers[1].read_all().column("y").to_pylist() == [str(i) for i in range(10)]
