"""``attach``'s first page, sized by what DuckDB will read when the query says it is small.

DuckDB tells a scan source neither a LIMIT nor a batch size (docs/notes/duckdb-sources.md §3), so
without help ``SELECT * FROM crm.projects LIMIT 10`` asks the API for a whole page (500 rows on
Entu) where ``con.sql`` asks for 10. ``attach`` therefore notes the SQL text each attached
connection (or cursor) is given (``duck.sql``/``duck.execute``/``duck.query``), and ``head_rows``
reads from it the rows DuckDB reads at most: ``LIMIT n [OFFSET m]`` over one table with nothing
that reads the table to its end first (no ORDER BY, GROUP BY, aggregate, DISTINCT, window, join,
subquery or set operation) is ``n + m`` rows. Anything else, or SQL that does not parse, is None:
the scan asks for whole pages as before, so full scans cost exactly what they did.

``headed`` then reads a first page of ``n + m`` rows (one request for ``LIMIT 10``). If DuckDB
asks for more (a filter DuckDB applies itself dropped some of those rows) while the API had more,
the scan starts again from the first row with whole pages (one request more than without the
head, never more) and checks that its first rows are the ones already given to DuckDB before it
hands on the rest: the answer is then exactly the second scan's, and a table that changed between
the two raises ``InconsistentScan`` instead of mixing two states. Where the SQL text is stale (a
relation built earlier and read later) only the request count differs, never the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa
import sqlglot
from sqlglot import exp

from lowcode_sql.errors import InconsistentScan
from lowcode_sql.plan.scans import _int_literal  # the planner's reading of LIMIT/OFFSET literals

__all__ = ["head_rows", "headed"]

_READS_ALL = (exp.Order, exp.Group, exp.Having, exp.Distinct, exp.AggFunc, exp.Window, exp.Join, exp.Subquery,
              exp.Union, exp.Intersect, exp.Except, exp.With, exp.Qualify)


def head_rows(sql: str | None) -> int | None:
    """The rows DuckDB reads at most from the one table ``sql`` scans, or None when unknown."""
    if not sql or "limit" not in sql.lower():
        return None
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except Exception:  # sqlglot's errors, or anything else: only a page size is at stake
        return None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        return None
    sel = statements[0]
    if sel.find(*_READS_ALL) or len(list(sel.find_all(exp.Table))) != 1 or len(list(sel.find_all(exp.Select))) != 1:
        return None
    limit, offset = sel.args.get("limit"), sel.args.get("offset")
    n = _int_literal(limit.expression) if isinstance(limit, exp.Limit) else None
    m = _int_literal(offset.expression) if isinstance(offset, exp.Offset) else 0
    if n is None or m is None:
        return None
    return max(1, n + m)


Open = Callable[[int | None], tuple[pa.RecordBatchReader, Callable[[], None], Callable[[], int]]]


def headed(open_scan: Open, head: int, label: str) -> Iterator[pa.RecordBatch]:
    """The batches of a scan whose first request asks ``head`` rows (module docstring).

    ``open_scan(limit)`` opens the scan (``limit`` rows at most, or all with None) and returns its
    reader, its close and a function giving the rows the API has sent it so far."""
    reader, close, received = open_scan(head)
    try:
        first = pa.Table.from_batches(list(reader), reader.schema)
        sent = received()
    finally:
        close()
    yield from first.to_batches()
    if sent < head:
        return  # the API has no more rows than these
    reader, close, _ = open_scan(None)
    try:
        skip = first.num_rows
        if skip:
            seen: list[pa.RecordBatch] = []
            got = 0
            for batch in reader:
                seen.append(batch)
                got += batch.num_rows
                if got >= skip:
                    break
            again = pa.Table.from_batches(seen, reader.schema)
            if again.num_rows < skip or not again.slice(0, skip).equals(first):
                raise InconsistentScan(f"{label}: the first rows changed between the first page and the rest "
                                       "of the scan; retry the query")
            yield from again.slice(skip).to_batches()
        yield from reader
    finally:
        close()
