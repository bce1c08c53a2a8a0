"""Typed lowcode_sql errors out of ``attach``'s scans.

DuckDB passes an exception raised by a Python scan source on only as text: the query fails with
``InvalidInputException: reading the stream registered as '…' failed: Unknown error: <str(exc)>``
followed by the Python traceback (docs/notes/duckdb-sources.md §3); the exception's type is lost.
So an attached scan that fails

* keeps its typed error (``APIError``, ``RequestTimeout``, …) in its attachment's ``FailureLog``, and
* raises ``ScanFailed`` to DuckDB instead, whose text is ``lowcode_sql.errors.<Type>: <message>``
  (messages of ``LowcodeSQLError`` are redacted, so no secret) and whose traceback is its own single
  frame, not the host's file paths and the HTTP client's internals.

``Attachment.typed_errors()`` (and ``att.sql`` / ``att.execute``, which use it) turn the DuckDB
error back into the typed one: the failure whose ``ScanFailed`` text the DuckDB message carries.
Matching on the text, not on "the last failure", means a stale failure of an earlier query, or
another cursor's failure on another thread, is never reported for an unrelated error. DuckDB's own
errors become ``UnknownColumn`` / ``UnknownTable`` (a binder or catalog error naming the column or
table) or ``ExecutionError``, with the Python traceback removed.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from typing import Any

import duckdb
import pyarrow as pa

from lowcode_sql.errors import ExecutionError, LowcodeSQLError, UnknownColumn, UnknownTable

__all__ = ["FailureLog", "ScanFailed"]

KEEP = 32  # failures remembered per attachment (and its cursors): enough for any one query's scans

_TRACEBACK = re.compile(r"(\. )?(Detail: )?Python exception: Traceback.*|Traceback \(most recent call last\).*", re.S)
_COLUMN = re.compile(r'Referenced column "((?:[^"]|"")+)" not found')
_CANDIDATES = re.compile(r'Candidate bindings: (.*)')
_TABLE = re.compile(r'Table with name ((?:[^!])+?) does not exist!')


class ScanFailed(Exception):
    """What DuckDB is given when an attached scan fails; its text names the lowcode_sql error."""


def public_name(e: BaseException) -> str:
    cls = type(e)
    return f"{cls.__module__}.{cls.__qualname__}"


class FailureLog:
    """The typed errors of the latest failed scans of one attachment and its cursors."""

    def __init__(self) -> None:
        self._items: deque[tuple[str, LowcodeSQLError]] = deque(maxlen=KEEP)
        self._lock = threading.Lock()

    def record(self, label: str, e: BaseException) -> ScanFailed:
        """Keep ``e`` (typed: anything else becomes an ``ExecutionError`` naming the scan, the
        original as its cause) and return the ``ScanFailed`` to raise to DuckDB."""
        if isinstance(e, LowcodeSQLError):
            typed = e
        else:
            typed = ExecutionError(f"{label}: internal error while reading the scan")
            typed.__cause__ = e
        text = f"{public_name(typed)}: {typed}"
        with self._lock:
            self._items.append((text, typed))
        return ScanFailed(text)

    def typed(self, e: BaseException) -> BaseException:
        """The error to report for a DuckDB error ``e`` raised while attached tables were read."""
        message = str(e)
        with self._lock:
            items = list(self._items)
        for text, typed in reversed(items):  # the newest first: the query that just failed
            if text in message:
                return typed
        if isinstance(e, duckdb.InterruptException):
            return e
        from_duckdb = isinstance(e, duckdb.Error | pa.ArrowException) or (type(e) is OSError and e.errno is None)
        if not from_duckdb:
            return e  # not DuckDB's: a bug or the caller's own exception passes unchanged
        text = _TRACEBACK.sub("", message).strip()
        err: LowcodeSQLError
        if isinstance(e, duckdb.BinderException) and (m := _COLUMN.search(text)):
            found = _CANDIDATES.search(text)
            candidates = re.findall(r'"((?:[^"]|"")+)"', found.group(1)) if found else []
            err = UnknownColumn(m.group(1).replace('""', '"'), None, candidates)
        elif isinstance(e, duckdb.CatalogException) and (m := _TABLE.search(text)):
            err = UnknownTable(m.group(1))
        else:
            err = ExecutionError(text)
        err.__cause__ = e if isinstance(e, duckdb.Error) else None  # its class tells the SQLSTATE
        return err


def result_of(duck: Any, query: str, params: Any) -> pa.Table | None:
    """Run ``query`` on ``duck`` and read its whole result as Arrow (None for a statement without one)."""
    rel = duck.sql(query, params=params)
    return None if rel is None else rel.to_arrow_table()
