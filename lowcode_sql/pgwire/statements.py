"""What a session holds between messages: prepared statements (Parse), portals (Bind, DECLARE) and
the outcome of running one, plus the statement kinds, named by their first keyword, that decide
where a statement goes (a query, a utility statement, a refusal)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lowcode_sql.pgwire.stream import RowStream
from lowcode_sql.pgwire.transpile import Translated

__all__ = ["HOST_STATEMENT", "HOST_STATEMENTS", "KNOWN_KINDS", "QUERY_KEYWORDS", "WRITES", "Outcome", "Portal",
           "Prepared"]


@dataclass
class Outcome:
    """What one statement produced: rows (an Arrow table) or none, and its command tag."""

    tag: str  # "SELECT" gets the row count appended when sent
    table: pa.Table | None = None
    copy: dict[str, str] | None = None  # COPY ... TO STDOUT: the rows go out as CopyData
    stream: RowStream | None = None  # a source query's rows, read batch by batch as they are sent

    @property
    def schema(self) -> pa.Schema | None:
        if self.stream is not None:
            return self.stream.schema
        return self.table.schema if self.table is not None else None

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


@dataclass
class Prepared:
    sql: str
    param_oids: list[int]
    kind: str  # first keyword
    translated: Translated | None = None
    nparams: int = 0
    sql_types: list[str] = field(default_factory=list)  # SQL PREPARE's (type, ...): EXECUTE casts to them
    origins: list[tuple[int, int]] | None = None  # per output column: (table OID, attnum), see origins.py


@dataclass
class Portal:
    stmt: Prepared
    params: list[Any]
    formats: list[int]
    outcome: Outcome | None = None
    pos: int = 0
    holdable: bool = False
    is_cursor: bool = False
    fetched: int = field(default=0)


WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE", "GRANT",
                    "REVOKE", "COMMENT", "REINDEX", "CLUSTER", "REFRESH", "DO", "SECURITY"})
QUERY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "("})
# DuckDB statements that reach files, databases, extensions or settings: never run, always refused
HOST_STATEMENTS = frozenset({"PRAGMA", "ATTACH", "DETACH", "INSTALL", "LOAD", "FORCE", "EXPORT", "IMPORT", "CALL",
                             "USE", "CHECKPOINT"})
HOST_STATEMENT = re.compile(r"\s*((CREATE|DROP)\s+(OR\s+REPLACE\s+)?(PERSISTENT\s+|TEMPORARY\s+)?SECRET|"
                            r"UPDATE\s+EXTENSIONS|(SET|RESET)\s+(GLOBAL|VARIABLE)|(CREATE|DROP)\s+MACRO)\b", re.I)
KNOWN_KINDS = QUERY_KEYWORDS | WRITES | HOST_STATEMENTS | {
    "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET", "SHOW", "RESET",
    "DISCARD", "DEALLOCATE", "PREPARE", "EXECUTE", "DECLARE", "FETCH", "MOVE", "CLOSE", "COPY", "LISTEN",
    "UNLISTEN", "NOTIFY",
    "EXPLAIN"}
