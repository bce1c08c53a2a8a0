"""What one remote table scan must return (``ScanSpec``), as the planner decides it for a dialect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lowcode_sql.ir import Exactness, Pred

__all__ = ["GROUP_COUNT", "AggFunc", "Aggregate", "ScanSpec", "SortKey"]


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False
    nulls_first: bool = False


@dataclass(frozen=True)
class ScanSpec:
    """What one scan of one remote table must produce.

    ``pushed`` holds the conjuncts sent to the API with their exactness; ``local`` the ones DuckDB
    evaluates. ``order``/``limit``/``offset`` are set only when every conjunct is exact.
    ``count_only`` asks for the number of matching rows and no rows at all.
    """

    source: str
    table: str
    columns: tuple[str, ...]
    pushed: tuple[tuple[Pred, Exactness], ...] = ()
    local: tuple[Pred, ...] = ()
    order: tuple[SortKey, ...] = ()
    limit: int | None = None
    offset: int = 0
    count_only: bool = False
    contradiction: bool = False
    #: With ``aggregates``: the API groups by these columns (none: one global group) and computes
    #: the aggregates; one record per API group holds the keys and each ``Aggregate.name``.
    group_by: tuple[str, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()

    @property
    def grouped(self) -> bool:
        return bool(self.aggregates)

    @property
    def exact(self) -> bool:
        return not self.local and all(e is Exactness.EXACT for _, e in self.pushed)

    def filters(self, exactness: Exactness | None = None) -> tuple[Pred, ...]:
        return tuple(p for p, e in self.pushed if exactness is None or e is exactness)


GROUP_COUNT = "__lc_count"

AggFunc = Literal["count_star", "count", "sum", "min", "max"]


@dataclass(frozen=True)
class Aggregate:
    """One aggregate an API computes per group (see ``ScanSpec.aggregates``).

    ``count_star`` counts rows; ``count`` the column's non-NULL values; ``sum``/``min``/``max``
    ignore NULLs (a group without values may answer NULL or 0: the engine asks for ``count`` too and
    makes SUM NULL then). DuckDB re-aggregates the API's groups (SUM of counts and sums, MIN of mins,
    MAX of maxes), so the API may split a group SQL merges, but never merge values SQL keeps apart.
    AVG is asked as ``sum`` and ``count``.
    """

    func: AggFunc
    column: str | None = None

    @property
    def name(self) -> str:
        """The column holding this aggregate in a grouped scan's records and view."""
        return GROUP_COUNT if self.func == "count_star" else f"__lc_{self.func}__{self.column}"

    def __str__(self) -> str:
        return "count(*)" if self.func == "count_star" else f"{self.func}({self.column})"
