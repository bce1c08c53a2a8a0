"""Writing a query's answer for the command line, batch by batch.

Every format reads the answer as a stream of Arrow record batches (``Connection.stream``), so a
1M-row export holds a batch or two, never the whole answer (issue 15, item 6): Parquet through
``ParquetWriter``, CSV batch by batch with the header once, JSON/JSON Lines row by row. The table
format keeps only the rows it shows and counts the rest.

A file named by ``-o`` is written under a temporary name in its directory and renamed over the
target only once the whole answer is written: a query that fails half way (a page that breaks the
scan's guards, Ctrl-C) leaves no partial file behind and an existing one untouched. Standard output
cannot be taken back, so there the answer is read to the end before the first byte is printed.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import pyarrow as pa

__all__ = ["format_table", "write_batches"]


def format_table(table: pa.Table, max_rows: int, total: int | None = None) -> str:
    """At most ``max_rows`` rows as aligned text, and the row count (``total`` when ``table`` holds
    only the first rows of the answer)."""
    cols = table.column_names
    rows = table.slice(0, max_rows).to_pylist()
    total = table.num_rows if total is None else total
    cells = [[_cell(r[c]) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    widths = [min(w, 60) for w in widths]
    line = "-+-".join("-" * w for w in widths)
    out = [" | ".join(c.ljust(w)[:w] for c, w in zip(cols, widths, strict=True)), line]
    out += [" | ".join(v.ljust(w)[:w] for v, w in zip(row, widths, strict=True)) for row in cells]
    more = total - len(rows)
    out.append(f"({total} row{'s' if total != 1 else ''}" +
               (f", {more} not shown: use -f csv or -o" if more > 0 else "") + ")")
    return "\n".join(out)


def _cell(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, list | dict):
        return json.dumps(v, default=str, ensure_ascii=False)
    return str(v)


def _json_safe(v: Any) -> Any:
    # JSON has no NaN/Infinity (RFC 8259 §6); json.dumps would write them and break every parser
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    return v


#: Rows turned into Python objects at a time by the text writers (JSON rows; CSV's nested values as
#: JSON text): a 65,536-row batch of 21 nested CoreData columns made at once was ~80 MB of objects.
SLICE_ROWS = 8_192


def _slices(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        for start in range(0, batch.num_rows, SLICE_ROWS):
            yield batch.slice(start, SLICE_ROWS)


def _json_rows(batches: Iterable[pa.RecordBatch]) -> Iterator[str]:
    for batch in _slices(batches):
        for r in batch.to_pylist():
            yield json.dumps(_json_safe(r), default=str, ensure_ascii=False, allow_nan=False)


def _csv_safe(col: Any) -> Any:
    if pa.types.is_nested(col.type):  # CSV has no nested values: write them as JSON text
        return pa.array([None if v is None else json.dumps(v, default=str, ensure_ascii=False)
                         for v in col.to_pylist()], pa.string())
    return col


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_nested(f.type) else f for f in schema])


def _write_csv(schema: pa.Schema, batches: Iterable[pa.RecordBatch], out: IO[str]) -> None:
    import pyarrow.csv as pcsv

    flat = _csv_schema(schema)
    header = True
    for batch in _slices(batches):
        buf = io.BytesIO()
        cols = [_csv_safe(c) for c in batch.columns]
        pcsv.write_csv(pa.record_batch(cols, schema=flat), buf, pcsv.WriteOptions(include_header=header))
        header = False
        out.write(buf.getvalue().decode())
    if header:  # no rows: the header alone
        buf = io.BytesIO()
        pcsv.write_csv(flat.empty_table(), buf)
        out.write(buf.getvalue().decode())


def _write_json(batches: Iterable[pa.RecordBatch], out: IO[str], lines: bool) -> None:
    if lines:
        for row in _json_rows(batches):
            out.write(row + "\n")
        return
    sep = "["
    for row in _json_rows(batches):
        out.write(sep + row)
        sep = ",\n "
    out.write("[]\n" if sep == "[" else "]\n")


def _write_table(schema: pa.Schema, batches: Iterable[pa.RecordBatch], out: IO[str], max_rows: int) -> None:
    shown: list[pa.RecordBatch] = []
    held = total = 0
    for batch in batches:
        total += batch.num_rows
        if held < max_rows:
            keep = batch.slice(0, max_rows - held)
            shown.append(keep)
            held += keep.num_rows
    out.write(format_table(pa.Table.from_batches(shown, schema), max_rows, total) + "\n")


def write_batches(fmt: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], output: str | None,
                  max_rows: int) -> None:
    """Write the answer in ``fmt`` to the file ``output`` (atomically), else to standard output."""
    if output is None:
        # the whole answer first: an error half way must not leave half an answer on stdout
        table = pa.Table.from_batches(list(batches), schema)
        _write_text(fmt, schema, table.to_batches(), sys.stdout, max_rows)
        return
    if fmt == "parquet":
        import pyarrow.parquet as pq

        def parquet(path: str) -> None:
            with pq.ParquetWriter(path, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)

        _atomic(output, parquet)
        return

    def text(path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            _write_text(fmt, schema, batches, fh, max_rows)

    _atomic(output, text)


def _write_text(fmt: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], out: IO[str], max_rows: int) -> None:
    if fmt == "table":
        _write_table(schema, batches, out, max_rows)
    elif fmt in ("json", "jsonl"):
        _write_json(batches, out, lines=fmt == "jsonl")
    else:
        _write_csv(schema, batches, out)


def _atomic(output: str, write: Callable[[str], None]) -> None:
    """``write(path)`` to a temporary file next to ``output``, renamed over it once complete."""
    directory = os.path.dirname(os.path.abspath(output))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(output)}.", suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file 0600; the answer gets the mode a plain open() would have given it
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, output)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
