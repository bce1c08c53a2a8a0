"""Source query results as a stream of Arrow batches, so the wire server holds one batch per client
instead of the whole result (issue #7: bounded memory per connection).

``Engine.execute`` returns a finished ``pyarrow.Table``; ``Engine.stream`` reads DuckDB's answer
batch by batch instead: pages are fetched as the client consumes rows, and a client that stops (or
cancels, or disconnects) stops the scan. The engine it gets must be used by nobody else meanwhile
(the server's pool guarantees it).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pyarrow as pa

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


def _batches(engine: Any, sql: str, params: Any, batch_rows: int) -> Generator[Any, None, None]:
    """Yields the result schema, then its record batches (``Engine.stream``)."""
    stream = engine.stream(sql, params, batch_rows=batch_rows)
    try:
        yield stream.schema
        yield from stream
    finally:
        stream.close()  # closes the scans and unregisters their views
