"""``LowcodeDataSource``: one lowcode_sql table (or query) as a Spark DataFrame, format ``"lowcode"``.

Where each step runs (the Python Data Source API, pyspark >= 4.1):

* ``schema()`` (driver, at ``load()``): options are checked and the table is resolved, so an unknown
  table, a bad option or a missing credential fails there with lowcode_sql's own message.
* ``pushFilters()`` (driver): Spark's filters become the planner's predicates (``filters.py``); the
  source's dialect classifies them together, as for any scan. **Exact** ones are reported handled
  (Spark drops them); **superset** ones are sent and also returned, so Spark re-checks them; the rest
  stay with Spark. Exact filters are checked again on every page received (``execute/verify.py``).
* ``partitions()`` (driver): one COUNT request (a one-row page) gives the total where the dialect
  pages by offset and reports totals; the rows are cut into disjoint ranges of whole pages. Cursor
  paging, answers without a total and ``query`` read as one partition.
* ``read()`` (executors): each partition opens its own runtime with its share of the source's
  ``concurrency`` and ``rate_limit`` (divided by the number of partitions), reads its range with the
  usual page guards plus one more: every page must report the total the driver counted, and the
  partition must deliver exactly its rows, else ``InconsistentScan`` fails the task (Spark retries it;
  a DataFrame is never silently short).

Credentials are never pickled: what travels to executors is the source's configuration, which names
environment variables; executors read them from their own environment and log in themselves.

Spark hands a Python source the full schema whatever columns a query uses, so every column is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.types import StructType

from dialect import TableDef
from lowcode_sql.catalog import Catalog, Source
from lowcode_sql.config import Config, SourceConfig, load_config
from lowcode_sql.convert.arrow import records_to_batch
from lowcode_sql.errors import ConfigError, InconsistentScan
from lowcode_sql.execute.verify import verifier_for
from lowcode_sql.fetch import loop
from lowcode_sql.fetch.scan import iter_pages
from lowcode_sql.spark.filters import to_pred
from lowcode_sql.spark.sessions import cached_source
from lowcode_sql.types import Exactness, OffsetPaging, Pred, ScanSpec

__all__ = ["LowcodeDataSource"]

_OPTIONS = {"config", "sandbox", "table", "query", "partitions", "pushdown"}
PAGES_PER_PARTITION = 10  # the default: a partition per 10 pages, at most MAX_PARTITIONS
MAX_PARTITIONS = 64
# pyspark <= 4.3 keeps the read planned by a filter pushdown on the loaded relation and reuses it for
# the next query on the same DataFrame that pushes no filter (df.where(...).count() then df.count()
# reads with the first query's filters: docs/notes/spark.md). Versions with scan-scoped read info
# also push LIMITs, so ``pushLimit`` marks them.
SCAN_SCOPED_PUSHDOWN = hasattr(DataSourceReader, "pushLimit")


@dataclasses.dataclass(frozen=True)
class Target:
    """What a reader needs on any machine: picklable, without a secret."""

    source: SourceConfig  # env var names only (``secrets`` is always empty here)
    table: TableDef | None
    query: str | None
    partitions: int | None
    pushdown: bool
    others: tuple[SourceConfig, ...] = ()  # a query's other sources

    @property
    def label(self) -> str:
        return f"{self.source.name}.{self.table.name}" if self.table is not None else "query"


@contextlib.contextmanager
def open_source(target: Target, share: int = 1) -> Iterator[Source]:
    """The source's dialect and runtime in this process, with ``1/share`` of its request budget:
    kept open for the next partition this worker runs (one login per worker, ``sessions.py``)."""
    sc = target.source
    if share > 1:
        sc = dataclasses.replace(sc, concurrency=max(1, sc.concurrency // share),
                                 rate_limit=sc.rate_limit / share if sc.rate_limit else None)
    with cached_source(sc) as src:
        yield src


def _bool(options: Mapping[str, str], key: str, default: bool) -> bool:
    raw = options.get(key)
    if raw is None:
        return default
    value = str(raw).strip().lower()
    if value not in ("true", "false"):
        raise ConfigError(f"option {key!r} must be true or false, not {raw!r}")
    return value == "true"


def _source_config(options: Mapping[str, str], table: str | None
                   ) -> tuple[SourceConfig, str | None, tuple[SourceConfig, ...]]:
    """The source the table lives in and the table's name in it (a query: every source)."""
    if ("config" in options) == ("sandbox" in options):
        raise ConfigError("give exactly one of the options 'config' (a lowcode.toml path) or 'sandbox' "
                          "(a platform name, for its emulator)")
    if "sandbox" in options:
        platform = str(options["sandbox"]).strip().lower()
        from lowcode_sql.sandbox import get_sandbox

        get_sandbox(platform)  # an unknown name fails here, with the known ones listed
        sc = SourceConfig(name=platform, platform=platform, sandbox=True)
        if table is not None and "." in table:
            src, _, table = table.partition(".")
            if src.lower() != platform:
                raise ConfigError(f"table {src}.{table}: the sandbox source is named {platform!r}")
        return sc, table, ()
    config = load_config(str(options["config"]))
    if table is None:
        if not config.sources:
            raise ConfigError("the config declares no source")
        return config.sources[0], None, config.sources[1:]
    if "." not in table:
        if len(config.sources) != 1:
            raise ConfigError(f"table {table!r}: name it as <source>.<table>")
        return config.sources[0], table, ()
    src, _, name = table.partition(".")
    return config.source(src), name, ()


