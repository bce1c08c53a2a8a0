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

What this cannot see: rows the API wrongly left out (a too-narrow answer), and answers used without
rows (a COUNT from a total, API-side aggregates); those are opt-in or confirmed by the docs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from dialect._base import Dialect, TableDef
from lowcode_sql.errors import AssumptionFailed
from lowcode_sql.ir import And, Cmp, Const, Exactness, InList, IsNull, Like, ListContains, Or, Pred, columns_of
from lowcode_sql.scanspec import ScanSpec, SortKey

__all__ = ["ScanVerifier", "verifier_for"]


def verifier_for(source: str, table: TableDef, spec: ScanSpec, dialect: Dialect) -> ScanVerifier | None:
    """A verifier for a row scan's pushed exact filters and order, or None when nothing is checkable."""
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
    return ScanVerifier(source, table, preds, order)


class ScanVerifier:
    """The checks of one scan; ``check(batch)`` per page, in order."""

    def __init__(self, source: str, table: TableDef, preds: Sequence[Pred], order: Sequence[SortKey]) -> None:
        self.source, self.table = source, table
        self.preds = tuple(preds)
        self.order = tuple(order)
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
            self._con = duckdb.connect()
            self._con.execute("SET TimeZone = 'UTC'")
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
        self._last = prev


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
