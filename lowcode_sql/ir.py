"""The predicate IR the planner hands to a dialect (and ``duckdb_attach`` builds from DuckDB's filters).

Comparisons, IN, LIKE, IS NULL, list membership and AND/OR trees in negation normal form (NOT
pushed to the leaves, which is valid in SQL's three-valued logic by De Morgan), and ``Exactness``,
a dialect's verdict on each. Frozen dataclasses and enums, so each seam can be golden-tested and
hashed.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Union

__all__ = [
    "And",
    "Cmp",
    "Const",
    "Exactness",
    "InList",
    "IsNull",
    "Like",
    "LikePattern",
    "ListContains",
    "Op",
    "Or",
    "Pred",
    "columns_of",
    "sql_literal",
]


class Exactness(enum.IntEnum):
    """How a pushed predicate relates to SQL's answer (docs/DESIGN.md §3)."""

    LOCAL = 0  # not sent; DuckDB evaluates it
    SUPERSET = 1  # the API returns every row SQL keeps, maybe more; DuckDB re-checks
    EXACT = 2  # the API returns exactly the rows SQL keeps; dropped locally


class Op(enum.Enum):
    EQ = "="
    NE = "<>"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def negate(self) -> Op:
        return _NEGATE[self]

    def flip(self) -> Op:
        """The operator with its operands swapped (``3 < x`` is ``x > 3``)."""
        return _FLIP[self]


_NEGATE = {Op.EQ: Op.NE, Op.NE: Op.EQ, Op.LT: Op.GE, Op.GE: Op.LT, Op.GT: Op.LE, Op.LE: Op.GT}
_FLIP = {Op.EQ: Op.EQ, Op.NE: Op.NE, Op.LT: Op.GT, Op.GT: Op.LT, Op.LE: Op.GE, Op.GE: Op.LE}


class _Wild(enum.Enum):
    ANY = "%"
    ONE = "_"


