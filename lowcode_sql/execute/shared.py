"""Feed one shared scan's batches to the views of several table references (``plan/sharing.py``).

Each reference gets its own lazy ``RecordBatchReader`` of its own columns; the first reader that
asks for a batch not fetched yet pulls it from the one underlying scan, the others take it from a
buffer, and a batch is dropped once every reader has taken it. So the scan reads no further than
the furthest reader, pages are requested only as DuckDB pulls, and each reference's view has exactly
its columns (a ``SELECT *`` or ``NATURAL JOIN`` sees what it would see over its own scan).

A failure of the underlying scan is raised to every reader that asks afterwards, never an early
end of its stream: a reference must not look like it ran out of rows (a partial answer).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any

import pyarrow as pa

from lowcode_sql.plan import PlannedScan

__all__ = ["register", "tee", "views_of"]


class _Tee:
    def __init__(self, source: pa.RecordBatchReader, readers: int) -> None:
        self._source = source
        self._state = threading.Lock()  # the buffer and positions
        self._pulling = threading.Lock()  # one pull from the source at a time
        self._buffer: dict[int, pa.RecordBatch] = {}
        self._pos = [0] * readers
        self._pulled = 0
        self._done = False
        self._error: BaseException | None = None

    def next(self, reader: int) -> pa.RecordBatch | None:
        while True:
            with self._state:
                batch = self._take(reader)
                if batch is not None or self._done:
                    return batch
            with self._pulling:
                with self._state:
                    if self._pos[reader] < self._pulled or self._done:
                        continue  # another reader pulled it meanwhile
                try:
                    batch = self._source.read_next_batch()
                except StopIteration:
                    batch = None
                except BaseException as e:
                    with self._state:
                        self._error, self._done = e, True
                    raise
                with self._state:
                    if batch is None:
                        self._done = True
                    else:
                        self._buffer[self._pulled] = batch
                        self._pulled += 1

    def _take(self, reader: int) -> pa.RecordBatch | None:
        k = self._pos[reader]
        if k >= self._pulled:
            if self._error is not None:
                raise self._error
            return None
        batch = self._buffer[k]
        self._pos[reader] = k + 1
        if min(self._pos) > k:
            del self._buffer[k]  # every reader has it
        return batch

    def leave(self, reader: int) -> None:
        """A reader is closed: it holds back no batch from being freed."""
        with self._state:
            self._pos[reader] = 1 << 62
            for k in [k for k in self._buffer if k < min(self._pos)]:
                del self._buffer[k]


def tee(source: pa.Table | pa.RecordBatchReader, columns: Sequence[Sequence[str]]) -> list[pa.RecordBatchReader]:
    """One reader per entry of ``columns`` (the columns that reader yields, in that order)."""
    if isinstance(source, pa.Table):
        source = pa.RecordBatchReader.from_batches(source.schema, source.to_batches())
    shared = _Tee(source, len(columns))
    schema = source.schema

    def batches(i: int, cols: list[str]) -> Generator[pa.RecordBatch, None, None]:
        try:
            while (batch := shared.next(i)) is not None:
                yield batch.select(cols)
        finally:
            shared.leave(i)

    readers: list[pa.RecordBatchReader] = []
    for i, cols in enumerate(columns):
        names = list(cols)
        readers.append(pa.RecordBatchReader.from_batches(pa.schema([schema.field(c) for c in names]),
                                                         batches(i, names)))
    return readers


def register(con: Any, scan: PlannedScan, data: pa.Table | pa.RecordBatchReader,
             close: Callable[[], None]) -> Callable[[], None]:
    """Register a shared scan's ``data`` as the view of each reference it feeds; returns the closer
    of them all (the readers, then the scan)."""
    readers = tee(data, [f.columns for f in scan.feeds])
    for feed, reader in zip(scan.feeds, readers, strict=True):
        con.register(feed.view, reader)

    def run() -> None:
        for r in readers:
            r.close()
        close()

    return run


def views_of(scan: PlannedScan) -> tuple[str, ...]:
    """The DuckDB views a planned scan is registered as."""
    return tuple(f.view for f in scan.feeds) if scan.feeds else (scan.view,)
