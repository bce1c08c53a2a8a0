"""Bind query parameters (``?``, ``$1``, ``$name``) into the AST as literals before planning,
so a bound value is pushed down exactly like a literal written in the SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlglot import exp

from lowcode_sql.errors import ParameterError

__all__ = ["bind_params", "number_qmarks", "to_literal"]


def to_literal(value: Any) -> exp.Expr:
    """A Python value as a typed SQL literal."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, float):
        return exp.cast(exp.Literal.string(repr(value)), "DOUBLE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo else "TIMESTAMP"
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), kind)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, dt.time):
        return exp.cast(exp.Literal.string(value.isoformat()), "TIME")
    if isinstance(value, bytes | bytearray | memoryview):
        # a BLOB literal spelled as \xNN escapes: exact for every byte, quotes and backslashes included
        return exp.cast(exp.Literal.string("".join(f"\\x{b:02X}" for b in bytes(value))), "BLOB")
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[to_literal(v) for v in value])
    raise ParameterError(f"cannot bind a parameter of type {type(value).__name__}")


def number_qmarks(sql: str) -> tuple[str, int]:
    """``?`` placeholders rewritten as ``$1, $2, ...`` in textual order, and how many there were.

    sqlglot's tree order is not the text's (``SELECT CAST(? AS INT), ?``; LIMIT before WHERE), so
    ``?`` is numbered on the tokens, before parsing. Strings and comments are left alone.
    """
    if "?" not in sql:
        return sql, 0
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    try:
        tokens = DuckDB().tokenize(sql)
    except SqlglotError:
        return sql, 0  # the parser reports the syntax error
    marks = [t.start for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    out, last = [], 0
    for n, pos in enumerate(marks, 1):
        out += [sql[last:pos], f"${n}"]
        last = pos + 1
    out.append(sql[last:])
    return "".join(out), len(marks)


def bind_params(tree: exp.Expr, params: Sequence[Any] | dict[str, Any]) -> None:
    """Replace placeholders in place. ``?`` takes values in order (see ``number_qmarks``); ``$n``
    the n-th (1-based); ``$name`` a key of a mapping."""
    placeholders = list(tree.find_all(exp.Placeholder, exp.Parameter))
    position = 0
    for ph in placeholders:
        key = ph.name if isinstance(ph, exp.Placeholder) else ph.this.name if ph.this else ""
        if isinstance(params, dict):
            if key not in params:
                raise ParameterError(f"no value for parameter ${key}")
            value = params[key]
        elif key and key.isdigit():
            idx = int(key) - 1
            if not 0 <= idx < len(params):
                raise ParameterError(f"no value for parameter ${key} ({len(params)} given)")
            value = params[idx]
        else:
            if position >= len(params):
                raise ParameterError(f"the query has more '?' parameters than the {len(params)} given")
            value = params[position]
            position += 1
        ph.replace(to_literal(value))
    if not isinstance(params, dict) and position and position != len(params):
        raise ParameterError(f"{len(params)} parameters given but the query uses {position}")
