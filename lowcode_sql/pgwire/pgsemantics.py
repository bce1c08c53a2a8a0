"""PostgreSQL's arithmetic and function semantics on the wire server's DuckDB connections.

Types come from DuckDB's own binder, never from a guess over the syntax, so any nesting
(subqueries, CTEs, views, the wrappers BI tools put around every query) is typed right:

* ``integer_division``: DuckDB's ``/`` then divides integers as PostgreSQL does (``10 / 4`` is
  ``2``, truncated toward zero) and every other mix (numeric, float) as before. The setting is
  global on the served connections (the pool's engines, their constant folders, the catalog
  DuckDB), set before their configuration is locked (``execute/duck.py``).
* ``sum(x)``: PostgreSQL's ``sum(int8)`` is ``numeric`` (``sum(bigint) / count(*)`` is
  1149.5, not 1149); DuckDB's is HUGEINT, which divides as an integer. ``sum(x)`` becomes
  ``sum(pg_sum_arg(x))``, a macro overloaded on the argument's type (DuckDB picks the overload
  when it binds the argument): 64-bit (and wider) integers are summed as DECIMAL(38,0), everything
  else unchanged. The aggregate stays a ``sum`` for the planner.
* ``format()``: PostgreSQL's ``%s``, ``%I``, ``%L``, ``%%``, positions (``%2$s``), the ``-``
  flag and widths, rewritten into string expressions when the format string is a literal (DuckDB's
  own ``format`` has another syntax: ``{}``). https://www.postgresql.org/docs/current/functions-string.html
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa
import sqlglot
from sqlglot import exp

__all__ = ["PG_GLOBAL_SETTINGS", "PG_MACROS", "int4_results", "rewrite_format", "rewrite_sums"]

PG_GLOBAL_SETTINGS: dict[str, str] = {"integer_division": "true"}

# Exact-type overloads first: DuckDB's overload choice for a type without one is not the
# cheapest cast (a TINYINT argument picks BIGINT over the untyped form), so every integer type
# has its own.
_KEEP = ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT")
_WIDE = ("BIGINT", "HUGEINT", "UINTEGER", "UBIGINT")
PG_MACROS: tuple[str, ...] = (
    "CREATE OR REPLACE MACRO pg_sum_arg"
    + ", ".join([f"(x {t}) AS x" for t in _KEEP] + [f"(x {t}) AS CAST(x AS DECIMAL(38, 0))" for t in _WIDE]
                + ["(x) AS x"]),
    # octet_length(text) is its UTF-8 byte count (DuckDB's octet_length takes BLOB/BIT only)
    "CREATE OR REPLACE MACRO pg_octet_length(x BLOB) AS CAST(octet_length(x) AS INTEGER), "
    "(x VARCHAR) AS CAST(strlen(x) AS INTEGER)",
    # PostgreSQL's quoting functions (functions-string.html), which DuckDB does not have; a
    # backslash makes quote_literal an E'' literal with doubled backslashes, as PostgreSQL does
    r"""CREATE OR REPLACE MACRO quote_ident(x) AS CASE
        WHEN regexp_full_match(CAST(x AS VARCHAR), '[a-z_][a-z0-9_$]*') THEN CAST(x AS VARCHAR)
        ELSE '"' || replace(CAST(x AS VARCHAR), '"', '""') || '"' END""",
    r"""CREATE OR REPLACE MACRO quote_literal(x) AS CASE
        WHEN contains(CAST(x AS VARCHAR), '\')
        THEN 'E''' || replace(replace(CAST(x AS VARCHAR), '\', '\\'), '''', '''''') || ''''
        ELSE '''' || replace(CAST(x AS VARCHAR), '''', '''''') || '''' END""",
    "CREATE OR REPLACE MACRO quote_nullable(x) AS coalesce(quote_literal(x), 'NULL')",
)


def rewrite_sums(tree: exp.Expr,
                 source_type: Callable[[exp.Column], pa.DataType | None] = lambda _: None) -> None:
    """``sum(x)`` -> ``sum(pg_sum_arg(x))`` (module docstring); DISTINCT, FILTER and OVER are kept.

    ``source_type`` gives the type of a column read straight from a source table (the catalog's
    schema, exact): such a ``sum(col)`` stays as it is, so the planner can still push it to the
    platform (Totalum, Slingr aggregate), with a cast to numeric outside for 64-bit integers."""
    for node in list(tree.find_all(exp.Sum)):
        arg = node.this
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) == 1:
                inner = arg.expressions[0]
                inner.replace(exp.Anonymous(this="pg_sum_arg", expressions=[inner.copy()]))
            continue
        if not isinstance(arg, exp.Expression):
            continue
        plain = not isinstance(node.parent, exp.Window | exp.Filter) and isinstance(arg, exp.Column)
        kind = source_type(arg) if plain and isinstance(arg, exp.Column) else None
        if kind is None:
            arg.replace(exp.Anonymous(this="pg_sum_arg", expressions=[arg.copy()]))
        elif pa.types.is_int64(kind) or pa.types.is_uint32(kind) or pa.types.is_uint64(kind):
            node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("DECIMAL(38, 0)")))


