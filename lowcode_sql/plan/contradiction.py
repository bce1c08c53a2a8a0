"""Prove a conjunction unsatisfiable, so a scan can be answered with zero requests.

Only sound reasoning: every leaf is in WHERE context (TRUE requires a non-NULL column, except
``IS NULL``), values of one column are compared only when Python orders them the way DuckDB does
(numbers with numbers, strings with strings by code point, dates with dates, datetimes with
datetimes of the same awareness). Anything else is "maybe satisfiable".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from lowcode_sql.ir import And, Cmp, Const, InList, IsNull, Like, ListContains, Op, Or, Pred

__all__ = ["is_contradiction"]


def _family(v: Any) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float | Decimal):
        return "num"
    if isinstance(v, str):
        return "str"
    if isinstance(v, dt.datetime):
        return "tsz" if v.tzinfo else "ts"
    if isinstance(v, dt.date):
        return "date"
    return None


class _Column:
    """What the conjunction says about one column."""

    def __init__(self) -> None:
        self.null: bool | None = None  # True: must be NULL; False: must be non-NULL
        self.lo: tuple[Any, bool] | None = None  # (value, inclusive)
        self.hi: tuple[Any, bool] | None = None
        self.allowed: set[Any] | None = None  # from = and IN
        self.excluded: set[Any] = set()
        self.family: str | None = None
        self.mixed = False

    def _same_family(self, v: Any) -> bool:
        fam = _family(v)
        if fam is None:
            self.mixed = True
            return False
        if self.family is None:
            self.family = fam
        elif self.family != fam:
            self.mixed = True
        return not self.mixed

    def require_null(self, null: bool) -> bool:
        if self.null is not None and self.null != null:
            return False
        self.null = null
        return True

    def add(self, op: Op, v: Any) -> None:
        if not self._same_family(v):
            return
        if op is Op.EQ:
            self.allowed = {v} if self.allowed is None else self.allowed & {v}
        elif op is Op.NE:
            self.excluded.add(v)
        elif op in (Op.GT, Op.GE):
            incl = op is Op.GE
            if self.lo is None or v > self.lo[0] or (v == self.lo[0] and not incl):
                self.lo = (v, incl)
        else:
            incl = op is Op.LE
            if self.hi is None or v < self.hi[0] or (v == self.hi[0] and not incl):
                self.hi = (v, incl)

    def add_in(self, values: Sequence[Any]) -> None:
        if all(self._same_family(v) for v in values):
            s = set(values)
            self.allowed = s if self.allowed is None else self.allowed & s

    def empty(self) -> bool:
        if self.mixed:
            return False
        if self.lo and self.hi:
            (lv, li), (hv, hi) = self.lo, self.hi
            if lv > hv or (lv == hv and not (li and hi)):
                return True
        if self.allowed is not None:
            ok = [v for v in self.allowed if v not in self.excluded and self._in_range(v)]
            return not ok
        return False

    def _in_range(self, v: Any) -> bool:
        if self.lo and (v < self.lo[0] or (v == self.lo[0] and not self.lo[1])):
            return False
        return not (self.hi and (v > self.hi[0] or (v == self.hi[0] and not self.hi[1])))


def is_contradiction(conjuncts: Sequence[Pred]) -> bool:
    """True when no row can make every conjunct TRUE.

    >>> is_contradiction([Cmp("a", Op.EQ, 1), Cmp("a", Op.EQ, 2)])
    True
    >>> is_contradiction([Cmp("a", Op.GE, 1), Cmp("a", Op.LE, 1)])
    False
    """
    cols: dict[str, _Column] = {}
    flat: list[Pred] = []
    for c in conjuncts:
        flat.extend(c.items if isinstance(c, And) else (c,))
    for p in flat:
        if isinstance(p, Const):
            if not p.value:
                return True
            continue
        if isinstance(p, Or):
            if all(is_contradiction([*flat_others(flat, p), item]) for item in p.items):
                return True
            continue
        if isinstance(p, And):
            if is_contradiction(p.items):
                return True
            continue
        col = cols.setdefault(p.column, _Column())
        if isinstance(p, IsNull):
            if not col.require_null(not p.negated):
                return True
            continue
        if not col.require_null(False):  # every other leaf needs a value
            return True
        if isinstance(p, Cmp):
            col.add(p.op, p.value)
        elif isinstance(p, InList) and not p.negated:
            col.add_in(p.values)
        elif isinstance(p, InList):
            for v in p.values:
                col.add(Op.NE, v)
        elif isinstance(p, Like | ListContains):
            pass
        if col.empty():
            return True
    return False


def flat_others(flat: list[Pred], skip: Pred) -> list[Pred]:
    """The leaves of a conjunction other than ``skip`` (non-OR ones, to keep this linear)."""
    return [p for p in flat if p is not skip and not isinstance(p, Or)]