def _target(options: Mapping[str, str]) -> Target:
    unknown = sorted(set(options) - _OPTIONS - {"path"})
    if unknown:
        from lowcode_sql.errors import close_matches

        raise ConfigError(f"unknown option {unknown[0]!r}{close_matches(unknown[0], _OPTIONS)}")
    if ("table" in options) == ("query" in options):
        raise ConfigError("give exactly one of the options 'table' or 'query'")
    parts: int | None = None
    if "partitions" in options:
        try:
            parts = int(str(options["partitions"]))
        except ValueError:
            parts = 0
        if parts < 1:
            raise ConfigError(f"option 'partitions' must be a positive integer, not {options['partitions']!r}")
    query = str(options["query"]) if "query" in options else None
    sc, name, others = _source_config(options, str(options["table"]) if "table" in options else None)
    if any(c.secrets for c in (sc, *others)):
        raise ConfigError(f"source {sc.name!r}: secrets given in code cannot reach Spark executors; "
                          "name environment variables under 'credentials'")
    tdef = None
    catalog = Catalog(Config((sc,)))  # credentials are read (and a missing one reported) here
    try:
        if name is not None:
            _, tdef, _ = catalog.resolve(sc.name, name)
    finally:
        catalog.close()
    return Target(sc, tdef, query, parts, _bool(options, "pushdown", SCAN_SCOPED_PUSHDOWN), others)


def spark_schema(schema: pa.Schema, where: str) -> StructType:
    try:
        return from_arrow_schema(schema, prefer_timestamp_ntz=True)
    except Exception as e:  # a type Spark cannot hold: say which
        raise ConfigError(f"{where}: a column has no Spark type: {e}") from None


class LowcodeDataSource(DataSource):
    """``spark.read.format("lowcode")``: options ``config`` | ``sandbox``, ``table`` | ``query``,
    ``partitions`` and ``pushdown`` (README, "Spark")."""

    @classmethod
    def name(cls) -> str:
        return "lowcode"

    def _target(self) -> Target:
        target: Target | None = getattr(self, "_resolved", None)
        if target is None:
            target = self._resolved = _target(self.options)
        return target

    def schema(self) -> StructType:
        target = self._target()
        if target.table is not None:
            return spark_schema(target.table.schema(), target.label)
        from lowcode_sql.spark.query import query_schema

        return spark_schema(query_schema(target), "query")

    def reader(self, schema: StructType) -> DataSourceReader:
        target = self._target()
        if target.table is None:
            from lowcode_sql.spark.query import QueryReader

            return QueryReader(target, schema)
        return (PushdownReader if target.pushdown else TableReader)(target, schema)


@dataclasses.dataclass(frozen=True)
class Range(InputPartition):
    """Rows ``[start, start + rows)`` of a scan whose COUNT was ``total`` (``rows`` None: to the end;
    ``total`` None: a single partition that reads the whole scan with the engine's guards)."""

    index: int
    share: int
    start: int = 0
    rows: int | None = None
    total: int | None = None
    head: tuple[Any, ...] = ()  # partition 0: the first page's records, read by the driver


