"""Trust, but verify (issue 13 §1): check each page an API returns against what its request assumed.

A dialect marks a filter EXACT when it believes the API selects exactly the rows SQL would, and
pushes an ORDER BY when it believes the API orders rows as SQL would. Both beliefs rest on docs
that are often inferred (docs/notes/<platform>-api.md: [I]/[U]); an API that ignores a filter, compares text without
case, or ignores a sort would otherwise give a wrong answer without a sign. So, as pages arrive:

* every row must satisfy every conjunct pushed as EXACT. The check runs in DuckDB, the engine's own
  reference semantics, over the converted batch (one small query per page: cheap next to a network
  round trip). Conjuncts on filter-only columns are skipped (their values are the filter's own).
* rows must arrive in the pushed ORDER BY, across pages too (ties in any order).

A failure raises ``AssumptionFailed`` naming the table, the condition and the source option that
turns that pushdown off (``local_filters`` / ``sort_pushdown``, every dialect has both). Dropping
the offending rows instead would not be safe: with an exact filter the engine also pushes LIMIT and
answers COUNT(*) from the API's total, and both would then be wrong.

* a pushed ORDER BY always comes with a LIMIT (the planner pushes nothing else), and rows that
  arrive in order prove only that: an API that ignores the sort returns its natural order, which may
  happen to be ascending (always so for one row), and a sorted LIMIT then answers other rows than
  SQL's. So once a sorted LIMIT has its ``n`` rows, one check proves no row the API did not send
  sorts strictly before the last row ``L`` it sent ("the boundary check", ``ScanVerifier.finish``).

The boundary check. "Strictly before ``L``" under keys ``k1..kn`` splits into disjoint parts, one per
key ``i``: ``k1 = L1 AND .. AND k(i-1) = L(i-1) AND ki before Li``, where "before" is ``ki < Li``
(``>`` descending) for non-NULL values, plus ``ki IS NULL`` as a part of its own when NULLs sort
first, or ``ki IS NOT NULL`` when ``Li`` is NULL and NULLs sort last (an equality to NULL is
``IS NULL``). For each part the engine counts, locally, the returned rows in it (``m``), and asks the
API for the rows matching the scan's own filters and the part, with LIMIT ``m + 1`` and no sort: if
more than ``m`` come back (counted locally again, so a row the API wrongly includes cannot count), a
row that sorts before ``L`` was left out and the query fails with ``AssumptionFailed``. Ties with
``L`` itself are not "before": SQL leaves the order of ties open, so any of them is a right answer.
Why this design: it relies on no sort at all (only on the filters, which are checked row by row as
above), and it costs one small request for a one-key sort (two when NULLs sort first), nothing when
the API answered fewer rows than asked (then it sent every match), and nothing when the source says
``sort_pushdown = "trusted"`` (a probe's or an operator's finding). The alternatives cost more:
not pushing the sort reads the whole table, and a count needs an exact count endpoint. A pushed
OFFSET hides the rows it skips from this check, so the planner does not push an OFFSET with an
untrusted sort (it asks for LIMIT + OFFSET rows and skips them locally).

What this cannot see: rows the API wrongly left out (a too-narrow answer), and answers used without
rows (a COUNT from a total, API-side aggregates); those are opt-in or confirmed by the docs. The
boundary check shares that blind spot: an API whose range filter is too narrow exactly where its
sort is wrong (the same wrong collation for both) is not caught; the per-row order check sees such
a collation as soon as two returned rows disagree with SQL's order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from dialect import Dialect, TableDef
from lowcode_sql.errors import AssumptionFailed
from lowcode_sql.execute.duck import scratch_cursor
from lowcode_sql.fetch.runtime import SourceRuntime
from lowcode_sql.fetch.stats import ScanStats
from lowcode_sql.ir import And, Cmp, Const, Exactness, InList, IsNull, Like, ListContains, Op, Or, Pred, columns_of
from lowcode_sql.scanspec import ScanSpec, SortKey

__all__ = ["ScanVerifier", "verifier_for"]


def verifier_for(source: str, table: TableDef, spec: ScanSpec, dialect: Dialect,
                 runtime: SourceRuntime | None = None) -> ScanVerifier | None:
    """A verifier for a row scan's pushed exact filters and order, or None when nothing is checkable.

    With ``runtime``, a sorted LIMIT the source does not trust also gets the boundary check
    (``finish()``, which sends its requests through ``runtime``)."""
    if spec.grouped or spec.count_only or spec.contradiction:
        return None
    filter_only = {c.name for c in table.columns if c.filter_only}

    def readable(cols: set[str]) -> bool:
        # a dialect that asks for spec.columns only gets no other column back
        if dialect.projects_columns and not cols <= set(spec.columns):
            return False
        return bool(cols) and not (cols & filter_only) and all(table.has(c) for c in cols)

    preds = tuple(p for p, e in spec.pushed if e is Exactness.EXACT and readable(columns_of(p)))
    order = tuple(k for k in spec.order if readable({k.column}))
    if len(order) != len(spec.order):
        order = ()  # a key we cannot read: the order cannot be checked
    if not preds and not order:
        return None
    boundary = None
    trusted = dialect.sort_trusted or dialect.sort_confirmed(table, spec.order)
    if runtime is not None and order and spec.limit is not None and not spec.offset and not trusted:
        boundary = _Boundary(runtime, dialect, spec)
    return ScanVerifier(source, table, preds, order, boundary)


class _Boundary:
    """What the boundary check of a sorted LIMIT needs (see the module docstring)."""

    def __init__(self, runtime: SourceRuntime, dialect: Dialect, spec: ScanSpec) -> None:
        self.runtime, self.dialect, self.spec = runtime, dialect, spec
        self.keys: list[tuple[Any, ...]] = []  # every returned row's sort key, in order


class ScanVerifier:
    """The checks of one scan; ``check(batch)`` per page, in order."""

    def __init__(self, source: str, table: TableDef, preds: Sequence[Pred], order: Sequence[SortKey],
                 boundary: _Boundary | None = None) -> None:
        self.source, self.table = source, table
        self.preds = tuple(preds)
        self.order = tuple(order)
        self._boundary = boundary
        self._con: duckdb.DuckDBPyConnection | None = None
        self._last: tuple[Any, ...] | None = None  # the previous page's last sort key
        self._rows = 0
        self._query = self._filter_query() if self.preds else None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the checks read (the scan converts them too)."""
        cols: dict[str, None] = {}
        for p in self.preds:
            cols.update(dict.fromkeys(sorted(columns_of(p))))
        cols.update(dict.fromkeys(k.column for k in self.order))
        return tuple(cols)

    def check(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            if self._query is not None:
                self._check_filters(batch)
            if self.order:
                self._check_order(batch)
        self._rows += batch.num_rows

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    # --- filters ----------------------------------------------------------------------------

    def _filter_query(self) -> tuple[str, list[Any]]:
        params: list[Any] = []
        tests = [f"CASE WHEN ({_sql(p, params)}) IS NOT TRUE THEN {i} END" for i, p in enumerate(self.preds)]
        first_failure = f"coalesce({', '.join(tests)})" if len(tests) > 1 else tests[0]
        sql = (f"SELECT row_number() OVER () - 1 AS row, {first_failure} AS pred FROM page "
               f"QUALIFY pred IS NOT NULL LIMIT 1")
        return sql, params

    def _check_filters(self, batch: pa.RecordBatch) -> None:
        assert self._query is not None
        if self._con is None:
            self._con = scratch_cursor()  # time zone UTC; a fresh database per scan cost 30-100 ms
        sql, params = self._query
        self._con.register("page", pa.Table.from_batches([batch]))
        try:
            hits = self._con.execute(sql, params).fetchall()  # at most one row; fetched to the end
        finally:
            self._con.unregister("page")
        if not hits:
            return
        hit = hits[0]
        row, i = int(hit[0]), int(hit[1])
        pred = self.preds[i]
        cols = sorted(columns_of(pred))
        values = ", ".join(f"{c}={batch.column(c)[row].as_py()!r}"[:80] for c in cols)
        key = self.table.key
        who = f" ({key}={batch.column(key)[row].as_py()!r})" if key and key in batch.schema.names else ""
        option = f"local_filters = [{', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)}]"
        raise AssumptionFailed(
            f"{self.table.name}: the API returned a row{who} where {pred} is not true ({values}), although "
            f"the filter was sent as exact: the API ignores or reads it differently. The source option "
            f"{option} keeps it local", source=self.source, table=self.table.name, option=option)

    # --- order ------------------------------------------------------------------------------

    def _check_order(self, batch: pa.RecordBatch) -> None:
        columns = [batch.column(k.column).to_pylist() for k in self.order]
        rows = zip(*columns, strict=True)
        prev = self._last
        at = self._rows - 1
        for row in rows:
            if prev is not None and _compare(prev, row, self.order) > 0:
                keys = ", ".join(f"{k.column} {'DESC' if k.descending else 'ASC'}" for k in self.order)
                raise AssumptionFailed(
                    f"{self.table.name}: the API returned rows out of the ORDER BY {keys} it was sent (row {at} "
                    f"{prev!r}, then {row!r}): it ignores or reads the sort differently. The source option "
                    "sort_pushdown = false sorts locally", source=self.source, table=self.table.name,
                    option="sort_pushdown = false")
            prev = row
            at += 1
            if self._boundary is not None:
                self._boundary.keys.append(row)
        self._last = prev

    # --- the boundary check of a sorted LIMIT -----------------------------------------------

    def finish(self, stats: ScanStats | None = None) -> None:
        """After the last page: prove no row the API left out sorts before the last one it sent.

        A no-op unless the scan is a sorted LIMIT the source does not trust and the API filled the
        LIMIT (fewer rows mean it sent every match). ``stats`` counts the check's requests."""
        b = self._boundary
        if b is None or b.spec.limit is None or len(b.keys) < b.spec.limit or not b.spec.limit:
            return
        kept = b.keys[: b.spec.limit]
        last = kept[-1]
        for part, preds in _before(self.order, last):
            allowed = sum(1 for k in kept if part(k))
            found = self._count_part(b, preds, part, allowed, stats)
            if found > allowed:
                keys = ", ".join(f"{k.column} {'DESC' if k.descending else 'ASC'}" for k in self.order)
                cond = " AND ".join(str(p) for p in preds)
                raise AssumptionFailed(
                    f"{self.table.name}: the API answered ORDER BY {keys} LIMIT {b.spec.limit} with rows ending at "
                    f"{last!r}, but it has more rows where {cond} than it sent: rows that sort before the last "
                    "one were left out, so it ignores or reads the sort differently. The source option "
                    "sort_pushdown = false sorts locally", source=self.source, table=self.table.name,
                    option="sort_pushdown = false")

    def _count_part(self, b: _Boundary, preds: Sequence[Pred], part: Any, allowed: int,
                    stats: ScanStats | None) -> int:
        """How many rows matching the scan's filters and ``preds`` the API has, up to ``allowed + 1``."""
        from lowcode_sql.convert.arrow import records_to_batch
        from lowcode_sql.fetch.scan import iter_pages
        from lowcode_sql.fetch.stats import ScanStats

        wanted = [p for p, _ in b.spec.pushed] + list(preds)
        decisions = b.dialect.classify(self.table, wanted)
        exact = all(d is Exactness.EXACT for d in decisions)
        keys = [k.column for k in self.order]
        # the scan's own filters the check cannot send exactly are evaluated here, by DuckDB
        local = tuple(p for (p, _), d in zip(b.spec.pushed, decisions, strict=False) if d is not Exactness.EXACT)
        cols = dict.fromkeys(keys)
        for p in (*wanted[: len(b.spec.pushed)], *preds):
            cols.update(dict.fromkeys(sorted(c for c in columns_of(p) if self.table.has(c))))
        filter_only = {c.name for c in self.table.columns if c.filter_only}
        spec = ScanSpec(self.source, self.table.name, tuple(c for c in cols if c not in filter_only),
                        tuple((p, d) for p, d in zip(wanted, decisions, strict=True) if d is not Exactness.LOCAL),
                        limit=allowed + 1 if exact else None)
        checker = verifier_for(self.source, self.table, spec, b.dialect)
        columns = tuple(dict.fromkeys((*spec.columns, *(checker.columns if checker else ()))))
        echo = b.dialect.echo_values(spec)
        own = ScanStats()
        pages = iter_pages(b.runtime, self.table, b.dialect.render_scan(self.table, spec), stats=own)
        found = 0
        try:
            for records in pages:
                batch = records_to_batch(self.table, columns, records, echo)
                if checker is not None:
                    checker.check(batch)
                rows_of: pa.RecordBatch | pa.Table = _where(batch, local) if local else batch
                rows = zip(*(rows_of.column(k).to_pylist() for k in keys), strict=True)
                found += sum(1 for k in rows if part(k))
                if found > allowed:
                    break
        finally:
            pages.close()
            if checker is not None:
                checker.close()
            if stats is not None:
                stats.add(requests=own.requests)
        return found


def _before(order: Sequence[SortKey], last: tuple[Any, ...]) -> list[tuple[Any, list[Pred]]]:
    """The disjoint parts of "sorts strictly before ``last``": (membership test over a sort key
    tuple, the same part as conjuncts to send). See the module docstring."""
    parts: list[tuple[Any, list[Pred]]] = []
    for i, key in enumerate(order):
        same: list[Pred] = [IsNull(k.column) if v is None else Cmp(k.column, Op.EQ, v)
                            for k, v in zip(order[:i], last[:i], strict=True)]

        def prefix(row: tuple[Any, ...], i: int = i) -> bool:
            return all(_compare((x,), (y,), (k,)) == 0 and (x is None) == (y is None)
                       for x, y, k in zip(row[:i], last[:i], order[:i], strict=True))

        v = last[i]
        if v is None:
            if not key.nulls_first:  # NULLs last: every non-NULL value sorts before
                parts.append((lambda r, i=i, p=prefix: p(r) and r[i] is not None, [*same, IsNull(key.column, True)]))
            continue
        if key.nulls_first:
            parts.append((lambda r, i=i, p=prefix: p(r) and r[i] is None, [*same, IsNull(key.column)]))
        op = Op.GT if key.descending else Op.LT
        parts.append((lambda r, i=i, k=key, v=v, p=prefix: (p(r) and r[i] is not None
                                                             and _compare((r[i],), (v,), (k,)) < 0),
                      [*same, Cmp(key.column, op, v)]))
    return parts


def _where(batch: pa.RecordBatch, preds: Sequence[Pred]) -> pa.Table:
    """The rows of ``batch`` where every predicate is true, by DuckDB."""
    params: list[Any] = []
    cond = " AND ".join(f"coalesce({_sql(p, params)}, false)" for p in preds)
    con = scratch_cursor()  # time zone UTC
    try:
        con.register("page", pa.Table.from_batches([batch]))
        return con.execute(f"SELECT * FROM page WHERE {cond}", params).to_arrow_table()
    finally:
        con.close()


def _compare(a: tuple[Any, ...], b: tuple[Any, ...], keys: Sequence[SortKey]) -> int:
    """SQL's order of two rows' sort keys: <0, 0 (a tie, or values we cannot order) or >0."""
    for x, y, k in zip(a, b, keys, strict=True):
        if x is None or y is None:
            if x is None and y is None:
                continue
            return (-1 if x is None else 1) * (1 if k.nulls_first else -1)
        if (isinstance(x, float) and math.isnan(x)) or (isinstance(y, float) and math.isnan(y)):
            return 0  # DuckDB puts NaN above every number; rare enough not to guess at
        try:
            c = (x > y) - (x < y)
        except TypeError:
            return 0
        if c:
            return -c if k.descending else c
    return 0


def _sql(pred: Pred, params: list[Any]) -> str:
    """A predicate as DuckDB SQL over quoted column names, with its values as parameters."""
    if isinstance(pred, And | Or):
        sep = " AND " if isinstance(pred, And) else " OR "
        return "(" + sep.join(_sql(p, params) for p in pred.items) + ")"
    if isinstance(pred, Const):
        return "TRUE" if pred.value else "FALSE"
    col = _quote(pred.column)
    if isinstance(pred, Cmp):
        params.append(pred.value)
        return f"{col} {pred.op.value} ?"
    if isinstance(pred, InList):
        params.extend((v) for v in pred.values)
        marks = ", ".join("?" for _ in pred.values)
        return f"{col} {'NOT IN' if pred.negated else 'IN'} ({marks})"
    if isinstance(pred, Like):
        params.append(pred.pattern.sql())
        op = ("NOT " if pred.negated else "") + ("ILIKE" if pred.case_insensitive else "LIKE")
        return f"{col} {op} ? ESCAPE '\\'"
    if isinstance(pred, IsNull):
        return f"{col} IS {'NOT ' if pred.negated else ''}NULL"
    if isinstance(pred, ListContains):
        params.append(pred.value)
        return f"{'NOT ' if pred.negated else ''}list_contains({col}, ?)"
    raise TypeError(f"unknown predicate {type(pred).__name__}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
