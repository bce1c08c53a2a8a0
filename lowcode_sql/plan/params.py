"""Bind query parameters (``?``, ``$1``, ``$name``) into the AST as literals before planning,
so a bound value is pushed down exactly like a literal written in the SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlglot import exp

from lowcode_sql.errors import UnsupportedQuery

__all__ = ["bind_params", "to_literal"]


def to_literal(value: Any) -> exp.Expression:
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
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[to_literal(v) for v in value])
    raise UnsupportedQuery(f"cannot bind a parameter of type {type(value).__name__}")


def bind_params(tree: exp.Expression, params: Sequence[Any] | dict[str, Any]) -> None:
    """Replace placeholders in place. ``?`` takes values in order; ``$n`` the n-th (1-based);
    ``$name`` a key of a mapping."""
    placeholders = list(tree.find_all(exp.Placeholder, exp.Parameter))
    position = 0
    for ph in placeholders:
        key = ph.name if isinstance(ph, exp.Placeholder) else ph.this.name if ph.this else ""
        if isinstance(params, dict):
            if key not in params:
                raise UnsupportedQuery(f"no value for parameter ${key}")
            value = params[key]
        elif key and key.isdigit():
            idx = int(key) - 1
            if not 0 <= idx < len(params):
                raise UnsupportedQuery(f"no value for parameter ${key} ({len(params)} given)")
            value = params[idx]
        else:
            if position >= len(params):
                raise UnsupportedQuery(f"the query has more '?' parameters than the {len(params)} given")
            value = params[position]
            position += 1
        ph.replace(to_literal(value))
    if not isinstance(params, dict) and position and position != len(params):
        raise UnsupportedQuery(f"{len(params)} parameters given but the query uses {position}")
