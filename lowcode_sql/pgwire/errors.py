"""Exceptions -> PostgreSQL SQLSTATE codes (Appendix A of the PostgreSQL docs): the one place that
decides what a wire client is told about an error.

A client gets a SQLSTATE and the platform's (or DuckDB's) one-line message, never a Python
traceback, an exception class name or a path of the server: anything unexpected becomes
``XX000 internal error`` and its detail goes to the server log (``Session.send_error``). Refusals of
host access (files, network, extensions, settings) are ``42501 insufficient_privilege``, the code
PostgreSQL gives a non-superuser for ``COPY ... TO '/file'`` or ``pg_read_file``.
"""

from __future__ import annotations

import re

import duckdb

from lowcode_sql import errors as lc
from lowcode_sql import secrets

__all__ = ["INSUFFICIENT_PRIVILEGE", "INTERNAL", "PGError", "is_internal", "permission_denied", "query_canceled",
           "sqlstate"]

INSUFFICIENT_PRIVILEGE = "42501"
INTERNAL = "internal error (the details are in the server log)"


class PGError(Exception):
    """An error with its SQLSTATE, raised by the wire layer itself."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint


_LOWCODE = [
    (lc.SQLSyntaxError, "42601"),
    (lc.UnknownTable, "42P01"),
    (lc.UnknownColumn, "42703"),
    (lc.UnsupportedQuery, "0A000"),
    (lc.PlanError, "42000"),
    (lc.AuthError, "08004"),  # the *platform* rejected the source's credentials
    (lc.RequestTimeout, "57014"),
    (lc.ConnectionFailed, "08006"),
    (lc.FetchError, "58000"),
    (lc.ConversionError, "22000"),
    (lc.ConfigError, "F0000"),
    (lc.ExecutionError, "XX000"),
]
_DUCKDB = [
    (duckdb.InterruptException, "57014"),
    (duckdb.ParserException, "42601"),
    (duckdb.CatalogException, "42P01"),
    (duckdb.BinderException, "42703"),
    (duckdb.ConversionException, "22P02"),
    (duckdb.InvalidInputException, "22023"),
    (duckdb.OutOfRangeException, "22003"),
    (duckdb.NotImplementedException, "0A000"),
]


def permission_denied(what: str) -> PGError:
    """The refusal of a route to the host: ``what`` says which (never a path of the server)."""
    return PGError(INSUFFICIENT_PRIVILEGE, f"permission denied: {what}",
                   hint="this server gives SQL access to its sources only, not to its files, network, "
                        "extensions or settings")


def query_canceled() -> PGError:
    """A statement stopped by a CancelRequest (or by its client going away)."""
    return PGError("57014", "canceling statement due to user request")


_TRACEBACK = re.compile(r"(\. )?(Detail: )?Python exception: Traceback.*|Traceback \(most recent call last\).*", re.S)


def _clean(msg: str) -> str:
    return _TRACEBACK.sub("", msg).strip()


def is_internal(e: BaseException) -> bool:
    """Whether ``e`` is not an error of the query but a bug or a failure of the host (an OSError):
    the client gets ``INTERNAL`` and the server log the traceback. lowcode_sql's own errors are
    written for users (a scan that broke on something unexpected says only which scan: see
    ``execute/scan.py``, ``internal_error``)."""
    return not isinstance(e, PGError | lc.LowcodeSQLError | duckdb.Error | SyntaxError | NotImplementedError
                          | ValueError | UnicodeDecodeError)


def sqlstate(e: BaseException) -> tuple[str, str, str | None]:
    """(SQLSTATE, message, hint) for any exception a statement can raise, through the one redaction
    point (``lowcode_sql.secrets``): DuckDB's and Python's own texts are not ``LowcodeSQLError``s, which
    redact themselves, and may quote a value that came from a platform's answer."""
    code, message, hint = _classify(e)
    return code, secrets.redact(message), None if hint is None else secrets.redact(hint)


# ``error('pgerror 42883: ...')`` in the SQL the transpiler writes (pgfuncs): PostgreSQL's error
_RAISED = re.compile(r"pgerror ([0-9A-Z]{5}): ([^\n]*)")


def _classify(e: BaseException) -> tuple[str, str, str | None]:
    if isinstance(e, PGError):
        return e.code, str(e), e.hint
    raised = _RAISED.search(str(e)) if isinstance(e, duckdb.Error | lc.ExecutionError) else None
    if raised:
        return raised.group(1), raised.group(2), None
    if is_internal(e):
        return "XX000", INTERNAL, None
    if isinstance(e, duckdb.PermissionException) or isinstance(e.__cause__, duckdb.PermissionException) or (
            isinstance(e, duckdb.Error | lc.ExecutionError) and "configuration has been locked" in str(e)):
        # the DuckDB wall (execute/duck.py) refused a file, network, extension or setting
        first = _clean(str(e)).split("\n")[0]
        what = first.split("Error: ", 1)[-1]
        p = permission_denied(what)
        return p.code, str(p), p.hint
    for cls, code in _LOWCODE:
        if isinstance(e, cls):
            msg = _clean(str(e))
            if isinstance(e, lc.ExecutionError) and "Division by zero" in msg:
                return "22012", "division by zero", None
            if isinstance(e, lc.ExecutionError) and "INTERRUPT" in msg.upper():
                return "57014", "canceling statement due to user request", None
            return code, msg, None
    if isinstance(e, duckdb.Error) and "Division by zero" in str(e):
        return "22012", "division by zero", None
    for cls, code in _DUCKDB:
        if isinstance(e, cls):
            msg = _clean(str(e)).split("\n")[0]
            if code == "42P01" and "Function" in msg:
                code = "42883"
            return code, msg, None
    if isinstance(e, duckdb.IOException | duckdb.HTTPException):
        return "58030", "I/O error (the details are in the server log)", None
    if isinstance(e, duckdb.Error):
        return "XX000", _clean(str(e)).split("\n")[0], None
    if isinstance(e, SyntaxError):
        return "42601", f"syntax error: {_clean(str(e))}", None
    if isinstance(e, NotImplementedError):
        return "0A000", _clean(str(e)), None
    return "22P02", _clean(str(e)), None  # ValueError, UnicodeDecodeError (is_internal: the rest)
