"""The one exception tree of lowcode_sql.

Every error a user can cause or meet is one of these; each stage translates foreign exceptions
(sqlglot, httpx, pyarrow, duckdb) at its boundary, so callers only ever catch ``LowcodeSQLError``::

    LowcodeSQLError
     ├── ConfigError                 bad TOML, unknown platform, missing credential variable
     ├── PlanError                   the SQL cannot be planned
     │    ├── SQLSyntaxError         parse error, with line/column
     │    ├── UnsupportedQuery       valid SQL we cannot run (e.g. writes), with position
     │    │    └── MissingRequiredFilter  a table read only per key, queried without that filter
     │    ├── UnknownTable           names the table and close matches
     │    └── UnknownColumn          names the column and close matches
     ├── DialectError                a dialect cannot render what it declared it could (a bug)
     ├── FetchError                  talking to a platform failed
     │    ├── AuthError              401/403, login failed
     │    ├── APIError               4xx/5xx after retries: source, status, platform message
     │    ├── RequestTimeout         timed out after retries
     │    ├── ConnectionFailed       reset / refused after retries
     │    ├── RequestLimitExceeded   a query would send more requests than its max_requests
     │    ├── InconsistentScan       short/duplicated/looping pages: never a quiet partial answer
     │    ├── AssumptionFailed       the API broke a documented-or-inferred pushdown (a row failing
     │    │                          a filter sent as exact, rows out of a pushed order, no total)
     │    └── RequestRefused         not sent: over `lowcode-sql probe`'s bound, or not a read
     ├── ConversionError             a page did not match the declared schema
     └── ExecutionError              DuckDB failed running the residual query

Messages never contain credentials: every argument and the text of every error pass
``lowcode_sql.secrets.redact`` (in ``__init__``, so ``args`` and ``repr`` are clean too, and again in
``__str__`` for a secret registered after the error was made).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from lowcode_sql.secrets import redact

__all__ = [
    "APIError",
    "AssumptionFailed",
    "AuthError",
    "ConfigError",
    "ConnectionFailed",
    "ConversionError",
    "DialectError",
    "DiscoveryWarning",
    "ExecutionError",
    "FetchError",
    "InconsistentScan",
    "LowcodeSQLError",
    "MissingRequiredFilter",
    "PlanError",
    "RequestLimitExceeded",
    "RequestRefused",
    "RequestTimeout",
    "SQLSyntaxError",
    "UnknownColumn",
    "UnknownTable",
    "UnsupportedQuery",
    "close_matches",
]


class LowcodeSQLError(Exception):
    """Root of every error raised by lowcode_sql. Its text and ``args`` never hold a secret."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def __str__(self) -> str:
        return redact(super().__str__())

    def __repr__(self) -> str:
        return redact(super().__repr__())


class ConfigError(LowcodeSQLError):
    """The configuration is invalid or incomplete."""


class PlanError(LowcodeSQLError):
    """The SQL text cannot be planned."""


class SQLSyntaxError(PlanError):
    """The SQL text does not parse."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        where = f" (line {line}, column {col})" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.line = line
        self.col = col


class UnsupportedQuery(PlanError):
    """Valid SQL that lowcode_sql does not run."""


class MissingRequiredFilter(UnsupportedQuery):
    """A table the platform serves only for one key was queried without that key's filter (a Totalum
    many-to-many table needs ``WHERE source_id = '<id>'``); the message names the filter to add."""


class ParameterError(PlanError):
    """Query parameters that do not match the placeholders (count, names, types)."""


class UnknownTable(PlanError):
    """A table name that is in no configured source."""

    def __init__(self, name: str, candidates: Iterable[str] = ()) -> None:
        hint = close_matches(name, candidates)
        super().__init__(f"unknown table {name!r}{hint}")
        self.name = name


class UnknownColumn(PlanError):
    """A column that the table (or query scope) does not have."""

    def __init__(self, name: str, table: str | None = None, candidates: Iterable[str] = ()) -> None:
        where = f" in {table}" if table else ""
        hint = close_matches(name, candidates)
        super().__init__(f"unknown column {name!r}{where}{hint}")
        self.name = name
        self.table = table

    @classmethod
    def ambiguous(cls, name: str, tables: Iterable[str]) -> UnknownColumn:
        """A column more than one of the query's tables has (an UnknownColumn: DuckDB and
        PostgreSQL file it under the same SQLSTATE class, and callers catch it as such)."""
        err = cls(name)
        names = sorted(set(tables))
        listed = " and ".join(names) if len(names) > 1 else f"{names[0]} (joined to itself)"
        err.args = (f"ambiguous column {name!r}: it is in {listed}; qualify it as table.{name} or alias.{name}",)
        return err


class DialectError(LowcodeSQLError):
    """A dialect failed to render a request it declared it supports."""


class FetchError(LowcodeSQLError):
    """A request to a platform failed for good."""

    def __init__(self, message: str, *, source: str | None = None, status: int | None = None) -> None:
        prefix = f"[{source}] " if source else ""
        super().__init__(f"{prefix}{message}")
        self.source = source
        self.status = status


class AuthError(FetchError):
    """The platform rejected the credentials (or the login exchange failed)."""


class APIError(FetchError):
    """The platform answered with an error status after all retries."""


class RequestTimeout(FetchError):
    """A request timed out after all retries."""


class ConnectionFailed(FetchError):
    """The connection was refused or reset after all retries."""


class RequestLimitExceeded(FetchError):
    """A query would send more HTTP requests than the ``max_requests`` it was given (``verify``):
    it stops before the request that would pass the limit, with no answer."""


class InconsistentScan(FetchError):
    """Pages did not add up (short, duplicated or looping): the result would be wrong."""


class AssumptionFailed(FetchError):
    """An answer contradicts what a dialect assumed about the API (issue 13, "trust, but verify"):
    a row fails a filter that was sent as exact, rows arrive out of a pushed ORDER BY, or an answer
    lacks the total a request relied on. The message names the table, what failed and, where one
    exists, the source option that turns the pushdown off. The rows would have been wrong."""

    def __init__(self, message: str, *, source: str | None = None, table: str | None = None,
                 option: str | None = None) -> None:
        super().__init__(message, source=source)
        self.table = table
        self.option = option


class RequestRefused(FetchError):
    """A request was refused before it was sent: ``lowcode-sql probe`` sends at most its bound of
    requests, and only reads."""


class DiscoveryWarning(UserWarning):
    """Discovery skipped part of a source (e.g. an endpoint the account does not have) and carried
    on with the rest; the message says what and which source option silences it."""


class ConversionError(LowcodeSQLError):
    """A page could not be converted to the table's declared Arrow schema."""


class ExecutionError(LowcodeSQLError):
    """DuckDB failed while running the part of the query that runs locally."""


def close_matches(name: str, candidates: Iterable[str]) -> str:
    """A ``"; did you mean ...?"`` hint, or an empty string.

    >>> close_matches("projcts", ["projects", "tasks"])
    "; did you mean 'projects'?"
    """
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(lowered[f]) for f in found) + "?"
