"""``connect()``: the Python entry point. A Connection owns a catalog of sources and an engine."""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# sqlglot loads a dialect's parser and generator on first use (~0.1 s of class building for DuckDB's):
# loaded with the engine, so a connection's first query costs what a later one does (issue 15, item 5)
import sqlglot.dialects.duckdb  # noqa: F401

from lowcode_sql.catalog import Catalog
from lowcode_sql.config import Config, load_config, source_from_mapping
from lowcode_sql.errors import ConfigError, UnknownTable
from lowcode_sql.execute.engine import Engine, Progress
from lowcode_sql.explain import explain_plan
from lowcode_sql.fetch.runtime import warm_tls
from lowcode_sql.result import BATCH_ROWS, Result, StreamedResult
from lowcode_sql.sqltypes import sql_type
from lowcode_sql.verify_query import DEFAULT_MAX_REQUESTS, VerifyReport
from lowcode_sql.verify_query import verify as verify_query
from lowcode_sql.warm import warm_process

__all__ = ["Connection", "connect", "connect_sandbox", "demo"]


class Connection:
    """Query configured sources with SQL (DuckDB syntax); tables are ``<source>.<table>``."""

    def __init__(self, config: Config, *, timezone: str = "UTC", readahead: int | None = None,
                 external_access: bool = True, allowed_directories: Sequence[str | os.PathLike[str]] = (),
                 record: str | os.PathLike[str] | None = None, replay: str | os.PathLike[str] | None = None,
                 warm: bool = True) -> None:
        """``external_access`` (default True: your own SQL may join local files, e.g.
        ``read_parquet('x.parquet')``): False for applications that run SQL they did not write;
        then no file, network, extension or DuckDB setting is reachable from SQL, except reading
        ``allowed_directories`` (README, "Security"). ``record=DIR`` writes every HTTP exchange
        into DIR with the credentials redacted; ``replay=DIR`` answers every request from such a
        recording, with no platform, emulator or credential (``lowcode_sql.fetch.record``).
        ``warm`` (default True): once the connection has a source, the one-off work of a
        process's first scan (imports, the TLS context, the scratch database) is done here, not
        inside the first query (``lowcode_sql.warm``); False for a connection that runs one
        statement right away (the CLI's commands), where it would only move."""
        self.catalog = Catalog(config, record=record, replay=replay)
        self._warm = warm
        try:
            self.engine = Engine(self.catalog, timezone=timezone, readahead=readahead,
                                 external_access=external_access, allowed_directories=allowed_directories)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        self._closed = False
        # open streams: their DuckDB query must be read to the end before another one runs
        self._streams: weakref.WeakSet[StreamedResult] = weakref.WeakSet()
        self._warm_for_sources()

    # --- sources ------------------------------------------------------------------------------

    def add_source(self, name: str, platform: str, *, sandbox: Any = None, **settings: Any) -> None:
        """Add a source in code. ``sandbox=True`` (or an emulator instance) serves it in-process."""
        raw = {"platform": platform, **settings, "sandbox": sandbox is not None and sandbox is not False}
        sc = source_from_mapping(name, raw)
        self.catalog.add(sc, sandbox if sandbox not in (None, True, False) else None)
        self._warm_for_sources()

    def _warm_for_sources(self) -> None:
        if not self._warm or not self.catalog.sources:
            return
        warm_process()
        if self.catalog.replay is None and any(not s.config.sandbox for s in self.catalog.sources.values()):
            warm_tls()  # a source on the network: the process's TLS context

    def sandbox(self, source: str) -> Any:
        """The embedded emulator behind a sandbox source (load tables, read request counters)."""
        return self.catalog.source(source).sandbox

    # --- queries ------------------------------------------------------------------------------

    def sql(self, query: str, params: Any = None, *, progress: Progress | None = None) -> Result:
        """Run ``query`` to the end: the whole answer as a ``Result`` (Arrow, rows, DataFrames)."""
        self._settle_streams()
        return self.engine.execute(query, params, progress)

    execute = sql

    def stream(self, query: str, params: Any = None, *, batch_rows: int = BATCH_ROWS,
               progress: Progress | None = None) -> StreamedResult:
        """Start ``query`` and read its answer batch by batch: pages are fetched as batches are
        read, so memory stays at a few batches whatever the answer's size, and closing it (or
        leaving its ``with`` block) stops the scans. Iterate it for rows, ``.batches()`` for Arrow
        record batches, or hand it to ``pyarrow``/``polars``/``duckdb`` (``__arrow_c_stream__``).
        Another query on this Connection meanwhile first reads the rest of it into memory."""
        self._settle_streams()
        out = StreamedResult(self.engine.stream(query, params, batch_rows=batch_rows, progress=progress),
                             self._streams.discard)
        self._streams.add(out)
        return out

    def verify(self, query: str, params: Any = None, *,
               max_requests: int | None = DEFAULT_MAX_REQUESTS) -> VerifyReport:
        """Run ``query`` with pushdown and with nothing pushed and compare the answers: a
        ``VerifyReport`` (``.equal``, the differing rows, rows and requests of each run; print it).
        Each run sends at most ``max_requests`` requests (``RequestLimitExceeded`` beyond):
        ``lowcode_sql.verify_query``."""
        self._settle_streams()
        return verify_query(self, query, params, max_requests=max_requests)

    def _settle_streams(self) -> None:
        # The engine's DuckDB connection runs one query at a time: running another would end an
        # open stream's query early, so what it has not read yet is read into memory first.
        for stream in list(self._streams):
            self._streams.discard(stream)
            stream._settle()

    def explain(self, query: str, params: Any = None, *, count: bool = False, analyze: bool = False,
                format: str = "text") -> str:
        """The pushdown split and the requests each scan sends. ``count=True`` makes one COUNT
        request per scan (where the API reports totals) to predict the page requests exactly.
        ``analyze=True`` runs the query and shows what each scan actually cost (``format="json"``
        for tools): ``lowcode_sql.explain.analyze``."""
        counter = None
        if count:
            from lowcode_sql.fetch.scan import fetch_count

            def counter(scan: Any, request: Any) -> int:
                return fetch_count(self.catalog.source(scan.source).runtime, scan.table, request)

        if analyze:
            from lowcode_sql.explain import analyze as run_analyze

            return run_analyze(self.engine, query, params, counter, fmt=format)
        return explain_plan(self.engine.plan(query, params), counter)

    # --- catalog ------------------------------------------------------------------------------

    def tables(self, source: str | None = None) -> list[tuple[str, str, str]]:
        """(source, table, description) for every table, or those of one source."""
        out: list[tuple[str, str, str]] = []
        for s in self.catalog.sources.values():
            if source is not None and s.name != source:
                continue
            out.extend((s.name, t.name, t.doc) for t in s.tables().values())
        if source is not None and source not in self.catalog.sources:
            raise UnknownTable(source, list(self.catalog.sources))
        return out

    def describe(self, table: str) -> list[tuple[str, str, str]]:
        """(column, SQL type, description) of ``source.table`` (or an unambiguous ``table``)."""
        db, _, name = table.rpartition(".")
        _, tdef, _ = self.catalog.resolve(db or None, name)
        return [(c.name, sql_type(c.type), c.doc) for c in tdef.columns]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for stream in list(self._streams):
                stream.close()
            self.engine.close()
            self.catalog.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


