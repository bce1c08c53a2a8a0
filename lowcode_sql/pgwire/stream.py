"""Source query results as a stream of Arrow batches, so the wire server holds one batch per client
instead of the whole result (issue #7: bounded memory per connection).

``Engine.execute`` returns a finished ``pyarrow.Table``. This runs the same steps (plan, register
each scan's lazy page stream, run the residual SQL) but reads DuckDB's answer with
``to_arrow_reader``: pages are fetched as the client consumes rows, and a client that stops (or
cancels, or disconnects) stops the scan. It uses the engine's internals (``plan``, ``_register``,
``_con``), so it falls back to ``execute`` if those ever change; the engine it gets must be used by
nobody else meanwhile (the server's pool guarantees it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa

from lowcode_sql.errors import ExecutionError

__all__ = ["RowStream"]


class RowStream:
    """A started query: ``schema`` now, batches on demand (blocking: call from a worker thread)."""

    def __init__(self, engine: Any, sql: str, params: Any, batch_rows: int, names: list[str] | None,
                 release: Callable[[], None]) -> None:
        self._release = release
        self._closed = False
        self._gen = _batches(engine, sql, params, batch_rows)
        try:
            schema = next(self._gen)
        except BaseException:
            self.close()
            raise
        if names and len(names) == len(schema) and names != schema.names:
            schema = pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)])
        self.schema: pa.Schema = schema

    def next_batch(self) -> pa.RecordBatch | None:
        if self._closed:
            return None
        try:
            batch = next(self._gen)
        except StopIteration:
            self.close()
            return None
        except BaseException:
            self.close()
            raise
        return pa.RecordBatch.from_arrays(batch.columns, schema=self.schema)

    def read_all(self) -> pa.Table:
        batches = []
        while (b := self.next_batch()) is not None:
            batches.append(b)
        return pa.Table.from_batches(batches, self.schema)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._gen.close()  # runs the engine-side cleanup: closes the scans, unregisters views
        finally:
            self._release()


def _batches(engine: Any, sql: str, params: Any, batch_rows: int) -> Iterator[Any]:
    """Yields the result schema, then its record batches."""
    if not all(hasattr(engine, a) for a in ("plan", "_register", "_con")):  # pragma: no cover - engine changed
        table = engine.execute(sql, params).arrow()
        yield table.schema
        yield from table.to_batches(batch_rows)
        return
    qp = engine.plan(sql, params)
    closers: list[Callable[[], None]] = []
    failures: list[BaseException] = []
    con: duckdb.DuckDBPyConnection = engine._con
    try:
        for scan in qp.scans:
            engine._register(scan, closers, failures, None)
        try:
            reader = con.sql(qp.sql).to_arrow_reader(batch_rows)
            yield reader.schema
            yield from reader
        except duckdb.Error as e:
            # as Engine.execute: DuckDB re-raises a stream's exception as text; report the typed
            # error the scan raised instead
            if failures:
                raise failures[0] from None
            if isinstance(e, duckdb.InterruptException):
                raise
            raise ExecutionError(str(e)) from None
    finally:
        for close in closers:
            with contextlib.suppress(Exception):
                close()
        for scan in qp.scans:
            with contextlib.suppress(duckdb.Error):
                con.unregister(scan.view)
