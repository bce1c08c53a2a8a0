"""Sending a statement's rows: RowDescription, DataRow batches (text or binary per column), then
CommandComplete or PortalSuspended. A source query's rows stream from its engine batch by batch,
with ``drain()`` between batches, so a slow client holds back only its own scan; rows are encoded
in a worker thread, and a cancel stops them between batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lowcode_sql.pgwire import protocol as p
from lowcode_sql.pgwire.pool import BATCH_ROWS
from lowcode_sql.pgwire.statements import Outcome, Portal
from lowcode_sql.pgwire.stream import RowStream
from lowcode_sql.pgwire.types import binary_fixed_values, encode_binary_column, pg_type_for_arrow, text_binary_array

if TYPE_CHECKING:
    from lowcode_sql.pgwire.session import Session

__all__ = ["encode_rows", "fields", "formats_for", "renamed", "send_rows"]

# results of at most this many rows are encoded on the event loop (no thread hand-off)
_INLINE_ROWS = 64


async def send_rows(session: Session, portal: Portal, max_rows: int, *, describe: bool) -> None:
    """Send a portal's rows (all, or up to ``max_rows`` then PortalSuspended), with a
    RowDescription first if ``describe`` (simple query), then CommandComplete."""
    out = portal.outcome
    assert out is not None
    if out.stream is not None:
        if max_rows <= 0 and portal.pos == 0:
            await _send_stream(session, portal, out, out.stream, describe)
            return
        # a row limit (fetch size): keep the rest in memory so Execute can resume at any pace
        stream, out.stream = out.stream, None
        with session.cancellable():
            session.check_cancel()
            out.table = await session.guarded(session.in_thread(stream.read_all))
    if out.table is None:
        await session.send(p.command_complete(out.tag))
        return
    table = out.table
    formats = formats_for(portal.formats, table.num_columns)
    if describe:
        await session.send(p.row_description(fields(table.schema, portal.stmt.origins), formats))
    start = portal.pos
    stop = table.num_rows if max_rows <= 0 else min(table.num_rows, start + max_rows)
    oids = [pg_type_for_arrow(f.type)[0] for f in table.schema]
    pos = start
    with session.cancellable():
        while pos < stop:
            n = min(BATCH_ROWS, stop - pos)
            # a few rows are encoded in less time than handing them to a thread takes
            data = (encode_rows(table.slice(pos, n), formats, oids) if n <= _INLINE_ROWS
                    else await session.in_thread(encode_rows, table.slice(pos, n), formats, oids))
            session.check_cancel()
            await session.send(data)
            pos += n
    portal.pos = pos
    if max_rows > 0 and pos < table.num_rows:
        await session.send(p.message(b"s"))  # PortalSuspended: Execute again for more
        return
    count = pos - start
    tag = out.tag if out.tag not in ("SELECT", "FETCH") else f"{out.tag} {count}"
    await session.send(p.command_complete(tag))


async def _send_stream(session: Session, portal: Portal, out: Outcome, stream: RowStream, describe: bool) -> None:
    formats = formats_for(portal.formats, len(stream.schema))
    if describe:
        await session.send(p.row_description(fields(stream.schema, portal.stmt.origins), formats))
    oids = [pg_type_for_arrow(f.type)[0] for f in stream.schema]
    count = 0
    try:
        with session.cancellable():  # a cancel stops the rows at any point
            while True:
                session.check_cancel()  # a cancel that came while nothing was running to interrupt
                batch = await session.guarded(session.in_thread(stream.next_batch))
                if batch is None:
                    break
                if batch.num_rows:
                    data = await session.in_thread(encode_rows, pa.Table.from_batches([batch]), formats, oids)
                    session.check_cancel()
                    await session.send(data)  # drain() per batch: a slow client slows the scan, not memory
                    count += batch.num_rows
    finally:
        out.stream = None
        stream.close()
    out.table = stream.schema.empty_table()  # consumed: a second Execute returns no rows
    portal.pos = 0
    await session.send(p.command_complete(f"SELECT {count}"))


def renamed(table: pa.Table, names: list[str] | None) -> pa.Table:
    if names and len(names) == table.num_columns and names != table.column_names:
        return table.rename_columns(names)
    return table


def formats_for(requested: Sequence[int], n: int) -> list[int]:
    if not requested:
        return [0] * n
    if len(requested) == 1:
        return [requested[0]] * n
    return list(requested[:n]) + [0] * (n - len(requested))


def fields(schema: pa.Schema, origins: Sequence[tuple[int, int]] | None = None) -> list[p.Field]:
    """RowDescription's fields; ``origins`` (``origins.column_origins``) give each column's table OID
    and column number where it is a source table's column."""
    if origins is not None and len(origins) != len(schema):
        origins = None
    out = []
    for i, f in enumerate(schema):
        oid, typlen, typmod = pg_type_for_arrow(f.type)
        table_oid, attnum = origins[i] if origins is not None else (0, 0)
        out.append(p.Field(f.name, oid, typlen, typmod, table_oid, attnum))
    return out


def encode_rows(table: pa.Table, formats: Sequence[int], oids: Sequence[int]) -> bytes:
    """DataRow messages for ``table``'s rows; binary fixed-width columns without NULLs go as numpy
    values, which ``data_rows_arrow`` lays out without a join."""
    cols: list[Any] = []
    for i, col in enumerate(table.columns):
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if formats[i] != 1:
            cols.append(text_binary_array(arr))
            continue
        fixed = binary_fixed_values(arr, oids[i])
        cols.append(fixed if fixed is not None else encode_binary_column(arr, oids[i]))
    return p.data_rows_arrow(cols, table.num_rows)
