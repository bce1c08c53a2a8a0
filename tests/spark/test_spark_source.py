"""The Spark data source against the five emulators over real HTTP: the same answers as
``lowcode_sql.connect`` over the same config, and the request counts that prove the pushdown."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import lowcode_sql
from lowcode_sql.sandbox.server import RunningServer

# Spark plans each query in fresh Python workers: seconds per query, minutes under a loaded machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# table, a Spark WHERE that is also SQL, the GROUP BY column, the projected columns
CASES = {
    "coredata": ("projects", "title LIKE 'B%' AND created >= '2020-01-01'", "status", ("id", "title")),
    "entu": ("book", "in_stock = true", "author", ("_id", "author")),
    "slingr": ("companies", "is_customer = true AND name IS NOT NULL", "type", ("id", "name")),
    "totalum": ("client", "vip = true OR credit > 100", "country", ("_id", "name", "credit")),
    "alumio": ("task_statistics", "failed > 0 AND new >= 1", "space_identifier", ("identifier", "failed")),
}


def load(spark: Any, config: Path, table: str, **options: str) -> Any:
    reader = spark.read.format("lowcode").option("config", str(config)).option("table", table)
    reader = reader.option("pushdown", "true")  # each query below starts from its own load()
    for k, v in options.items():
        reader = reader.option(k, v)
    return reader.load()


def rows(result: Any) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r) for r in result)


@pytest.mark.parametrize("platform", list(CASES))
def test_dataframe_equals_engine(spark: Any, config_path: Path, servers: dict[str, RunningServer],
                                 platform: str) -> None:
    """A filter, a projection and an aggregate in one DataFrame query (one Spark job per platform:
    each costs seconds)."""
    from pyspark.sql import functions as F

    table, where, group, cols = CASES[platform]
    name = f"{platform}.{table}"
    with lowcode_sql.connect(config_path) as con:
        want = rows(con.sql(f"SELECT {group}, count(*), min({cols[0]}), max({cols[-1]}) FROM {name} "
                            f"WHERE {where} GROUP BY {group}").fetchall())
    assert sum(n for (_, n, _, _) in want.elements()) > 0, "the case must select some rows"
    df = load(spark, config_path, name, partitions="3").where(where).select(group, *cols)
    got = rows(df.groupBy(group).agg(F.count("*"), F.min(cols[0]), F.max(cols[-1])).collect())
    assert got == want


def test_a_reused_dataframe_never_reads_an_earlier_querys_filters(spark: Any, config_path: Path) -> None:
    """pyspark <= 4.3 replays the read planned for one query's pushed filters in the next query on the
    same DataFrame that pushes none (docs/notes/spark.md): by default the source then pushes nothing."""
    where = "title LIKE 'B%'"
    with lowcode_sql.connect(config_path) as con:
        filtered = con.sql(f"SELECT count(*) FROM coredata.projects WHERE {where}").fetchall()[0][0]
        total = con.sql("SELECT count(*) FROM coredata.projects").fetchall()[0][0]
    assert 0 < filtered < total
    df = spark.read.format("lowcode").option("config", str(config_path)).option("table", "coredata.projects").load()
    assert df.where(where).count() == filtered
    assert df.count() == total


def test_exact_filter_costs_what_the_engine_pays(spark: Any, config_path: Path,
                                                  servers: dict[str, RunningServer]) -> None:
    platform = servers["coredata"].platform
    with lowcode_sql.connect(config_path) as con:
        unique = "SELECT title FROM coredata.projects GROUP BY title HAVING count(*) = 1 LIMIT 1"
        some = con.sql(unique).fetchall()[0][0]
        platform.reset_stats()
        want = con.sql(f"SELECT * FROM coredata.projects WHERE title = '{some}'").fetchall()
        engine = platform.stats.requests
    platform.reset_stats()
    got = load(spark, config_path, "coredata.projects", partitions="4").where(f"title = '{some}'").collect()
    assert len(got) == len(want) == 1
    assert platform.stats.requests == engine == 1


def test_filtered_count_over_four_partitions(spark: Any, config_path: Path,
                                              servers: dict[str, RunningServer]) -> None:
    platform = servers["coredata"].platform
    where = "created >= '2000-01-01'"
    with lowcode_sql.connect(config_path) as con:
        want = con.sql(f"SELECT count(*) FROM coredata.projects WHERE {where}").fetchall()[0][0]
        platform.reset_stats()
        con.sql(f"SELECT * FROM coredata.projects WHERE {where}").fetchall()
        pages = platform.stats.requests  # the engine's own scan of those rows
    assert pages >= 4, "the rows must span several pages"
    platform.reset_stats()
    df = load(spark, config_path, "coredata.projects", partitions="4").where(where)
    assert df.count() == want
    assert platform.stats.requests <= 1 + pages
    # the filter was sent: no request read the whole table
    assert all(any(k.startswith("created") for k, _ in e.query) for e in platform.stats.log)


def test_drift_fails_the_partition(config_path: Path, servers: dict[str, RunningServer]) -> None:
    """The table changed after the driver counted: the partition sees another total and fails
    (a reader run here, outside Spark, exactly as an executor runs it)."""
    from pyspark.sql.types import StructType

    from lowcode_sql.errors import InconsistentScan
    from lowcode_sql.spark.source import PushdownReader, Range, _target, spark_schema

    target = _target({"config": str(config_path), "table": "coredata.projects", "partitions": "3"})
    assert target.table is not None
    schema: StructType = spark_schema(target.table.schema(), "t")
    reader = PushdownReader(target, schema)
    parts = reader.partitions()
    assert len(parts) > 1
    first = parts[1]
    assert isinstance(first, Range) and first.total is not None
    assert sum(b.num_rows for b in reader.read(first)) == first.rows
    for moved in (Range(first.index, first.share, first.start, first.rows, first.total + 1),
                  Range(first.index, first.share, first.start, first.rows, first.total - 1)):
        with pytest.raises(InconsistentScan, match="total changed"):
            list(reader.read(moved))


def test_query_option_reads_the_engines_answer(config_path: Path, servers: dict[str, RunningServer]) -> None:
    """``query``: planned on the driver for its schema, run whole on one partition (outside Spark here,
    as an executor runs it)."""
    from lowcode_sql.spark.query import QueryReader, query_schema
    from lowcode_sql.spark.source import _target, spark_schema

    sql = ("SELECT p.status, count(*) AS n, max(t.name) AS top FROM coredata.projects p "
           "CROSS JOIN totalum.client t WHERE t.vip GROUP BY p.status")
    target = _target({"config": str(config_path), "query": sql})
    schema = spark_schema(query_schema(target), "query")
    assert schema.fieldNames() == ["status", "n", "top"]
    reader = QueryReader(target, schema)
    (part,) = reader.partitions()
    got = rows(r for b in reader.read(part) for r in zip(*b.to_pydict().values(), strict=True))
    with lowcode_sql.connect(config_path) as con:
        assert got == rows(con.sql(sql).fetchall())


def test_errors_at_load(spark: Any, config_path: Path) -> None:
    reader = spark.read.format("lowcode").option("config", str(config_path))
    with pytest.raises(Exception, match=r"coredata\.nope"):
        reader.option("table", "coredata.nope").load()
    with pytest.raises(Exception, match="'partitions' must be a positive integer"):
        reader.option("table", "coredata.projects").option("partitions", "x").load()
    with pytest.raises(Exception, match="unknown option 'tabel'"):
        spark.read.format("lowcode").option("config", str(config_path)).option("tabel", "x").load()
