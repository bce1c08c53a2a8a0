"""The wire server's engines: source queries run on a pool of ``Engine``s over the connection's
catalog (one DuckDB each; the HTTP runtimes are shared and thread-safe, fetch/loop.py), so a long
scan for one client does not hold up the others. The pool also knows which engines run which
session's queries, so a cancel (CancelRequest, a client that disconnects) interrupts exactly those.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from lowcode_sql.pgwire.errors import query_canceled
from lowcode_sql.pgwire.pgfuncs import SERVED_MACROS
from lowcode_sql.pgwire.pgsemantics import PG_GLOBAL_SETTINGS
from lowcode_sql.pgwire.stream import RowStream
from lowcode_sql.procmem import limit_malloc_arenas, release_free_memory, use_system_arrow_pool

__all__ = ["BATCH_ROWS", "EnginePool", "engine_timezone", "limit_malloc_arenas", "release_free_memory",
           "use_system_arrow_pool"]

log = logging.getLogger("lowcode_sql.pgwire")

BATCH_ROWS = 8192  # rows encoded and written per step: bounds the encoded bytes held per session


class EnginePool:
    """At most ``size`` engines, made on demand; ``take`` waits while all are busy."""

    def __init__(self, connection: Any, *, size: int, timezone: str, allowed_directories: Sequence[str]) -> None:
        self.connection = connection
        self.timezone = timezone
        self.allowed_directories = allowed_directories
        # idle engines, each with the time it was given back (``trim`` closes the long-idle ones)
        self._engines: queue.SimpleQueue[tuple[Any, float]] = queue.SimpleQueue()
        self._engine_count = max(1, size)
        self._engines_made = 0
        self._engines_lock = threading.Lock()
        self._running: dict[int, list[Any]] = {}  # session pid -> the engines running its queries
        self.max_busy = 0

    def take(self) -> Any:
        """An idle engine (made if the pool is not full yet); give it back with ``give``."""
        with self._engines_lock:
            try:
                return self._engines.get_nowait()[0]
            except queue.Empty:
                if self._engines_made < self._engine_count:
                    # the pool's own engines, never the connection's: a stream uses its engine
                    # across calls without the engine's lock, so nobody else may touch it
                    self._engines_made += 1
                    from lowcode_sql.execute.engine import Engine

                    base = self.connection.engine
                    # never the connection's own engine either: it may allow external access
                    # (the Python API's default); these cannot, and their settings are locked.
                    # DuckDB reads a streamed result ahead into streaming_buffer_size (10 MiB by
                    # default): keep it small so a client reading slowly also slows the scan.
                    return Engine(self.connection.catalog, timezone=self.timezone,
                                  readahead=getattr(base, "readahead", None), external_access=False,
                                  allowed_directories=self.allowed_directories,
                                  settings={"streaming_buffer_size": "1MB"},
                                  global_settings=PG_GLOBAL_SETTINGS, init_sql=SERVED_MACROS)
        return self._engines.get()[0]  # all busy: wait for one

    def give(self, engine: Any) -> None:
        self._engines.put((engine, time.monotonic()))

    def trim(self, idle_seconds: float, keep: int = 1) -> int:
        """Close engines idle for ``idle_seconds`` or more, keeping the ``keep`` most recently used
        idle ones: each engine is a DuckDB of its own (tens of MB), and a burst of clients made up
        to ``size`` of them, which would otherwise stay for the server's life (issue 14: RSS grew
        295 -> 494 MB after a load and stayed). Returns how many were closed."""
        now = time.monotonic()
        closing = []
        with self._engines_lock:
            idle = []
            while True:
                try:
                    idle.append(self._engines.get_nowait())
                except queue.Empty:
                    break
            idle.sort(key=lambda e: e[1], reverse=True)  # most recently given back first
            for i, (engine, since) in enumerate(idle):
                if i >= keep and now - since >= idle_seconds:
                    closing.append(engine)
                    self._engines_made -= 1
                else:
                    self._engines.put((engine, since))
        for engine in closing:
            with contextlib.suppress(Exception):
                engine.close()
        if closing:
            log.debug("closed %d idle engines", len(closing))
            release_free_memory()
        return len(closing)

    def explain(self, sql: str, params: list[Any] | None, *, analyze: bool = False, fmt: str = "text",
                pid: int | None = None, cancelled: Callable[[], bool] = lambda: False) -> str:
        """EXPLAIN's text, planned on a pool engine (planning folds constants in its DuckDB).
        ``analyze`` runs the query too (``explain.analyze``), on an engine registered as session
        ``pid``'s running query, so a cancel stops it like any other."""
        from lowcode_sql.explain import analyze as run_analyze
        from lowcode_sql.explain import explain_plan

        engine = self.take()
        running = self._running.setdefault(pid, []) if analyze and pid is not None else None
        if running is not None:
            running.append(engine)
        try:
            if not analyze:
                return explain_plan(engine.plan(sql, params))
            if cancelled():
                raise query_canceled()
            return run_analyze(engine, sql, params, fmt=fmt)
        finally:
            if running is not None and pid is not None:
                with contextlib.suppress(ValueError):
                    running.remove(engine)
                if not running:
                    self._running.pop(pid, None)
            self.give(engine)

    def run(self, pid: int, sql: str, params: list[Any], *, cancelled: Callable[[], bool]) -> pa.Table:
        """A source query's whole result (DECLARE, COPY)."""
        stream = self.open_stream(pid, sql, params, None, cancelled=cancelled)
        try:
            return stream.read_all()
        finally:
            stream.close()

    def open_stream(self, pid: int, sql: str, params: list[Any], names: list[str] | None, *,
                    cancelled: Callable[[], bool]) -> RowStream:
        """Start session ``pid``'s source query on an engine it holds until the stream is closed;
        ``cancelled`` is asked once the engine is taken (a cancel may arrive while waiting)."""
        engine = self.take()
        running = self._running.setdefault(pid, [])
        running.append(engine)
        self.max_busy = max(self.max_busy, sum(len(v) for v in self._running.values()))

        def release() -> None:
            with contextlib.suppress(ValueError):
                running.remove(engine)
            if not running:
                self._running.pop(pid, None)
            self.give(engine)

        if cancelled():
            release()
            raise query_canceled()
        return RowStream(engine, sql, params or None, BATCH_ROWS, names, release)

    def interrupt(self, pid: int) -> None:
        """Stop session ``pid``'s running source queries (from any thread)."""
        for engine in list(self._running.get(pid, ())):
            # interrupting that engine's DuckDB stops this session's query; the engine's cleanup
            # closes the scans' page generators, so no more pages are requested
            with contextlib.suppress(Exception):
                engine.interrupt()

    def close(self) -> None:
        while True:  # the pool's engines (the connection's own is closed with the connection)
            try:
                engine = self._engines.get_nowait()[0]
            except queue.Empty:
                break
            with contextlib.suppress(Exception):
                engine.close()


def engine_timezone(engine: Any) -> str:
    """The connection engine's time zone as its DuckDB reports it (the pool's engines use it)."""
    try:
        return engine.setting("TimeZone")
    except Exception:
        return "UTC"