@dataclass(frozen=True)
class LikePattern:
    """A LIKE pattern parsed into literal runs and wildcards, escapes resolved.

    >>> p = LikePattern.parse("ab!%c%", escape="!")
    >>> p.prefix()
    'ab%c'
    """

    parts: tuple[str | _Wild, ...]

    # Literal-typed, so `part is LikePattern.ANY` narrows `part` as `is _Wild.ANY` does
    ANY: ClassVar[Literal[_Wild.ANY]] = _Wild.ANY
    ONE: ClassVar[Literal[_Wild.ONE]] = _Wild.ONE

    @classmethod
    def parse(cls, pattern: str, escape: str | None = None) -> LikePattern:
        parts: list[str | _Wild] = []
        buf: list[str] = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if escape is not None and ch == escape and i + 1 < len(pattern):
                buf.append(pattern[i + 1])
                i += 2
                continue
            if ch in "%_":
                if buf:
                    parts.append("".join(buf))
                    buf = []
                wild = _Wild.ANY if ch == "%" else _Wild.ONE
                # '%%' is the same as '%': keep the pattern canonical.
                if not (wild is _Wild.ANY and parts and parts[-1] is _Wild.ANY):
                    parts.append(wild)
            else:
                buf.append(ch)
            i += 1
        if buf:
            parts.append("".join(buf))
        return cls(tuple(parts))

    def literal(self) -> str | None:
        """The matched string when the pattern has no wildcard."""
        text = [p for p in self.parts if isinstance(p, str)]
        return "".join(text) if len(text) == len(self.parts) else None

    def prefix(self) -> str | None:
        """``'abc'`` for ``abc%``; None for any other shape."""
        if len(self.parts) == 2 and isinstance(self.parts[0], str) and self.parts[1] is _Wild.ANY:
            return self.parts[0]
        return None

    def suffix(self) -> str | None:
        if len(self.parts) == 2 and self.parts[0] is _Wild.ANY and isinstance(self.parts[1], str):
            return self.parts[1]
        return None

    def contains(self) -> str | None:
        p = self.parts
        if len(p) == 3 and p[0] is _Wild.ANY and isinstance(p[1], str) and p[2] is _Wild.ANY:
            return p[1]
        return None

    def leading_literal(self) -> str:
        """The literal text every match starts with (may be empty)."""
        return self.parts[0] if self.parts and isinstance(self.parts[0], str) else ""

    def to_regex(self) -> str:
        """An anchored regular expression matching exactly what LIKE matches (``.`` spans newlines
        only with the DOTALL flag, which callers must set)."""
        out = ["^"]
        for p in self.parts:
            if p is _Wild.ANY:
                out.append(".*")
            elif p is _Wild.ONE:
                out.append(".")
            else:
                out.append(re.escape(p))
        out.append("$")
        return "".join(out)

    def sql(self) -> str:
        """The pattern written back with ``\\`` as the escape character."""
        out = []
        for p in self.parts:
            if isinstance(p, _Wild):
                out.append(p.value)
            else:
                out.append(p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        return "".join(out)


# --- predicate IR -------------------------------------------------------------------------------


def sql_literal(value: Any) -> str:
    """A value written as a SQL literal, for EXPLAIN and golden files."""
    import datetime as _dt

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, _dt.datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return f"{kind} '{value.isoformat(sep=' ')}'"
    if isinstance(value, _dt.date):
        return f"DATE '{value.isoformat()}'"
    return repr(value)


@dataclass(frozen=True)
class Cmp:
    """``column <op> value``; ``value`` is already converted to the column's Python type."""

    column: str
    op: Op
    value: Any

    def negate(self) -> Pred:
        return Cmp(self.column, self.op.negate(), self.value)

    def __str__(self) -> str:
        return f"{self.column} {self.op.value} {sql_literal(self.value)}"


@dataclass(frozen=True)
class InList:
    column: str
    values: tuple[Any, ...]
    negated: bool = False

    def negate(self) -> Pred:
        return InList(self.column, self.values, not self.negated)

    def __str__(self) -> str:
        items = ", ".join(sql_literal(v) for v in self.values)
        return f"{self.column} {'NOT IN' if self.negated else 'IN'} ({items})"


@dataclass(frozen=True)
class Like:
    column: str
    pattern: LikePattern
    case_insensitive: bool = False
    negated: bool = False

    def negate(self) -> Pred:
        return Like(self.column, self.pattern, self.case_insensitive, not self.negated)

    def __str__(self) -> str:
        op = ("NOT " if self.negated else "") + ("ILIKE" if self.case_insensitive else "LIKE")
        return f"{self.column} {op} {sql_literal(self.pattern.sql())}"


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool = False

    def negate(self) -> Pred:
        return IsNull(self.column, not self.negated)

    def __str__(self) -> str:
        return f"{self.column} IS {'NOT ' if self.negated else ''}NULL"


@dataclass(frozen=True)
class ListContains:
    """``list_contains(column, value)`` on a LIST column (multi-valued fields)."""

    column: str
    value: Any
    negated: bool = False

    def negate(self) -> Pred:
        return ListContains(self.column, self.value, not self.negated)

    def __str__(self) -> str:
        return f"{'NOT ' if self.negated else ''}list_contains({self.column}, {sql_literal(self.value)})"


@dataclass(frozen=True)
class And:
    items: tuple[Pred, ...]

    def negate(self) -> Pred:
        return Or(tuple(i.negate() for i in self.items))

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Or:
    items: tuple[Pred, ...]

    def negate(self) -> Pred:
        return And(tuple(i.negate() for i in self.items))

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.items)) + ")"


@dataclass(frozen=True)
class Const:
    value: bool

    def negate(self) -> Pred:
        return Const(not self.value)

    def __str__(self) -> str:
        return "TRUE" if self.value else "FALSE"


Pred = Union[Cmp, InList, Like, IsNull, ListContains, And, Or, Const]


def columns_of(pred: Pred) -> set[str]:
    """Every column a predicate reads."""
    if isinstance(pred, And | Or):
        out: set[str] = set()
        for item in pred.items:
            out |= columns_of(item)
        return out
    if isinstance(pred, Const):
        return set()
    return {pred.column}
