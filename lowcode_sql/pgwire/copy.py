"""COPY ... TO STDOUT: a query's rows in PostgreSQL's text or CSV format, as CopyData messages
(psql's ``\\copy``, pg_dump-style exports). Sources are read-only, so COPY FROM is refused, and so is
COPY to or from a file or program on the server."""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lowcode_sql.pgwire import protocol as p
from lowcode_sql.pgwire.errors import PGError, permission_denied
from lowcode_sql.pgwire.pool import BATCH_ROWS
from lowcode_sql.pgwire.statements import Outcome, Prepared
from lowcode_sql.pgwire.types import text_binary_array

if TYPE_CHECKING:
    from lowcode_sql.pgwire.session import Session

__all__ = ["copy", "copy_value", "send_copy"]

COPY_FILE = re.compile(r"\s*COPY\b.*\b(TO|FROM)\s+(PROGRAM\b|'|E'|\$|[^\s(]*[/\\.])", re.I | re.S)
COPY = re.compile(r"\s*COPY\s+(?:(?P<query>\(.*\))|(?P<table>[\w.\"]+)\s*(?:\((?P<cols>[^)]*)\))?)\s+TO\s+STDOUT"
                  r"\s*(?:WITH\s*)?(?P<opts>.*?)\s*;?\s*$", re.I | re.S)


async def copy(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """COPY (query) TO STDOUT, COPY table [(columns)] TO STDOUT [WITH] (options): runs the query; the rows
    go out as CopyData (``send_copy``). Files and programs on the server are refused."""
    sql = stmt.sql
    m = COPY.match(sql)
    if not m:
        if COPY_FILE.match(sql):
            # as PostgreSQL answers a user without pg_read/write_server_files
            raise permission_denied("COPY to or from a file or program on the server (use COPY ... TO STDOUT, "
                                    "or psql's \\copy, which writes on the client)")
        if re.search(r"\bFROM\b", sql, re.I):
            raise PGError("25006", "cannot execute COPY FROM in a read-only transaction: lowcode_sql reads "
                                   "platforms and never writes to them")
        raise PGError("0A000", "only COPY (query) TO STDOUT and COPY table TO STDOUT are supported")
    query = m.group("query")[1:-1] if m.group("query") else \
        f"SELECT {m.group('cols') or '*'} FROM {m.group('table')}"
    opts_text = (m.group("opts") or "").strip().strip("()")
    opts: dict[str, str] = {"format": "text", "header": "false", "delimiter": "\t", "null": "\\N"}
    words = re.findall(r"'(?:[^']|'')*'|[^\s,]+", opts_text)
    i = 0
    while i < len(words):
        w = words[i].lower()
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("csv", "binary", "text"):
            opts["format"] = w
        elif w == "header":
            opts["header"] = "false" if nxt.lower() in ("false", "off", "0") else "true"
            i += nxt.lower() in ("true", "on", "1", "false", "off", "0")
        elif w in ("format", "delimiter", "null", "quote") and nxt:
            opts[w] = nxt[1:-1].replace("''", "'") if nxt.startswith("'") else nxt.lower()
            i += 1
        i += 1
    if opts["format"] == "binary":
        raise PGError("0A000", "COPY BINARY is not supported: use FORMAT text or csv")
    if opts["format"] == "csv":
        opts.setdefault("quote", '"')
        if opts["delimiter"] == "\t" and "delimiter" not in opts_text.lower():
            opts["delimiter"] = ","
        if opts["null"] == "\\N" and "null" not in opts_text.lower():
            opts["null"] = ""
    t = session.translate(query)
    table = await session.query(t, query, params)
    return Outcome("COPY", table, copy=opts)


async def send_copy(session: Session, out: Outcome) -> None:
    """CopyOutResponse, the rows as CopyData in batches, CopyDone and CommandComplete."""
    assert out.table is not None and out.copy is not None
    table, opts = out.table, out.copy
    n = table.num_columns
    await session.send(p.message(b"H", struct.pack("!bh", 0, n) + struct.pack(f"!{n}h", *([0] * n))))
    csv = opts["format"] == "csv"
    if opts["header"] == "true":
        header = opts["delimiter"].join(copy_value(c, opts, csv) for c in table.column_names) + "\n"
        await session.send(p.message(b"d", header.encode()))
    # One row per CopyData message, as PostgreSQL sends them: clients that read rows (psycopg's
    # ``Copy.rows()``) parse one message as one row (protocol-flow.html#PROTOCOL-COPY). The messages of
    # a batch go out in one write.
    for pos in range(0, table.num_rows, BATCH_ROWS):
        chunk = table.slice(pos, BATCH_ROWS)
        cols = [text_binary_array(c.combine_chunks()).to_pylist() for c in chunk.columns]
        await session.send(b"".join(p.message(b"d", (opts["delimiter"].join(
            opts["null"] if v is None else copy_value(v.decode(), opts, csv) for v in row) + "\n").encode())
            for row in zip(*cols, strict=True)))
    await session.send(p.message(b"c") + p.command_complete(f"COPY {table.num_rows}"))


def copy_value(v: str, opts: Mapping[str, str], csv: bool) -> str:
    """One value in COPY's text format (backslash escapes) or CSV (quoted when needed)."""
    if csv:
        q = opts.get("quote", '"')
        if v == "" or any(ch in v for ch in (opts["delimiter"], q, "\n", "\r")):
            return q + v.replace(q, q + q) + q
        return v
    out = v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    d = opts["delimiter"]
    return out if d == "\t" else out.replace(d, "\\" + d)