# functions whose PostgreSQL result is int4 whatever the argument (DuckDB's are BIGINT)
_INT4_FUNCS = (exp.Length, exp.StrPosition)
_INT4_WINDOW = frozenset({"ntile"})


def int4_results(tree: exp.Expr) -> None:
    """Cast the results of functions PostgreSQL types ``int4`` to INTEGER, and
    ``octet_length(text)`` to its byte count."""
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == "octet_length" and len(node.expressions) == 1:
            node.replace(exp.Anonymous(this="pg_octet_length", expressions=[node.expressions[0].copy()]))
    for result in list(tree.find_all(exp.Length, exp.StrPosition, exp.Window)):
        if isinstance(result, exp.Window):
            fn = result.this
            name = fn.name.lower() if isinstance(fn, exp.Anonymous) else fn.sql_name().lower()
            if name not in _INT4_WINDOW:
                continue
        elif isinstance(result.parent, exp.Cast):
            continue
        result.replace(exp.Cast(this=result.copy(), to=exp.DataType.build("INT")))


_SPEC = re.compile(r"%(?:(\d+)\$)?(-)?(\d+)?([sIL%])")


def _d(node: exp.Expr) -> str:
    return node.sql(dialect="duckdb")


def _text(arg: exp.Expr) -> str:
    return f"CAST({_d(arg)} AS VARCHAR)"


def _piece(kind: str, arg: exp.Expr) -> str:
    v = _text(arg)
    if kind == "s":
        return f"COALESCE({v}, '')"
    if kind == "I":
        # quote_ident: quoted unless a plain lower-case identifier (PostgreSQL also quotes keywords)
        return (f"CASE WHEN {v} IS NULL THEN error('null values cannot be formatted as an SQL identifier') "
                f"WHEN regexp_full_match({v}, '[a-z_][a-z0-9_$]*') THEN {v} "
                f"ELSE '\"' || replace({v}, '\"', '\"\"') || '\"' END")
    # %L: quote_nullable; a backslash makes it an E'' literal with doubled backslashes
    return (f"CASE WHEN {v} IS NULL THEN 'NULL' "
            f"WHEN contains({v}, '\\') THEN 'E''' || replace(replace({v}, '\\', '\\\\'), '''', '''''') || '''' "
            f"ELSE '''' || replace({v}, '''', '''''') || '''' END")


def _format_sql(fmt: str, args: list[exp.Expr]) -> str:
    parts: list[str] = []
    pos = 0  # PostgreSQL: the next unpositioned specifier takes the argument after the last one used
    last = 0
    for m in _SPEC.finditer(fmt):
        if m.start() > last:
            parts.append(exp.Literal.string(fmt[last:m.start()]).sql(dialect="duckdb"))
        last = m.end()
        position, left, width, kind = m.groups()
        if kind == "%":
            parts.append("'%'")
            continue
        index = int(position) - 1 if position else pos
        if index < 0:
            raise ValueError("format specifies argument 0, but arguments are numbered from 1")
        if index >= len(args):
            raise ValueError("too few arguments for format()")
        pos = index + 1
        piece = _piece(kind, args[index])
        if width:
            pad = "rpad" if left else "lpad"
            piece = f"{pad}({piece}, CAST(greatest({int(width)}, length({piece})) AS INTEGER), ' ')"
        parts.append(piece)
    rest = fmt[last:]
    if "%" in rest:
        raise ValueError(f"unrecognized format() type specifier in {rest!r}")
    if rest:
        parts.append(exp.Literal.string(rest).sql(dialect="duckdb"))
    return "concat(" + ", ".join(parts or ["''"]) + ")"


def rewrite_format(tree: exp.Expr) -> None:
    """PostgreSQL's ``format(fmt, ...)`` with a literal ``fmt`` -> string expressions; any other
    ``format`` is refused (DuckDB's would silently read another syntax)."""
    for node in list(tree.find_all(exp.Format)):
        fmt = node.this
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise NotImplementedError("format() needs a literal format string on this server")
        args = list(node.expressions)
        try:
            sql = _format_sql(fmt.this, args)
        except ValueError as e:
            raise SyntaxError(str(e)) from None
        node.replace(sqlglot.parse_one(sql, read="duckdb"))
