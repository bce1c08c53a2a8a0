"""The server's sessions as PostgreSQL shows its backends: ``pg_stat_activity`` (one row per client
connection: pid, user, application, state, current query) and ``pg_cancel_backend(pid)`` /
``pg_terminate_backend(pid)``, which BI tools' Stop buttons call (Superset's PostgresEngineSpec:
``SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = '<pg_backend_pid()>'``). The
view is filled from ``Server.sessions`` each time a query reads it; the functions are one Python
UDF on the catalog DuckDB. Like PostgreSQL without ``pg_signal_backend``, a user may signal
only their own sessions; other pids answer false."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
from duckdb.func import FunctionNullHandling

from lowcode_sql.pgwire.pgcatalog import DATABASE

if TYPE_CHECKING:
    from lowcode_sql.pgwire.server import Server
    from lowcode_sql.pgwire.session import Session

__all__ = ["activity_table", "install_signal_function", "register_activity", "signal_calls"]

log = logging.getLogger("lowcode_sql.pgwire")


def activity_table(session: Session, schema: pa.Schema) -> pa.Table:
    """One row per live session of ``session``'s server, in ``schema`` (the catalog's columns)."""
    rows = []
    for pid, s in sorted(session.server.sessions.items()):
        peer = s.writer.get_extra_info("peername") or ("", None)
        state = "active" if s.busy or s is session else "idle in transaction" if s.status == "T" \
            else "idle in transaction (aborted)" if s.status == "E" else "idle"
        rows.append({
            "datid": 1, "datname": DATABASE, "pid": pid, "leader_pid": None, "usesysid": 10, "usename": s.user,
            "application_name": s.settings.get("application_name", ""), "client_addr": str(peer[0]),
            "client_hostname": None, "client_port": peer[1] if len(peer) > 1 else None,
            "backend_start": s.started, "xact_start": s.query_start if s.status == "T" or s.busy else None,
            "query_start": s.query_start, "state_change": s.state_change, "wait_event_type": None,
            "wait_event": None, "state": state, "backend_xid": None, "backend_xmin": None, "query_id": None,
            "query": s.query_text, "backend_type": "client backend"})
    return pa.Table.from_pylist(rows, schema=schema)


def register_activity(session: Session, cur: duckdb.DuckDBPyConnection) -> None:
    """Make ``pg_stat_activity`` on this cursor the server's sessions now (a temporary view on the
    cursor's own connection shadows the catalog's empty table; other sessions are unaffected)."""
    schema = cur.sql("SELECT * FROM main.pg_stat_activity LIMIT 0").to_arrow_table().schema
    cur.register("pg_stat_activity", activity_table(session, schema))


def install_signal_function(server: Server) -> None:
    """``__lc_signal(caller_pid, caller_secret, terminate, pid)`` on the catalog DuckDB (a Python UDF
    is global to the database): ``pg_cancel_backend(pid)`` / ``pg_terminate_backend(pid)`` are
    rewritten to it with the calling session's pid and cancel key (``signal_calls``), so the UDF knows
    who asks, and a client cannot call it as another session (it would need that session's key)."""

    def signal(caller: int | None, secret: int | None, terminate: bool | None, pid: int | None) -> bool | None:
        if pid is None:
            return None  # PostgreSQL's functions are strict
        s = server.sessions.get(int(caller)) if caller is not None else None
        if s is None or s.secret != secret:
            return False
        return server.signal(int(pid), user=s.user, terminate=bool(terminate))

    server.catalog.con.create_function("__lc_signal", signal, ["BIGINT", "BIGINT", "BOOLEAN", "BIGINT"],
                                       "BOOLEAN", null_handling=FunctionNullHandling.SPECIAL,
                                       side_effects=True)


_SIGNAL = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/)|"
                     r"\b(?:pg_catalog\s*\.\s*)?pg_(cancel|terminate)_backend\s*\(", re.I | re.S)


def signal_calls(sql: str, pid: int, secret: int) -> str:
    """``pg_cancel_backend(x)`` -> ``__lc_signal(<pid>, <secret>, false, x)`` (and terminate: true)."""
    if "_backend" not in sql.lower():
        return sql
    return _SIGNAL.sub(lambda m: m.group(1) or
                       f"__lc_signal({pid}, {secret}, {'true' if m.group(2).lower() == 'terminate' else 'false'}, ",
                       sql)
