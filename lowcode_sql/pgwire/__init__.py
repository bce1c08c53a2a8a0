"""A PostgreSQL wire-protocol server over lowcode_sql: BI tools, psql, psycopg, psqlODBC (ODBC) and
pgJDBC (JDBC) connect to ``lowcode-sql serve`` as to a PostgreSQL database whose schemas are the
configured sources. ``server`` listens and keeps the sessions; ``startup`` (TLS, parameters,
authentication with ``auth``: SCRAM-SHA-256 / md5), ``session`` (message loop, simple and extended
query protocol), ``utility`` (transactions, SET/SHOW, SQL PREPARE/EXECUTE ...), ``cursors``,
``copy`` and ``results`` serve one connection, with ``paramtypes`` (parameter types for
ParameterDescription) and ``origins`` (a result column's table for RowDescription); ``pool`` runs
source queries on engines; ``pgcatalog`` emulates the catalog and ``activity`` the server's
sessions in it (pg_stat_activity, pg_cancel_backend); ``pgtext`` fixes spellings before
``transpile`` turns PostgreSQL SQL into DuckDB SQL.
"""

from __future__ import annotations

from typing import Any

from lowcode_sql import _sqlglot_compat  # noqa: F401  # exp.DType on sqlglot < 30 (Superset's pin)

__all__ = ["Server", "ServerThread", "load_users", "md5_hash", "scram_hash"]

_LAZY = {"Server": "server", "ServerThread": "server", "load_users": "auth", "md5_hash": "auth",
         "scram_hash": "auth"}


def __getattr__(name: str) -> Any:
    # Lazy, so `lowcode-sql --help` (which adds the serve parser) does not import DuckDB
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"lowcode_sql.pgwire.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'lowcode_sql.pgwire' has no attribute {name!r}")
