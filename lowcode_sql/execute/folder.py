"""Constant folding by DuckDB itself, so literals mean exactly what they mean in the final query.

The planner asks: "what is this constant expression as a value of the column's type, and does the
conversion lose anything?" DuckDB answers with ``TRY_CAST`` plus an equality check against the
unconverted value (``int_col > 3.5`` must not become ``> 3``). Only literals of the column's own type
family are accepted (a VARCHAR column compared with ``5`` is compared after DuckDB casts the
*column*, which no API does), except text for temporal columns, which DuckDB casts to the column's
type just as we do here.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from lowcode_sql.plan.predicates import FoldResult

__all__ = ["DuckDBFolder"]

_NUMERIC = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL"}
_TEMPORAL = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S",
             "TIME"}


def _family(type_name: str) -> str:
    base = type_name.split("(")[0].strip().upper()
    if base in _NUMERIC:
        return "num"
    if base in _TEMPORAL:
        return "time"
    if base == "VARCHAR":
        return "str"
    if base == "BOOLEAN":
        return "bool"
    return base


class DuckDBFolder:
    """A ``Folder`` backed by a DuckDB connection (the engine's, so its TimeZone applies)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str | None], FoldResult] = {}

    def __call__(self, expr_sql: str, target: str | None) -> FoldResult:
        key = (expr_sql, target)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._fold(expr_sql, target)
        return hit

    def output_names(self, select_sql: str) -> list[str] | None:
        """The column names DuckDB gives a query's results (it is run with no rows), or None."""
        try:
            with self._lock:
                cur = self._con.execute(f"SELECT * FROM ({select_sql}) LIMIT 0")
                return [d[0] for d in cur.description or ()]
        except duckdb.Error:
            return None

    def _fold(self, expr_sql: str, target: str | None) -> FoldResult:
        try:
            with self._lock:
                if target is None:
                    row = self._con.execute(f"SELECT ({expr_sql})").fetchone()
                    return FoldResult(True, row[0], row[0] is None) if row else FoldResult(False)
                row = self._con.execute(
                    f"SELECT x IS NULL, typeof(x), TRY_CAST(x AS {target}), TRY_CAST(x AS {target}) = x "
                    f"FROM (SELECT ({expr_sql}) AS x)"
                ).fetchone()
        except duckdb.Error:
            return FoldResult(False)  # DuckDB will report the real error when it runs the query
        if row is None:
            return FoldResult(False)
        is_null, src_type, value, lossless = row
        if is_null:
            return FoldResult(True, None, is_null=True)
        src, dst = _family(src_type), _family(target)
        if not (src == dst or (dst == "time" and src in ("str", "time"))):
            return FoldResult(False)
        if value is None or not lossless:
            return FoldResult(False)
        return FoldResult(True, _plain(value))


def _plain(value: Any) -> Any:
    # DuckDB returns Decimal for DECIMAL literals; the target type already made it int/float.
    return value
