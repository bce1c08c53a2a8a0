"""The DuckDB connections lowcode_sql runs SQL on, with or without access to the host.

DuckDB's defaults let SQL read and write local files (``read_text('/proc/self/environ')``,
``COPY ... TO``), list directories (``glob``), reach the network (``read_csv('https://...')``) and
install or load extensions (autoinstall of ``httpfs``). That is a feature for the Python API, where
the SQL is the programmer's own, and a hole wherever SQL comes from someone else (the wire server,
an application running its users' SQL). ``external_access=False`` closes it with DuckDB's own
settings, so it holds whatever SQL is run (DuckDB docs, "Securing DuckDB"):

* ``enable_external_access = false``: no file system or network access, no ``INSTALL``/``LOAD``,
  no persistent secrets, no ``ATTACH`` of files; registered Arrow tables and readers still work;
* ``autoinstall_known_extensions`` / ``autoload_known_extensions = false``: nothing is fetched or
  loaded behind a query's back;
* ``python_enable_replacements = false``: a table name never resolves to a Python variable of the
  calling frame;
* ``allowed_directories``: the only local directories readable (the wire server's
  ``[serve] allowed_directories``); DuckDB also always allows its own ``temp_directory``, which is
  therefore a fresh private directory (created only if a query spills);
* ``lock_configuration = true`` last, so no ``SET``, ``RESET``, ``PRAGMA`` or ``CALL`` can turn any
  of this back on. Everything else the engine needs (time zone, buffer sizes) is set before the
  lock; the time zone as GLOBAL, so that cursors of the connection inherit it.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import tempfile
import threading
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

__all__ = ["connect_duckdb", "normalize_directories", "scratch_cursor"]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def normalize_directories(dirs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Absolute, resolved directory paths ending in ``/``: DuckDB matches ``allowed_directories``
    as path prefixes, so ``/data`` without the slash would also allow ``/data-private``."""
    out = []
    for d in dirs:
        p = Path(d).expanduser().resolve()
        if not p.is_dir():
            raise ValueError(f"allowed directory {str(d)!r} is not a directory")
        out.append(str(p).rstrip("/") + "/")
    return out


_primed = False


def _prime_first_query() -> None:
    """Build, once per process, the caches a query would otherwise build on its first run: sqlglot's
    dispatch table of DuckDB's SQL generator (every query is rendered back to DuckDB SQL; ~1.5 ms
    of class inspection) and DuckDB's tokenizer (~2-4 ms on its first text). They are what made a
    connection's first ``SELECT 1`` cost 3.5x the CPU of a warm one (issue 15, item 5); here they
    are paid with the connection, which a query needs first anyway."""
    global _primed
    if _primed:
        return
    _primed = True
    import sqlglot.dialects.duckdb

    sqlglot.dialects.duckdb.DuckDB().generator()
    duckdb.tokenize("SELECT 1")


def connect_duckdb(*, timezone: str = "UTC", external_access: bool = True,
                   allowed_directories: Sequence[str | os.PathLike[str]] = (),
                   settings: Mapping[str, str] | None = None, global_settings: Mapping[str, str] | None = None,
                   init_sql: Sequence[str] = ()) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with ``timezone`` and ``global_settings`` applied globally (its
    cursors inherit them), ``settings`` to this connection, then ``init_sql`` run (macros); with
    ``external_access=False`` it cannot reach the host (module docstring) and its configuration
    is locked. ``allowed_directories`` (only with ``external_access=False``) are readable."""
    if allowed_directories and external_access:
        raise ValueError("allowed_directories only applies with external_access=False "
                         "(with external access every directory is readable)")
    dirs = normalize_directories(allowed_directories)
    _prime_first_query()
    config: dict[str, str | bool | int | float | list[str]] = {}  # connect()'s own type (dict is invariant)
    if not external_access:
        config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                  "python_enable_replacements": False}
    con = duckdb.connect(config=config)
    try:
        # TimeZone is an ICU setting, unknown to connect(config=...): SET it, GLOBAL for the cursors
        con.execute(f"SET GLOBAL TimeZone = {_quote(timezone)}")
        # DuckDB's progress bar writes to the process's stdout from a query over ~2 s (through a
        # pipe too): a library's caller printing CSV got "\r 12% ▕██..." in it. Scans report
        # progress through the engine's own callback. (A session setting: not in connect's config.)
        con.execute("SET enable_progress_bar = false")
        for name, value in (settings or {}).items():  # this connection's (some are session-only)
            con.execute(f"SET {name} = {_quote(value)}")
        for name, value in (global_settings or {}).items():
            con.execute(f"SET GLOBAL {name} = {_quote(value)}")
        for statement in init_sql:
            con.execute(statement)
        if not external_access:
            if dirs:
                # must be set while external access is still on (DuckDB refuses it at connect time)
                con.execute(f"SET GLOBAL allowed_directories = [{', '.join(_quote(d) for d in dirs)}]")
            private = Path(tempfile.gettempdir()) / f"lowcode-sql-{os.getpid()}-{secrets.token_hex(8)}"
            con.execute(f"SET GLOBAL temp_directory = {_quote(str(private))}")
            con.execute("SET GLOBAL enable_external_access = false")
            con.execute("SET GLOBAL lock_configuration = true")
    except BaseException:
        con.close()
        raise
    _opened.add(con)
    return con


_scratch: duckdb.DuckDBPyConnection | None = None
_scratch_pid = 0
_scratch_lock = threading.Lock()
# every database connect_duckdb opened in this process, so that a forked child never destroys one
_opened: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def _keep_the_parents_databases() -> None:
    """In a forked child, the parent's databases are kept, unused, for the child's whole life:
    destroying one joins its worker threads, which stayed in the parent, and the child died of
    ``std::terminate`` (SIGABRT) as it exited or dropped the object. The child opens its own
    (``scratch_cursor``; ``Engine`` refuses a connection opened before the fork)."""
    global _scratch_lock
    _scratch_lock = threading.Lock()  # another thread may have held it at the fork
    for con in list(_opened):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(con))
    _opened.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_keep_the_parents_databases)


def scratch_cursor() -> duckdb.DuckDBPyConnection:
    """A new connection (``cursor()``) to one private, process-wide in-memory DuckDB, for the
    engine's own small checks over a page (the verifier's filter test, a scan's local re-check).

    Why not ``duckdb.connect()`` per scan: creating and closing a database costs 30-100 ms of
    CPU and wall on this VM (under load), paid by every verified scan: most of the ~0.35 s
    per-query overhead against shillelagh (benchmarks/README.md, issue 15 item 3, third pass).
    A cursor costs ~0.02 ms. Cursors share the database but not their registrations (``page``
    is per cursor), so concurrent scans in several threads do not see each other's pages. The
    database has no host access and a locked configuration (``connect_duckdb``), time zone UTC
    (global, so every cursor has it); only SQL the engine builds itself runs on it. Re-created
    after a fork (a DuckDB instance must not be shared across processes)."""
    global _scratch, _scratch_pid
    with _scratch_lock:
        if _scratch is None or _scratch_pid != os.getpid():
            _scratch = connect_duckdb(timezone="UTC", external_access=False)
            _scratch_pid = os.getpid()
        return _scratch.cursor()
