"""Utility statements, dispatched by their first keyword (``HANDLERS``): transactions (accepted:
sources are read-only, so a transaction only changes the ReadyForQuery status and the lifetime of
cursors), SET / SHOW / RESET of the session's settings (never DuckDB's), DISCARD, SQL-level
PREPARE / EXECUTE / DEALLOCATE, EXPLAIN, and the cursor and COPY statements of ``cursors`` and
``copy``. Statements that would reach the host (DuckDB's PRAGMA, ATTACH, INSTALL, SET GLOBAL ...) and
writes are refused."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from lowcode_sql.pgwire import copy, cursors
from lowcode_sql.pgwire import protocol as p
from lowcode_sql.pgwire.errors import INSUFFICIENT_PRIVILEGE, PGError, permission_denied
from lowcode_sql.pgwire.pgcatalog import DEFAULT_SETTINGS
from lowcode_sql.pgwire.statements import HOST_STATEMENT, HOST_STATEMENTS, WRITES, Outcome, Portal, Prepared
from lowcode_sql.pgwire.types import pg_type_for_arrow

if TYPE_CHECKING:
    from lowcode_sql.pgwire.session import Session

__all__ = ["HANDLERS", "REPORTED", "SHOW_ALL_SCHEMA", "check_setting", "client_encoding", "run_utility", "show_name",
           "show_schema"]

Handler = Callable[["Session", Prepared, list[Any]], Awaitable[Outcome]]

# parameters PostgreSQL reports to the client on connect and whenever they change (GUC_REPORT)
REPORTED = {"application_name": "application_name", "client_encoding": "client_encoding", "datestyle": "DateStyle",
            "intervalstyle": "IntervalStyle", "timezone": "TimeZone", "is_superuser": "is_superuser",
            "server_encoding": "server_encoding", "server_version": "server_version",
            "standard_conforming_strings": "standard_conforming_strings", "integer_datetimes": "integer_datetimes",
            "default_transaction_read_only": "default_transaction_read_only",
            "session_authorization": "session_authorization", "in_hot_standby": "in_hot_standby"}
SHOW_ALL_SCHEMA = pa.schema([("name", pa.string()), ("setting", pa.string()), ("description", pa.string())])
SET_STATEMENT = re.compile(r"\s*SET\s+(?:SESSION\s+|LOCAL\s+)?"
                           r"(?:(?P<tz>TIME\s+ZONE)|(?P<name>[A-Za-z_.\"]+)\s*(?:=|\bTO\b))"
                           r"\s*(?P<value>.*?)\s*;?\s*$", re.I | re.S)


async def run_utility(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """Run a statement that is not a query (``session.py`` runs those)."""
    kind, sql = stmt.kind, stmt.sql
    if kind in HOST_STATEMENTS or HOST_STATEMENT.match(sql):
        words = sql.split()
        raise permission_denied(f"{' '.join(words[:2]).upper()}: DuckDB's {kind} statement (files, "
                                "databases, extensions, settings or secrets) is not available on this server")
    handler = HANDLERS.get(kind)
    if handler is not None:
        return await handler(session, stmt, params)
    if kind in UNSUPPORTED:
        raise PGError("0A000", f"{kind} is not supported by lowcode_sql")
    if kind == "":
        return Outcome("")
    if kind in WRITES:
        raise PGError("25006", f"cannot execute {kind} in a read-only transaction: lowcode_sql reads platforms "
                               "and never writes to them")
    raise PGError("42601", f'syntax error at or near "{sql.split()[0]}"')


# --- transactions -------------------------------------------------------------------------------

async def begin(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    session.status = "T"
    return Outcome("BEGIN" if stmt.kind == "BEGIN" else "START TRANSACTION")


async def commit(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    tag = "ROLLBACK" if session.status == "E" else "COMMIT"
    session.status = "I"
    session.end_transaction()
    return Outcome(tag)


async def rollback(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    words = stmt.sql.split()
    if len(words) > 1 and words[1].upper() == "TO":
        if session.status == "E":
            session.status = "T"
        return Outcome("ROLLBACK")
    session.status = "I"
    session.end_transaction()
    return Outcome("ROLLBACK")


async def savepoint(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    return Outcome(stmt.kind)  # SAVEPOINT, RELEASE


# --- settings -----------------------------------------------------------------------------------

async def set_(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    await _set(session, stmt.sql)
    return Outcome("SET")


async def show(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    return Outcome("SHOW", _show(session, stmt.sql))


async def reset(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    words = stmt.sql.split()
    name = words[1].lower().rstrip(";").strip('"') if len(words) > 1 else "all"
    check_setting(name)
    if name == "all":
        session.settings.update({k: v for k, v in DEFAULT_SETTINGS.items() if k not in ("client_encoding",)})
    elif name in DEFAULT_SETTINGS:
        session.settings[name] = DEFAULT_SETTINGS[name]
    return Outcome("RESET")


def show_schema(sql: str) -> pa.Schema:
    """The columns SHOW returns (Describe)."""
    name = show_name(sql)
    return pa.schema([(name, pa.string())]) if name != "all" else SHOW_ALL_SCHEMA


async def _set(session: Session, sql: str) -> None:
    m = SET_STATEMENT.match(sql)
    if not m:
        if re.match(r"\s*SET\s+(SESSION\s+CHARACTERISTICS|TRANSACTION|CONSTRAINTS|ROLE|SESSION\s+AUTH)", sql,
                    re.I):
            return  # accepted: nothing to change on a read-only engine
        raise PGError("42601", f"syntax error in SET: {sql[:80]!r}")
    name = (m.group("name") or "timezone").lower().strip('"')
    value = m.group("value").strip()
    if name == "time zone":
        name = "timezone"
    vals = [v.strip() for v in re.findall(r"'(?:[^']|'')*'|[^,]+", value)]
    value = ", ".join(v[1:-1].replace("''", "'") if v.startswith("'") else v for v in vals)
    check_setting(name)
    if value.upper() == "DEFAULT":
        value = DEFAULT_SETTINGS.get(name, "")
    if name == "client_encoding":
        value = client_encoding(value)
    session.settings[name] = value
    if name in REPORTED:
        await session.send(p.parameter_status(REPORTED[name], value))


def client_encoding(value: str) -> str:
    """``UTF8`` for any spelling PostgreSQL takes for it (pg_char_to_encoding ignores case and
    punctuation, and a quoted value is a string: asyncpg sends ``'utf-8'``); other encodings are refused."""
    name = value.strip().strip("'\"")
    if re.sub(r"[^a-z0-9]", "", name.lower()) not in ("utf8", "unicode"):
        raise PGError("22023", f"client_encoding {name!r} is not supported: use UTF8")
    return "UTF8"


def show_name(sql: str) -> str:
    """The setting SHOW names (PostgreSQL's spellings with spaces folded to the GUC names)."""
    name = " ".join(sql.split()[1:]).rstrip(";").strip().lower().strip('"')
    return {"transaction isolation level": "transaction_isolation", "time zone": "timezone"}.get(name, name)


def _show(session: Session, sql: str) -> pa.Table:
    name = show_name(sql)
    if name == "all":
        items = sorted(session.settings.items())
        return pa.table([pa.array([k for k, _ in items]), pa.array([v for _, v in items]),
                         pa.array([""] * len(items))], schema=SHOW_ALL_SCHEMA)
    if name not in session.settings:
        raise PGError("42704", f'unrecognized configuration parameter "{name}"')
    return pa.table({REPORTED.get(name, name) if name in ("timezone", "datestyle", "intervalstyle") else name:
                     pa.array([session.settings[name]], pa.string())})


def check_setting(name: str) -> None:
    """SET and RESET change the session's settings only, never DuckDB's; a DuckDB setting's name
    (enable_external_access, allowed_directories, lock_configuration ...) is refused outright, so a
    client never believes it changed one. TimeZone and search_path are PostgreSQL's too."""
    if name in duckdb_settings() and name not in DEFAULT_SETTINGS and name not in ("timezone", "search_path"):
        raise PGError(INSUFFICIENT_PRIVILEGE, f'permission denied to set parameter "{name}"',
                      hint="DuckDB's settings are fixed on this server")


@functools.cache
def duckdb_settings() -> frozenset[str]:
    """The names of DuckDB's settings (lower case)."""
    con = duckdb.connect()
    try:
        return frozenset(r[0].lower() for r in con.execute("SELECT name FROM duckdb_settings()").fetchall())
    finally:
        con.close()


# --- prepared statements and portals ------------------------------------------------------------

async def discard(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    words = stmt.sql.split()
    session.statements = {k: v for k, v in session.statements.items() if k == ""}
    for name in list(session.portals):
        session.drop_portal(name)
    return Outcome("DISCARD " + (words[1].upper() if len(words) > 1 else "ALL"))


async def deallocate(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """DEALLOCATE [PREPARE] name | ALL: statements of SQL PREPARE and of the protocol's Parse share
    one namespace, as in PostgreSQL."""
    m = re.fullmatch(r"\s*DEALLOCATE\s+(?:PREPARE\s+)?(?P<name>\w+|\"(?:[^\"]|\"\")+\")\s*;?\s*", stmt.sql, re.I | re.S)
    if m is None:
        raise PGError("42601", "syntax error in DEALLOCATE: DEALLOCATE [PREPARE] name | ALL")
    name = _ident(m["name"])
    if m["name"].upper() == "ALL":
        session.statements = {k: v for k, v in session.statements.items() if k == ""}
        return Outcome("DEALLOCATE ALL")
    if name not in session.statements or not name:
        raise PGError("26000", f'prepared statement "{name}" does not exist')
    del session.statements[name]
    return Outcome("DEALLOCATE")


_PREPARE = re.compile(r"\s*PREPARE\s+(?P<name>\w+|\"(?:[^\"]|\"\")+\")\s*(?:\((?P<types>[^)]*(?:\([^)]*\)[^)]*)*)\))?"
                      r"\s+AS\s+(?P<query>.*?)\s*;?\s*$", re.I | re.S)
_EXECUTE = re.compile(r"\s*EXECUTE\s+(?P<name>\w+|\"(?:[^\"]|\"\")+\")\s*(?:\((?P<args>.*)\))?\s*;?\s*$", re.I | re.S)


def _ident(s: str) -> str:
    """An SQL identifier's name: quoted as written, unquoted folded to lower case."""
    return s[1:-1].replace('""', '"') if s.startswith('"') else s.lower()


async def prepare(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """PREPARE name [(type, ...)] AS statement: a named prepared statement, as Parse makes one."""
    m = _PREPARE.match(stmt.sql)
    if m is None:
        if re.match(r"\s*PREPARE\s+TRANSACTION\b", stmt.sql, re.I):
            raise PGError("0A000", "PREPARE TRANSACTION is not supported: lowcode_sql has no two-phase commit")
        raise PGError("42601", "syntax error in PREPARE: PREPARE name [(type, ...)] AS statement")
    name = _ident(m["name"])
    if name in session.statements:
        raise PGError("42P05", f'prepared statement "{name}" already exists')
    types = [t.strip() for t in re.split(r",(?![^()]*\))", m["types"] or "") if t.strip()]
    oids = [await _type_oid(session, t) for t in types]
    prepared = session.prepare(m["query"], oids)
    if prepared.kind in ("PREPARE", "EXECUTE", "DEALLOCATE"):
        raise PGError("42601", f'syntax error at or near "{prepared.kind}"')
    prepared.sql_types = types
    session.statements[name] = prepared
    return Outcome("PREPARE")


async def execute(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """EXECUTE name [(value, ...)]: the values are expressions, evaluated (cast to the PREPARE's
    types) before the statement runs with them as its parameters."""
    target, args = execute_target(session, stmt.sql)
    values: list[Any] = []
    if args:
        if len(args) != max(target.nparams, len(target.param_oids)):
            raise PGError("42601", f"wrong number of parameters for prepared statement: expected "
                                   f"{max(target.nparams, len(target.param_oids))}, got {len(args)}")
        exprs = [f"CAST(({a}) AS {target.sql_types[i]})" if i < len(target.sql_types) else f"({a})"
                 for i, a in enumerate(args)]
        t = session.translate("SELECT " + ", ".join(exprs))
        row = await session.query(t, "SELECT", list(params))
        values = [c[0].as_py() for c in row.columns]
    elif target.nparams:
        raise PGError("42601", f"wrong number of parameters for prepared statement: expected {target.nparams}, "
                               "got 0")
    portal = Portal(target, values, [])
    await session.run_portal(portal)
    assert portal.outcome is not None
    return portal.outcome


def execute_target(session: Session, sql: str) -> tuple[Prepared, list[str]]:
    """The prepared statement EXECUTE names and its argument expressions (split at top-level commas)."""
    m = _EXECUTE.match(sql)
    if m is None:
        raise PGError("42601", "syntax error in EXECUTE: EXECUTE name [(value, ...)]")
    name = _ident(m["name"])
    target = session.statements.get(name)
    if target is None or not name:
        raise PGError("26000", f'prepared statement "{name}" does not exist')
    return target, _split_args(m["args"] or "")


def _split_args(text: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


async def _type_oid(session: Session, name: str) -> int:
    """A type name's OID, by DuckDB's binder on the translated cast."""
    t = session.translate(f"SELECT CAST(NULL AS {name})")
    table = await session.query(t, "SELECT", [])
    return pg_type_for_arrow(table.schema[0].type)[0]


_EXPLAIN = re.compile(r"\s*EXPLAIN\s+(?P<opts>(?:\([^)]*\)\s*|(?:ANALY[SZ]E|VERBOSE)\s+)*)(?P<q>.*)$", re.I | re.S)
_OPTION = re.compile(r"(\w+)(?:\s+(\w+))?")


def explain_options(opts: str) -> tuple[bool, str]:
    """(analyze, format) from EXPLAIN's options: ``ANALYZE``, ``(ANALYZE [true|on|1|false|...],
    FORMAT JSON|TEXT, VERBOSE ...)`` (PostgreSQL's sql-explain.html; other options are accepted and
    change nothing here)."""
    fmt = "text"
    analyze = re.search(r"\bANALY[SZ]E\b", re.sub(r"\([^)]*\)", "", opts), re.I) is not None
    for group in re.findall(r"\(([^)]*)\)", opts):
        for item in group.split(","):
            m = _OPTION.match(item.strip())
            if not m:
                continue
            name, value = m.group(1).lower(), (m.group(2) or "true").lower()
            if name in ("analyze", "analyse"):
                analyze = value in ("true", "on", "1", "yes")
            elif name == "format":
                if value not in ("text", "json"):
                    raise PGError("0A000", f"EXPLAIN format {value.upper()} is not available: TEXT or JSON")
                fmt = value
    return analyze, fmt


async def explain(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """EXPLAIN answers with lowcode_sql's own plan: what each scan pushes to the platform and the
    requests it sends (``Connection.explain``), one text row per line like PostgreSQL's.
    ``EXPLAIN ANALYZE`` (or ``(ANALYZE)``) runs the query and adds what each scan actually cost;
    ``FORMAT JSON`` (with ANALYZE) answers one row holding the JSON document."""
    m = _EXPLAIN.match(stmt.sql)
    query = m.group("q") if m else ""
    analyze, fmt = explain_options(m.group("opts") if m else "")
    if fmt == "json" and not analyze:
        raise PGError("0A000", "EXPLAIN (FORMAT JSON) needs ANALYZE here: the plan itself is text")
    t = session.translate(query)
    if t.target != "engine":
        text = "catalog query: answered by lowcode_sql's pg_catalog emulation (no platform requests)"
    elif analyze:
        with session.cancellable():
            text = await session.guarded(session.in_thread(functools.partial(
                session.server.pool.explain, t.sql, list(params) or None, analyze=True, fmt=fmt, pid=session.pid,
                cancelled=lambda: session.cancelled)))
        session.check_cancel()
    else:
        text = await session.in_thread(session.server.pool.explain, t.sql, list(params) or None)
    lines = [text] if fmt == "json" else text.splitlines()
    return Outcome("EXPLAIN", pa.table({"QUERY PLAN": pa.array(lines, pa.string())}))


HANDLERS: dict[str, Handler] = {
    "BEGIN": begin, "START": begin, "COMMIT": commit, "END": commit, "ROLLBACK": rollback, "ABORT": rollback,
    "SAVEPOINT": savepoint, "RELEASE": savepoint,
    "SET": set_, "SHOW": show, "RESET": reset,
    "DISCARD": discard, "DEALLOCATE": deallocate, "PREPARE": prepare, "EXECUTE": execute,
    "DECLARE": cursors.declare, "FETCH": cursors.fetch, "MOVE": cursors.fetch, "CLOSE": cursors.close,
    "COPY": copy.copy,
    "EXPLAIN": explain,
}
UNSUPPORTED = frozenset({"LISTEN", "UNLISTEN", "NOTIFY", "VACUUM", "ANALYZE", "LOCK"})
