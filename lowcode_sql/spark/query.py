"""The ``query`` option: SQL run by lowcode_sql itself, on one partition.

A query may join and aggregate several scans, which lowcode_sql plans and DuckDB executes together;
splitting that across partitions would need the query rewritten per scan. So the SQL runs whole in
one Spark task (``lowcode_sql.connect`` on the executor, its pushdown as usual), and Spark sees the
answer as one partition. The schema comes from planning the query on the driver with ``LIMIT 0``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSourceReader, InputPartition
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType

from lowcode_sql.config import Config
from lowcode_sql.connection import Connection

__all__ = ["QueryReader", "query_schema"]


def _connect(target: Any) -> Connection:
    # external_access=False: the SQL may come from anyone who can set a DataFrame option
    return Connection(Config((target.source, *target.others)), external_access=False)


def query_schema(target: Any) -> pa.Schema:
    with _connect(target) as con:
        return con.sql(f"SELECT * FROM ({target.query}) AS q LIMIT 0").arrow().schema


class QueryReader(DataSourceReader):
    def __init__(self, target: Any, schema: StructType) -> None:
        self.target = target
        self.arrow = to_arrow_schema(schema, timezone="UTC")

    def partitions(self) -> list[InputPartition]:
        return [InputPartition(0)]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        with _connect(self.target) as con, con.stream(self.target.query) as stream:
            for batch in stream.batches():
                yield batch.cast(self.arrow)
