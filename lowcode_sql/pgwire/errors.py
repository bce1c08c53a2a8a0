"""Exceptions -> PostgreSQL SQLSTATE codes (Appendix A of the PostgreSQL docs)."""

from __future__ import annotations

import duckdb

from lowcode_sql import errors as lc

__all__ = ["PGError", "sqlstate"]


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


def sqlstate(e: BaseException) -> tuple[str, str, str | None]:
    """(SQLSTATE, message, hint) for any exception a statement can raise."""
    if isinstance(e, PGError):
        return e.code, str(e), e.hint
    for cls, code in _LOWCODE:
        if isinstance(e, cls):
            msg = str(e)
            if isinstance(e, lc.ExecutionError) and "Division by zero" in msg:
                return "22012", "division by zero", None
            if isinstance(e, lc.ExecutionError) and "INTERRUPT" in msg.upper():
                return "57014", "canceling statement due to user request", None
            return code, msg, None
    if isinstance(e, duckdb.Error) and "Division by zero" in str(e):
        return "22012", "division by zero", None
    for cls, code in _DUCKDB:
        if isinstance(e, cls):
            msg = str(e).split("\n")[0]
            if code == "42P01" and "Function" in msg:
                code = "42883"
            return code, msg, None
    if isinstance(e, duckdb.Error):
        return "XX000", str(e).split("\n")[0], None
    if isinstance(e, SyntaxError):
        return "42601", f"syntax error: {e}", None
    if isinstance(e, NotImplementedError):
        return "0A000", str(e), None
    if isinstance(e, ValueError | UnicodeDecodeError):
        return "22P02", str(e), None
    return "XX000", f"internal error: {type(e).__name__}: {e}", None