def connect(config: str | Path | Mapping[str, Any] | Config | None = None, **kw: Any) -> Connection:
    """A Connection over the sources of a TOML file, a mapping shaped like it, or a Config.

    Without a config, ``$LOWCODE_SQL_CONFIG`` is read; with neither, the connection starts empty
    (add sources with ``add_source``). Keywords go to ``Connection``: ``timezone``, ``readahead``,
    ``external_access=False`` (for SQL you did not write), ``allowed_directories``, ``record=DIR``,
    ``replay=DIR`` and ``warm=False`` (a one-shot script: see ``Connection``).
    """
    return Connection(load_config(config), **kw)


def demo(**kw: Any) -> Connection:
    """A Connection to every platform's embedded emulator with sample data: no account needed.

    Sources are named after the platforms (``coredata.projects``, ``entu.book``, ...).
    """
    from lowcode_sql.sandbox import names

    con = Connection(Config(), **kw)
    for platform in names():
        con.add_source(platform, platform, sandbox=True)
    return con


def connect_sandbox(
    platform: str,
    tables: Mapping[str, Any] | None = None,
    *,
    source: str | None = None,
    sample_data: bool | None = None,
    options: Mapping[str, Any] | None = None,
    table_options: Mapping[str, Mapping[str, Any]] | None = None,
    **sandbox_settings: Any,
) -> Connection:
    """Start a platform emulator loaded with Arrow tables and return a Connection to it.

    ``tables`` maps table names to ``pyarrow.Table``s (for Entu each becomes an entity type, LIST
    columns multi-valued properties); without tables the emulator's sample data is loaded.
    ``sandbox_settings`` go to the emulator (``latency``, ``rate_limit``, ``seed``, ...);
    ``options`` are the dialect's source options; the source is named after the platform.

    >>> con = connect_sandbox("entu", {"item": pa.table({"name": ["a", "b"]})})  # doctest: +SKIP
    >>> con.sql("SELECT name FROM entu.item").fetchall()                          # doctest: +SKIP
    """
    from lowcode_sql.sandbox import get_sandbox

    load_samples = sample_data if sample_data is not None else not tables
    platform_obj = get_sandbox(platform, sample_data=load_samples, **sandbox_settings)
    for name, table in (tables or {}).items():
        platform_obj.load_table(name, table, **dict((table_options or {}).get(name, {})))
    con = Connection(Config())
    con.add_source(source or platform, platform, sandbox=platform_obj, options=dict(options or {}))
    return con
