"""Engine.stream: the result batch by batch, pages fetched as batches are read, early close stops."""

from __future__ import annotations

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.errors import UnknownColumn


@pytest.fixture(scope="module")
def con():
    rows = pa.table({"n": pa.array([[float(i)] for i in range(2000)], pa.list_(pa.float64())),
                     "pad": pa.array([["x" * 400] for _ in range(2000)], pa.list_(pa.string()))})
    c = lowcode_sql.connect_sandbox("entu", {"item": rows}, options={"page_size": 50})
    yield c
    c.close()


def test_stream_gives_the_same_rows_as_execute(con):
    sql = "SELECT n FROM entu.item WHERE n >= 10 ORDER BY n"
    with con.engine.stream(sql, batch_rows=500) as stream:
        assert stream.schema.names == ["n"]
        got = pa.Table.from_batches(list(stream), stream.schema)
    assert got.equals(con.sql(sql).arrow())


def test_closing_early_stops_the_scan(con):
    sandbox = con.sandbox("entu")
    con.tables()  # discovery outside the count
    sandbox.reset_stats()
    # DuckDB reads a streamed result ahead into a buffer (10 MiB by default); the wire server keeps
    # it small, and so does this test, so that what DuckDB has not asked for is never fetched
    con.engine._con.execute("SET streaming_buffer_size = '64KB'")
    stream = con.engine.stream("SELECT n, pad FROM entu.item", batch_rows=10)
    first = stream.read_next_batch()
    assert first is not None and first.num_rows > 0
    stream.close()
    assert stream.read_next_batch() is None
    served = sandbox.stats.count(r"/entity$")
    assert served < 30, served  # 40 pages in all: the scan stopped with what DuckDB had buffered
    assert con.sql("SELECT count(*) FROM entu.item").fetchall() == [(2000,)]  # the engine is usable again


def test_errors_are_typed(con):
    with pytest.raises(UnknownColumn):
        con.engine.stream("SELECT nope FROM entu.item")