class TableReader(DataSourceReader):
    def __init__(self, target: Target, schema: StructType) -> None:
        self.target = target
        self.pushed: tuple[tuple[Pred, Exactness], ...] = ()
        self.arrow = to_arrow_schema(schema, timezone="UTC")

    @property
    def table(self) -> TableDef:
        assert self.target.table is not None
        return self.target.table

    def spec(self) -> ScanSpec:
        t = self.table
        return ScanSpec(self.target.source.name, t.name, tuple(c.name for c in t.columns), self.pushed)

    def partitions(self) -> list[InputPartition]:
        with open_source(self.target) as src:
            request = src.dialect.render_scan(self.table, self.spec())
            paging = request.paging
            if not isinstance(paging, OffsetPaging) or not src.dialect.can_count(self.table):
                return [Range(0, 1)]
            # The first page, not a one-row page: its answer reports the total (the COUNT) and its
            # rows travel in partition 0, so a scan of one page costs one request, as in the engine.
            first = request.page_request(0, paging.page_size)
            page = src.dialect.parse_answer(self.table, first, loop.run(src.runtime.send(first)))
            if page.total is None:
                return [Range(0, 1)]  # no total reported: one partition, the engine's guards
        head = page.records if len(page.records) == min(paging.page_size, page.total) else []
        return plan_ranges(page.total, paging.page_size, self.target.partitions, head)

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        part = partition if isinstance(partition, Range) else Range(0, 1)
        spec = self.spec()
        names = list(spec.columns)
        with open_source(self.target, part.share) as src:
            request = src.dialect.render_scan(self.table, spec)
            if part.total is not None:
                assert isinstance(request.paging, OffsetPaging)
                request = dataclasses.replace(
                    request, paging=dataclasses.replace(request.paging, start=part.start, max_rows=part.rows))
            echo = src.dialect.echo_values(spec)
            verifier = verifier_for(src.name, self.table, spec, src.dialect)
            got = 0
            empty = part.rows == 0  # the head holds all of this partition
            pages = iter(()) if empty else iter_pages(src.runtime, self.table, request, expect_total=part.total)
            try:
                for records in itertools.chain([list(part.head)] if part.head else [], pages):
                    batch = records_to_batch(self.table, names, records, echo)
                    if verifier is not None:
                        verifier.check(batch)
                    got += batch.num_rows
                    yield batch.cast(self.arrow)
            finally:
                if not empty:
                    pages.close()  # type: ignore[attr-defined]
                if verifier is not None:
                    verifier.close()
        if part.total is not None:
            want = max(0, part.total - part.start)
            want = len(part.head) + (want if part.rows is None else min(want, part.rows))
            if got != want:
                raise InconsistentScan(f"{self.target.label}: partition {part.index} of {part.share} read {got} "
                                       f"rows instead of {want}; the data changed during the read", source=src.name)


class PushdownReader(TableReader):
    def pushFilters(self, filters: list[Any]) -> list[Any]:
        """Keep Spark's filters that are not exact (returned), push the exact and superset ones."""
        types = {c.name: c.type for c in self.table.columns}
        candidates = [(f, p) for f in filters if (p := to_pred(f, types)) is not None]
        if not candidates:
            return filters
        with open_source(self.target) as src:
            decisions = src.dialect.classify(self.table, [p for _, p in candidates])
        pushed = [(p, d) for (_, p), d in zip(candidates, decisions, strict=True) if d is not Exactness.LOCAL]
        handled = {id(f) for (f, _), d in zip(candidates, decisions, strict=True) if d is Exactness.EXACT}
        self.pushed = tuple(pushed)
        return [f for f in filters if id(f) not in handled]


def plan_ranges(total: int, page_size: int, wanted: int | None, head: list[Any] | tuple[Any, ...] = ()
                ) -> list[InputPartition]:
    """Disjoint ranges of whole pages covering ``total`` rows (a page-number API can start a
    partition only at a page boundary); the last one reads to the end. ``head`` (the first page,
    already read) goes to partition 0, which then reads from the row after it."""
    pages = max(1, math.ceil(total / max(1, page_size)))
    n = wanted if wanted is not None else min(MAX_PARTITIONS, max(1, pages // PAGES_PER_PARTITION))
    per = math.ceil(pages / max(1, min(n, pages))) * page_size  # rows per partition
    starts = list(range(0, max(total, 1), per))
    out: list[InputPartition] = []
    for i, s in enumerate(starts):
        rows = None if i == len(starts) - 1 else per
        if i == 0 and head:
            s, rows = len(head), (max(0, total - len(head)) if rows is None else rows - len(head))
        out.append(Range(i, len(starts), s, rows, total, tuple(head) if i == 0 else ()))
    return out
