"""``con.verify(sql)`` / ``lowcode-sql verify``: does pushdown change this query's answer?

The query runs twice: as usual, and with nothing pushed to the APIs (``plan(..., pushdown=False)``:
every filter, sort, limit, projection and aggregate evaluated by DuckDB over full scans). Both
answers are compared as multisets of rows, or as sequences when the query has a top-level ORDER BY
(ties may then legitimately come in either order: the report says when only the order differs).
Floats are compared to 12 significant digits (an API's sum adds in another order than DuckDB's).

The unpushed run reads whole tables, so each run is bounded by ``max_requests``: a run that would
send more fails with ``RequestLimitExceeded`` before that request; a partial answer is never compared.

The run-time checks of ``execute/verify.py`` see each page (a row that fails an exact filter, rows
out of order); this sees what they cannot: rows an API wrongly left out, a wrong total answering
COUNT(*), a wrong API-side aggregate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DEFAULT_MAX_REQUESTS", "VerifyReport", "verify"]

DEFAULT_MAX_REQUESTS = 1000
SHOWN = 20  # differing rows shown per side


@dataclass(frozen=True)
class VerifyReport:
    """The two answers of one query, compared. ``equal`` is the verdict; ``only_pushed`` and
    ``only_unpushed`` hold the rows found in one answer and not the other (as many times as
    they are extra), and ``order_differs`` says the rows agree but their order does not."""

    sql: str
    equal: bool
    ordered: bool  # compared in order (a top-level ORDER BY)
    rows_pushed: int
    rows_unpushed: int
    requests_pushed: int
    requests_unpushed: int
    columns_pushed: tuple[str, ...] = ()
    columns_unpushed: tuple[str, ...] = ()
    only_pushed: tuple[tuple[Any, ...], ...] = field(default=(), repr=False)
    only_unpushed: tuple[tuple[Any, ...], ...] = field(default=(), repr=False)
    order_differs: bool = False

    def __str__(self) -> str:
        verdict = "same answer" if self.equal else "DIFFERENT answers"
        how = "in order: the query has an ORDER BY" if self.ordered else "as multisets of rows"
        lines = [f"{verdict} with and without pushdown (compared {how})",
                 f"  with pushdown:    {_n(self.rows_pushed, 'row')}, {_n(self.requests_pushed, 'request')}",
                 f"  without pushdown: {_n(self.rows_unpushed, 'row')}, {_n(self.requests_unpushed, 'request')}"]
        if self.columns_pushed != self.columns_unpushed:
            lines.append(f"  columns differ: {list(self.columns_pushed)} vs {list(self.columns_unpushed)}")
        for title, rows in (("only with pushdown", self.only_pushed), ("only without pushdown", self.only_unpushed)):
            if rows:
                lines.append(f"  {title} ({len(rows)}):")
                lines += [f"    {_show(r)}" for r in rows[:SHOWN]]
                if len(rows) > SHOWN:
                    lines.append(f"    ... {len(rows) - SHOWN} more")
        if self.order_differs:
            lines.append("  the same rows in another order (rows that tie on the ORDER BY keys may come either way)")
        return "\n".join(lines)


def verify(con: Any, sql: str, params: Any = None, *, max_requests: int | None = DEFAULT_MAX_REQUESTS) -> VerifyReport:
    """Run ``sql`` on ``con`` with and without pushdown and compare the answers (module docstring)."""
    from lowcode_sql.plan import parse

    ordered = parse(sql).args.get("order") is not None
    engine = con.engine
    pushed = engine.execute(sql, params, max_requests=max_requests)
    unpushed = engine.execute(sql, params, pushdown=False, max_requests=max_requests)
    return _compare(sql, pushed.arrow(), unpushed.arrow(), ordered=ordered,
                    requests=(pushed.requests, unpushed.requests))


def _compare(sql: str, a: pa.Table, b: pa.Table, *, ordered: bool, requests: tuple[int, int]) -> VerifyReport:
    """The report on two answers: ``a`` with pushdown, ``b`` without."""
    rows_a, rows_b = _rows(a), _rows(b)
    only_a: list[tuple[Any, ...]] = []
    only_b: list[tuple[Any, ...]] = []
    order_differs = False
    if rows_a != rows_b:
        only_a, only_b = _extra(rows_a, rows_b), _extra(rows_b, rows_a)
        order_differs = ordered and not only_a and not only_b
    equal = a.column_names == b.column_names and not only_a and not only_b and not order_differs
    return VerifyReport(sql, equal, ordered, a.num_rows, b.num_rows, *requests, tuple(a.column_names),
                        tuple(b.column_names), tuple(only_a), tuple(only_b), order_differs)


def _extra(rows: list[tuple[Any, ...]], other: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of ``rows`` that ``other`` lacks (a row twice here and once there: once), in order."""
    left = Counter(rows) - Counter(other)
    out = []
    for r in rows:
        if left[r] > 0:
            left[r] -= 1
            out.append(r)
    return out


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    cols = [c.to_pylist() for c in table.columns]
    return [tuple(_norm(v) for v in r) for r in zip(*cols, strict=True)] if cols else [()] * table.num_rows


def _norm(v: Any) -> Any:
    """A hashable value equal for both runs where SQL would call them equal."""
    if isinstance(v, float):
        if math.isnan(v):
            return ("NaN",)
        return float(f"{v:.12g}") + 0.0  # + 0.0: -0.0 and 0.0 are one value
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC)
    if isinstance(v, list | tuple):
        return tuple(_norm(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _norm(x)) for k, x in v.items()))
    return v


def _show(row: tuple[Any, ...]) -> str:
    return "(" + ", ".join("NULL" if v is None else repr(v) for v in row) + ")"


def _n(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
