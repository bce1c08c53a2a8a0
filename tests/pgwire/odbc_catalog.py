"""ODBC catalog functions pyodbc does not wrap (SQLTablePrivileges, SQLColumnPrivileges), called
through unixODBC's C API with ctypes, so the psqlODBC driver sends its own catalog SQL."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

__all__ = ["odbc_catalog_rows"]

SQL_HANDLE_ENV, SQL_HANDLE_DBC, SQL_HANDLE_STMT = 1, 2, 3
SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 = 200, 3
SQL_NTS, SQL_C_CHAR, SQL_NO_DATA, SQL_NULL_DATA = -3, 1, 100, -1


def _ok(rc: int, what: str, lib: ctypes.CDLL, kind: int, handle: ctypes.c_void_p) -> None:
    if rc in (0, 1):  # SQL_SUCCESS, SQL_SUCCESS_WITH_INFO
        return
    state, native, msg, n = ctypes.create_string_buffer(6), ctypes.c_int(), ctypes.create_string_buffer(1024), \
        ctypes.c_short()
    lib.SQLGetDiagRec(kind, handle, 1, state, ctypes.byref(native), msg, 1024, ctypes.byref(n))
    raise RuntimeError(f"{what}: rc={rc} {state.value.decode()} {msg.value.decode(errors='replace')}")


def odbc_catalog_rows(conn_str: str, function: str, schema: str, table: str) -> list[tuple[str | None, ...]]:
    """Rows of ``SQLTablePrivileges`` or ``SQLColumnPrivileges`` (column pattern ``%``) as strings."""
    path = ctypes.util.find_library("odbc") or "libodbc.so.2"
    lib = ctypes.CDLL(path)
    env, dbc, stmt = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    _ok(lib.SQLAllocHandle(SQL_HANDLE_ENV, None, ctypes.byref(env)), "env", lib, SQL_HANDLE_ENV, env)
    try:
        lib.SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, ctypes.c_void_p(SQL_OV_ODBC3), 0)
        _ok(lib.SQLAllocHandle(SQL_HANDLE_DBC, env, ctypes.byref(dbc)), "dbc", lib, SQL_HANDLE_ENV, env)
        cs = conn_str.encode()
        _ok(lib.SQLDriverConnect(dbc, None, cs, SQL_NTS, None, 0, None, 0), "connect", lib, SQL_HANDLE_DBC, dbc)
        try:
            _ok(lib.SQLAllocHandle(SQL_HANDLE_STMT, dbc, ctypes.byref(stmt)), "stmt", lib, SQL_HANDLE_DBC, dbc)
            call: Callable[..., int] = getattr(lib, function)
            names: list[bytes | None] = [None, schema.encode(), table.encode()]
            if function == "SQLColumnPrivileges":
                names.append(b"%")
            args: list[object] = []
            for n in names:
                args += [n, 0 if n is None else SQL_NTS]
            _ok(call(stmt, *args), function, lib, SQL_HANDLE_STMT, stmt)
            ncols = ctypes.c_short()
            lib.SQLNumResultCols(stmt, ctypes.byref(ncols))
            rows: list[tuple[str | None, ...]] = []
            buf, ind = ctypes.create_string_buffer(512), ctypes.c_long()
            while (rc := lib.SQLFetch(stmt)) != SQL_NO_DATA:
                _ok(rc, "fetch", lib, SQL_HANDLE_STMT, stmt)
                row: list[str | None] = []
                for i in range(1, ncols.value + 1):
                    _ok(lib.SQLGetData(stmt, i, SQL_C_CHAR, buf, 512, ctypes.byref(ind)), "get", lib,
                        SQL_HANDLE_STMT, stmt)
                    row.append(None if ind.value == SQL_NULL_DATA else buf.value.decode())
                rows.append(tuple(row))
            lib.SQLFreeHandle(SQL_HANDLE_STMT, stmt)
            return rows
        finally:
            lib.SQLDisconnect(dbc)
            lib.SQLFreeHandle(SQL_HANDLE_DBC, dbc)
    finally:
        lib.SQLFreeHandle(SQL_HANDLE_ENV, env)
