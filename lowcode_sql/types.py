"""Plain values that cross the stages: plan -> dialect -> fetch -> convert -> execute.

Kept for compatibility: the values now live in three modules, re-exported here.

* ``lowcode_sql.ir``: the predicate IR (``Pred``, ``Cmp``, ..., ``Exactness``) the planner hands
  to a dialect.
* ``lowcode_sql.scanspec``: ``ScanSpec``, what one remote table scan must return.
* ``lowcode_sql.requests``: ``HttpRequest``/``Paging``/``ScanRequest``, what a dialect renders,
  and ``Page``/``ArrowPage``, what it parses.
"""

from __future__ import annotations

from lowcode_sql.ir import (
    And,
    Cmp,
    Const,
    Exactness,
    InList,
    IsNull,
    Like,
    LikePattern,
    ListContains,
    Op,
    Or,
    Pred,
    columns_of,
    sql_literal,
)
from lowcode_sql.requests import ArrowPage, CursorPaging, HttpRequest, NoPaging, OffsetPaging, Page, Paging, ScanRequest
from lowcode_sql.scanspec import GROUP_COUNT, AggFunc, Aggregate, ScanSpec, SortKey

__all__ = [
    "GROUP_COUNT",
    "AggFunc",
    "Aggregate",
    "And",
    "ArrowPage",
    "Cmp",
    "Const",
    "CursorPaging",
    "Exactness",
    "HttpRequest",
    "InList",
    "IsNull",
    "Like",
    "LikePattern",
    "ListContains",
    "NoPaging",
    "OffsetPaging",
    "Op",
    "Or",
    "Page",
    "Paging",
    "Pred",
    "ScanRequest",
    "ScanSpec",
    "SortKey",
    "columns_of",
    "sql_literal",
]
