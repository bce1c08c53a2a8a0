"""Split a scan's WHERE conjuncts between the API and DuckDB: flatten, classify, demote.

Shared by the planner (``plan/__init__.py``) and the tables of ``duckdb_attach`` (whose filters
come from DuckDB's optimizer instead of the SQL text), so that both send a conjunct to an API on
exactly the same terms:

* flatten: a conjunct that is itself an AND (BETWEEN, NOT (a OR b)) is offered to the dialect item
  by item;
* classify: the dialect decides each item EXACT, SUPERSET or LOCAL, all items in one call (it may
  send fewer of them together than alone: CoreData sends one value per parameter);
* demote: an item the dialect would send exactly, of a conjunct whose conversion to the IR was not
  exact, is only a SUPERSET (the API narrows, DuckDB still decides).

A conjunct is exact (the API alone decides it) only when every one of its items is pushed EXACT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dialect import Dialect, TableDef
from lowcode_sql.ir import And, Exactness, Pred

__all__ = ["Split", "items_of", "split"]


def items_of(pred: Pred) -> tuple[Pred, ...]:
    """The items a conjunct is offered to a dialect as (an AND's own items, else itself)."""
    return pred.items if isinstance(pred, And) else (pred,)


@dataclass(frozen=True)
class Split:
    pushed: tuple[tuple[Pred, Exactness], ...]  # the items sent to the API, in conjunct order
    exact: tuple[bool, ...]  # per conjunct: every item pushed EXACT (DuckDB need not check it)


def split(dialect: Dialect, table: TableDef, conjuncts: Sequence[Pred],
          converted_exactly: Sequence[bool] | None = None) -> Split:
    """Classify ``conjuncts`` of a scan of ``table``. ``converted_exactly[i]`` is False when the
    i-th conjunct's IR only approximates its SQL (its items are then pushed as SUPERSET at best)."""
    flat = [(i, item) for i, pred in enumerate(conjuncts) for item in items_of(pred)]
    decisions = dialect.classify(table, [p for _, p in flat]) if flat else []
    exact = [True if converted_exactly is None else bool(converted_exactly[i]) for i in range(len(conjuncts))]
    pushed: list[tuple[Pred, Exactness]] = []
    for (i, item), decision in zip(flat, decisions, strict=True):
        if decision is Exactness.EXACT and not exact[i]:
            decision = Exactness.SUPERSET
        if decision is not Exactness.LOCAL:
            pushed.append((item, decision))
        if decision is not Exactness.EXACT:
            exact[i] = False
    return Split(tuple(pushed), tuple(exact))
