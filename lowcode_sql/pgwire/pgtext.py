"""PostgreSQL spellings fixed before a statement is translated (``Session.translate``), for clients'
SQL that sqlglot or DuckDB read otherwise:

- a keyword as a bare output name (``has_table_privilege(...) as select``, Metabase's privileges
  query): PostgreSQL takes any keyword after AS (gram.y, ``ColLabel``), sqlglot refuses ``select``
  and ``not`` there, so those are quoted;
- ``clock_timestamp()`` and ``statement_timestamp()`` (pgAdmin, psql scripts): DuckDB has neither;
  each statement runs in its own DuckDB transaction, so DuckDB's ``now()`` is the statement's start;
- a scalar function returning an array in FROM (Grafana's table list:
  ``string_to_array(current_setting('search_path'),',') s``): PostgreSQL reads it as a one-row
  table whose column has the alias's name; DuckDB wants a table function there, so it becomes
  ``(SELECT string_to_array(...) AS s) AS s``.

Text outside string literals, quoted identifiers and comments is touched only."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

__all__ = ["backend_pid", "pg_text"]

_SKIP = r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\$\$.*?\$\$"
_KEYWORD_ALIAS = re.compile(rf"({_SKIP})|\bAS(\s+)(select|not)\b(?=\s*(?:,|\)|\bFROM\b|;|$))", re.I | re.S)
_CLOCK = re.compile(rf"({_SKIP})|\b(?:pg_catalog\s*\.\s*)?(clock_timestamp|statement_timestamp)\s*\(\s*\)",
                    re.I | re.S)
# scalar functions PostgreSQL clients call in FROM for their array value
_ARRAY_SCALARS = ("string_to_array", "regexp_split_to_array", "current_schemas")
_ARRAY_IN_FROM = re.compile(r"\b(" + "|".join(_ARRAY_SCALARS) + r")\s*\(", re.I)


def pg_text(sql: str) -> str:
    """``sql`` with the spellings above rewritten (unchanged if none occurs)."""
    if re.search(r"\bAS\s+(select|not)\b", sql, re.I):
        sql = _KEYWORD_ALIAS.sub(lambda m: m.group(1) or f'AS{m.group(2)}"{m.group(3).lower()}"', sql)
    if re.search(r"(clock|statement)_timestamp", sql, re.I):
        sql = _CLOCK.sub(lambda m: m.group(1) or "now()", sql)
    if _ARRAY_IN_FROM.search(sql):
        sql = _array_functions_in_from(sql)
    return sql


def _array_functions_in_from(sql: str) -> str:
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
    except SqlglotError:
        return sql  # translate() reports the syntax error
    changed = False
    for table in list(tree.find_all(exp.Table)):
        fn = table.this
        if not isinstance(fn, exp.Func):
            continue
        name = str(fn.name).lower() if isinstance(fn, exp.Anonymous) else fn.sql_name().lower()
        if name not in _ARRAY_SCALARS:
            continue
        alias = table.alias or "unnamed"
        sub = exp.select(exp.alias_(fn.copy(), alias, quoted=False)).subquery(alias)
        table.replace(sub)
        changed = True
    return tree.sql(dialect="postgres") if changed else sql


_BACKEND_PID = re.compile(rf"({_SKIP})|\b(?:pg_catalog\s*\.\s*)?pg_backend_pid\s*\(\s*\)", re.I | re.S)


def backend_pid(sql: str, pid: int) -> str:
    """``pg_backend_pid()`` as the session's pid (the one in BackendKeyData and pg_stat_activity):
    ``pg_backend_pid(<pid>)``, a macro (``pgsemantics``), so the column keeps PostgreSQL's name."""
    if "pg_backend_pid" not in sql.lower():
        return sql
    return _BACKEND_PID.sub(lambda m: m.group(1) or f"pg_backend_pid({int(pid)})", sql)
