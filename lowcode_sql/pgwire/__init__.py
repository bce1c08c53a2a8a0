"""A PostgreSQL wire-protocol server over lowcode_sql: BI tools, psql, psycopg, psqlODBC (ODBC) and
pgJDBC (JDBC) connect to ``lowcode-sql serve`` as to a PostgreSQL database whose schemas are the
configured sources. See ``server`` for the protocol, ``pgcatalog`` for the catalog emulation,
``transpile`` for PostgreSQL -> DuckDB SQL and ``auth`` for SCRAM-SHA-256 / md5.
"""

from __future__ import annotations

from lowcode_sql.pgwire.auth import load_users, md5_hash, scram_hash
from lowcode_sql.pgwire.server import Server, ServerThread

__all__ = ["Server", "ServerThread", "load_users", "md5_hash", "scram_hash"]
