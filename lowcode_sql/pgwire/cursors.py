"""SQL cursors: DECLARE, FETCH / MOVE, CLOSE. A cursor is a named portal holding its query's whole
result (psqlODBC's UseDeclareFetch reads results this way), read forward by FETCH."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lowcode_sql.pgwire.errors import PGError
from lowcode_sql.pgwire.statements import Outcome, Portal, Prepared

if TYPE_CHECKING:
    from lowcode_sql.pgwire.session import Session

__all__ = ["close", "declare", "declared_query", "fetch", "fetch_schema", "ident"]

DECLARE = re.compile(r"\s*DECLARE\s+(?P<name>\"(?:[^\"]|\"\")+\"|\S+)\s+(?:BINARY\s+)?"
                     r"(?:A?SENSITIVE\s+|INSENSITIVE\s+)?"
                     r"(?:NO\s+)?(?:SCROLL\s+)?CURSOR\s+(?P<hold>(?:WITH|WITHOUT)\s+HOLD\s+)?FOR\s+(?P<query>.*)$",
                     re.I | re.S)
FETCH = re.compile(r"\s*(?:FETCH|MOVE)\s+(?:(?P<dir>NEXT|PRIOR|FIRST|LAST|ALL|ABSOLUTE\s+-?\d+|RELATIVE\s+-?\d+|"
                   r"FORWARD(?:\s+(?:ALL|\d+))?|BACKWARD(?:\s+(?:ALL|\d+))?|[+]?\d+)\s+)?(?:(?:FROM|IN)\s+)?"
                   r"(?P<name>\"(?:[^\"]|\"\")+\"|[^\s;]+)\s*;?\s*$", re.I | re.S)


async def declare(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """DECLARE name [BINARY] [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query: the query runs now, to the end
    (psqlODBC's UseDeclareFetch); FETCH then reads it forward. Without a transaction block, or WITH
    HOLD, it outlives the transaction."""
    sql = stmt.sql
    m = DECLARE.match(sql)
    if not m:
        raise PGError("42601", "syntax error in DECLARE")
    name = ident(m.group("name"))
    if name in session.portals:
        raise PGError("42P03", f'cursor "{name}" already exists')
    query = m.group("query")
    t = session.translate(query)
    table = await session.query(t, query, params)
    holdable = bool(m.group("hold")) and m.group("hold").upper().startswith("WITH")
    portal = Portal(Prepared(query, [], "SELECT", t), [], [], Outcome("SELECT", table),
                    holdable=holdable or session.status == "I", is_cursor=True)
    session.portals[name] = portal
    return Outcome("DECLARE CURSOR")


async def fetch(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """FETCH / MOVE [direction] [FROM | IN] name: forward only."""
    sql, kind = stmt.sql, stmt.kind
    m = FETCH.match(sql)
    if not m:
        raise PGError("42601", f"syntax error in {kind}")
    name = ident(m.group("name"))
    cur = session.portals.get(name)
    if cur is None or cur.outcome is None or cur.outcome.table is None:
        raise PGError("34000", f'cursor "{name}" does not exist')
    direction = (m.group("dir") or "NEXT").upper().split()
    table = cur.outcome.table
    remaining = table.num_rows - cur.pos
    if direction[0] in ("NEXT",):
        n = 1
    elif direction[0] == "ALL" or direction[-1] == "ALL":
        n = remaining
    elif direction[0] == "FORWARD":
        n = int(direction[1]) if len(direction) > 1 else 1
    elif direction[0].lstrip("+").isdigit():
        n = int(direction[0])
    elif direction[0] == "ABSOLUTE" and len(direction) > 1 and int(direction[1]) - 1 >= cur.pos:
        cur.pos = min(int(direction[1]) - 1, table.num_rows)
        n = 1
    else:
        raise PGError("0A000", f"cursor can only scan forward ({' '.join(direction)} is not supported)")
    n = max(0, min(n, remaining))
    rows = table.slice(cur.pos, n)
    cur.pos += n
    if kind == "MOVE":
        return Outcome(f"MOVE {n}")
    return Outcome("FETCH", rows)


async def close(session: Session, stmt: Prepared, params: list[Any]) -> Outcome:
    """CLOSE name | ALL."""
    sql, words = stmt.sql, stmt.sql.split()
    name = sql.split(None, 1)[1].strip().rstrip(";").strip() if len(words) > 1 else ""
    if name.upper() == "ALL":
        for k in [k for k, v in session.portals.items() if v.is_cursor]:
            del session.portals[k]
    elif session.portals.pop(ident(name), None) is None:
        raise PGError("34000", f'cursor "{ident(name)}" does not exist')
    return Outcome("CLOSE CURSOR")


def declared_query(sql: str) -> str | None:
    """The query of a DECLARE statement (None if it is not one)."""
    m = DECLARE.match(sql)
    return m.group("query") if m else None


def fetch_schema(session: Session, sql: str) -> pa.Schema | None:
    """The columns a FETCH statement returns (Describe): its cursor's."""
    m = FETCH.match(sql)
    portal = session.portals.get(ident(m.group("name"))) if m else None
    return portal.outcome.table.schema if portal and portal.outcome and portal.outcome.table else None


def ident(name: str) -> str:
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name.lower()
