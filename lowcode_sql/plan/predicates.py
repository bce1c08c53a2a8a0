"""sqlglot WHERE/ON conjuncts -> the predicate IR (``lowcode_sql.types.Pred``).

The conversion works in *WHERE context*: a row is kept only when the predicate is TRUE, so a
predicate that can never be TRUE (``x = NULL``, ``x NOT IN (1, NULL)``) becomes ``Const(False)``.
NOT is pushed to the leaves (De Morgan holds in Kleene logic) so every leaf has a final polarity
and the tree above the leaves is AND/OR only; in such a monotone tree a leaf that is "unknown"
can be replaced by FALSE without changing which rows are TRUE.

Literals are folded and converted to the column's type by DuckDB itself (``Folder``), so a
string literal compared with a TIMESTAMPTZ column is interpreted exactly as DuckDB would.
A conversion that would lose information (``int_col > 3.5``) leaves the conjunct local.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from lowcode_sql.ir import And, Cmp, Const, InList, IsNull, Like, LikePattern, ListContains, Op, Or, Pred

__all__ = ["Converter", "FoldResult", "Folder"]

_CMP = {exp.EQ: Op.EQ, exp.NEQ: Op.NE, exp.LT: Op.LT, exp.LTE: Op.LE, exp.GT: Op.GT, exp.GTE: Op.GE}


@dataclass(frozen=True)
class FoldResult:
    ok: bool
    value: Any = None
    is_null: bool = False


# (constant expression SQL, target SQL type or None) -> FoldResult
Folder = Callable[[str, "str | None"], FoldResult]


def _is_constant(node: exp.Expr) -> bool:
    if node.find(exp.Column, exp.Subquery, exp.Select, exp.Placeholder, exp.Star):
        return False
    # Volatile functions must not be folded once at plan time.
    for f in node.find_all(exp.Func):
        name = f.sql_name().upper() if hasattr(f, "sql_name") else ""
        if isinstance(f, exp.Rand) or name in {"RANDOM", "RAND", "UUID", "GEN_RANDOM_UUID", "NEXTVAL"}:
            return False
    return True


def _unwrap(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


class Converter:
    """Converts conjuncts over one table alias into ``Pred`` trees.

    ``columns`` maps a column name to its SQL type; ``list_columns`` holds LIST columns (which
    only ``list_contains`` can filter).
    """

    def __init__(self, alias: str, columns: dict[str, str], folder: Folder) -> None:
        self.alias = alias
        self.columns = columns
        self.folder = folder

    # -- public --------------------------------------------------------------------------------
    def convert(self, node: exp.Expr) -> tuple[Pred | None, bool]:
        """``(pred, exact)``: ``pred`` is None when nothing can be sent; ``exact`` is False when
        parts were weakened to TRUE (the predicate is then a superset of the conjunct)."""
        state = {"exact": True}
        pred = self._conv(node, negate=False, state=state)
        return pred, state["exact"]

    # -- helpers -------------------------------------------------------------------------------
    def _column(self, node: exp.Expr) -> str | None:
        node = _unwrap(node)
        if isinstance(node, exp.Column) and node.table == self.alias and not node.args.get("db"):
            name = node.name
            if name in self.columns:
                return name
        return None

    def _fold(self, node: exp.Expr, column: str) -> FoldResult:
        if not _is_constant(node):
            return FoldResult(False)
        if isinstance(_unwrap(node), exp.Null):
            return FoldResult(True, None, is_null=True)
        res = self.folder(node.sql(dialect="duckdb"), self.columns[column])
        if res.ok and isinstance(res.value, float) and (math.isnan(res.value) or math.isinf(res.value)):
            return FoldResult(False)  # NaN/inf order differently in every system: keep local
        return res

    def _conv(self, node: exp.Expr, negate: bool, state: dict[str, bool]) -> Pred | None:
        node = _unwrap(node)
        if isinstance(node, exp.Not):
            return self._conv(node.this, not negate, state)
        if isinstance(node, exp.And | exp.Or):
            is_and = isinstance(node, exp.And) != negate  # De Morgan
            items = []
            for child in node.flatten():
                p = self._conv(child, negate, state)
                if p is None:
                    if not is_and:
                        return None  # an OR with an unknown branch cannot be narrowed
                    state["exact"] = False  # weaken: drop the branch (TRUE) -> superset
                    continue
                items.append(p)
            if is_and:
                if not items:
                    return None
                return items[0] if len(items) == 1 else And(tuple(items))
            return Or(tuple(items))
        if isinstance(node, exp.In):
            return self._in(node, negate)
        if isinstance(node, exp.Null):
            return Const(False)  # NULL is never TRUE, and neither is NOT NULL
        leaf = self._leaf(node, state)
        if leaf is None:
            return None
        return leaf.negate() if negate else leaf

    def _leaf(self, node: exp.Expr, state: dict[str, bool]) -> Pred | None:
        if isinstance(node, exp.Boolean):
            return Const(bool(node.this))
        col = self._column(node)
        if col is not None:  # a bare boolean column
            return Cmp(col, Op.EQ, True) if self.columns[col] == "BOOLEAN" else None
        for klass, op in _CMP.items():
            if isinstance(node, klass):
                return self._comparison(node, op)
        if isinstance(node, exp.Between):
            col = self._column(node.this)
            if col is None:
                return None
            lo, hi = self._fold(node.args["low"], col), self._fold(node.args["high"], col)
            if not (lo.ok and hi.ok):
                return None
            if lo.is_null or hi.is_null:
                return Const(False)
            return And((Cmp(col, Op.GE, lo.value), Cmp(col, Op.LE, hi.value)))
        if isinstance(node, exp.Is):
            col = self._column(node.this)
            if col is not None and isinstance(node.expression, exp.Null):
                return IsNull(col)
            return None
        if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like | exp.ILike):
            esc = node.expression
            if not (isinstance(esc, exp.Literal) and esc.is_string and len(esc.this) == 1):
                return None
            return self._like(node.this, esc.this)
        if isinstance(node, exp.Like | exp.ILike):
            return self._like(node, None)
        if isinstance(node, exp.ArrayContains):
            col = self._column(node.this)
            if col is None or not self.columns[col].endswith("[]"):
                return None
            item_type = self.columns[col][:-2]
            if not _is_constant(node.expression):
                return None
            res = self.folder(node.expression.sql(dialect="duckdb"), item_type)
            if not res.ok:
                return None
            return Const(False) if res.is_null else ListContains(col, res.value)
        return None

    def _comparison(self, node: exp.Expr, op: Op) -> Pred | None:
        left, right = node.this, node.expression
        col = self._column(left)
        other = right
        if col is None:
            col, other, op = self._column(right), left, op.flip()
        if col is None or self.columns[col].endswith("[]"):
            return None
        res = self._fold(other, col)
        if not res.ok:
            return None
        if res.is_null:
            return Const(False)  # comparison with NULL is never TRUE
        return Cmp(col, op, res.value)

    def _in(self, node: exp.In, negate: bool) -> Pred | None:
        col = self._column(node.this)
        if col is None or node.args.get("query") or self.columns[col].endswith("[]"):
            return None
        values: list[Any] = []
        has_null = False
        for item in node.expressions:
            res = self._fold(item, col)
            if not res.ok:
                return None
            if res.is_null:
                has_null = True
            elif res.value not in values:
                values.append(res.value)
        if negate and has_null:
            return Const(False)  # x NOT IN (.., NULL) is never TRUE
        if not values:
            # x IN () is never TRUE; x NOT IN () is TRUE for every value but NULL (DuckDB: NULL NOT IN ()
            # is NULL), which is not the same as TRUE once the conjunct is sent
            return IsNull(col, negated=True) if negate else Const(False)
        # x IN (.., NULL) is TRUE exactly when x IN (..)
        return InList(col, tuple(values), negated=negate)

    def _like(self, node: exp.Like | exp.ILike, escape: str | None) -> Pred | None:
        col = self._column(node.this)
        pat = node.expression
        if col is None or self.columns[col] != "VARCHAR":
            return None
        if not (isinstance(pat, exp.Literal) and pat.is_string):
            return None
        pred = Like(col, LikePattern.parse(pat.this, escape), isinstance(node, exp.ILike))
        return pred.negate() if node.args.get("negate") else pred
