"""lowcode_sql: query low-code and integration platforms with plain SQL.

>>> import lowcode_sql
>>> con = lowcode_sql.demo()          # embedded emulators with sample data
>>> con.sql("SELECT count(*) FROM coredata.projects").fetchall()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["Connection", "LowcodeSQLError", "Result", "StreamedResult", "attach", "connect", "connect_sandbox", "demo",
           "detach"]
__version__ = "0.1.0"

_LAZY = {
    "Connection": "lowcode_sql.connection",
    "connect": "lowcode_sql.connection",
    "demo": "lowcode_sql.connection",
    "connect_sandbox": "lowcode_sql.connection",
    "Result": "lowcode_sql.result",
    "StreamedResult": "lowcode_sql.result",
    "LowcodeSQLError": "lowcode_sql.errors",
    "attach": "lowcode_sql.duckdb_attach",  # not lowcode_sql.attach: a submodule would shadow the function
    "detach": "lowcode_sql.duckdb_attach",
}


def __getattr__(name: str) -> Any:
    # Lazy: `import lowcode_sql.plan` (or the CLI's --help) should not import httpx and DuckDB.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lowcode_sql' has no attribute {name!r}")
