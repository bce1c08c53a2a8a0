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
* ``a / b`` -> ``pg_div(a, b, a, b)``, ``avg(x)`` -> ``pg_avg(avg(x), x)``, ``sum`` ->
  ``pg_sum_result(sum(...), x)``, ``x::numeric`` -> ``pg_numeric(x, x)``: macros overloaded on
  the types of their last arguments, which are *type probes*: DuckDB binds them to pick the
  overload, and drops them because the chosen body never uses them (so a probe outside its
  aggregate costs nothing and is never evaluated). The overload gives PostgreSQL's result type:
  numeric / numeric (or integer) is numeric (DuckDB: DOUBLE), ``avg`` of integers and numerics is
  numeric (DuckDB: DOUBLE), ``sum`` of int2/int4 is int8 (DuckDB: HUGEINT), ``sum(float4)`` is
  float4, and a bare ``numeric`` cast keeps every digit of its argument (DuckDB's bare DECIMAL is
  DECIMAL(18,3)). Values are never passed through a typed parameter: DuckDB would cast them to
  the parameter's bare type (DECIMAL(18,3)).
* ``format()``: PostgreSQL's ``%s``, ``%I``, ``%L``, ``%%``, positions (``%2$s``), the ``-``
  flag and widths, rewritten into string expressions when the format string is a literal (DuckDB's
  own ``format`` has another syntax: ``{}``). https://www.postgresql.org/docs/current/functions-string.html
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Sequence

import pyarrow as pa
import sqlglot
from sqlglot import exp

__all__ = ["PG_GLOBAL_SETTINGS", "PG_MACROS", "duckdb_function_names", "int4_results", "rewrite_format",
           "rewrite_sums", "rewrite_types"]

PG_GLOBAL_SETTINGS: dict[str, str] = {"integer_division": "true"}

# Exact-type overloads first: DuckDB's overload choice for a type without one is not the
# cheapest cast (a TINYINT argument picks BIGINT over the untyped form), so every integer type
# has its own.
_KEEP = ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT")
_WIDE = ("BIGINT", "HUGEINT", "UINTEGER", "UBIGINT")
_INTS = (*_KEEP, *_WIDE)
# numeric results are computed in double precision (DuckDB divides and averages DECIMAL so) and
# kept to PostgreSQL's 16 fraction digits, through the shortest text of the double (a direct
# DOUBLE -> DECIMAL cast of a large value is off in the sixth digit); beyond 10**22 the cast fails
# with an error rather than giving a wrong number
_AS_NUMERIC = "CAST(CAST(CAST({} AS DOUBLE) AS VARCHAR) AS DECIMAL(38, 16))"
_NUMERIC_QUOTIENT = _AS_NUMERIC.format("CAST(a AS DOUBLE) / CAST(b AS DOUBLE)")
_FLOAT8_QUOTIENT = "CAST(a AS DOUBLE) / CAST(b AS DOUBLE)"


def _overloads(name: str, params: str, cases: Sequence[tuple[tuple[str, ...], str]], default: str) -> str:
    """A macro ``name(params..., probes...)`` with one overload per tuple of probe types (exact
    integer types listed one by one: DuckDB would otherwise pick a DECIMAL overload for them)."""
    lead = f"{params}, " if params else ""
    body = [f"({lead}{', '.join(f'p{i} {t}' for i, t in enumerate(types))}) AS {expr}"
            for types, expr in cases]
    probes = ", ".join(f"p{i}" for i in range(len(cases[0][0])))
    return f"CREATE OR REPLACE MACRO {name}" + ", ".join([*body, f"({lead}{probes}) AS {default}"])


PG_MACROS: tuple[str, ...] = (
    _overloads("pg_div", "a, b",
               [(("DECIMAL", "DECIMAL"), _NUMERIC_QUOTIENT)]
               + [(("DECIMAL", t), _NUMERIC_QUOTIENT) for t in _INTS]
               + [((t, "DECIMAL"), _NUMERIC_QUOTIENT) for t in _INTS]
               + [((x, y), "a // b") for x in _INTS for y in _INTS]
               # float4 with an integer or numeric is float8 in PostgreSQL (float48div), float4 in DuckDB
               + [((f, t), _FLOAT8_QUOTIENT) for t in (*_INTS, "DECIMAL") for f in ("FLOAT",)]
               + [((t, f), _FLOAT8_QUOTIENT) for t in (*_INTS, "DECIMAL") for f in ("FLOAT",)], "a / b"),
    _overloads("pg_avg", "s", [(("DECIMAL",), _AS_NUMERIC.format("s"))]
               + [((t,), _AS_NUMERIC.format("s")) for t in _INTS], "s"),
    _overloads("pg_sum_result", "s", [((t,), "CAST(s AS BIGINT)") for t in _KEEP]
               + [((t,), "s") for t in ("BIGINT", "DECIMAL", "DOUBLE")] + [(("FLOAT",), "CAST(s AS FLOAT)")], "s"),
    # the types of sum() and avg() for a probe (DuckDB cannot type an aggregate inside a macro's
    # arguments: ``_probe`` replaces each by a NULL of its type, or by its argument's probe)
    _overloads("pg_sum_probe", "", [((t,), "CAST(NULL AS BIGINT)") for t in _KEEP]
               + [((t,), "CAST(NULL AS DECIMAL(38, 0))") for t in ("DECIMAL", *_WIDE)]
               + [(("FLOAT",), "CAST(NULL AS FLOAT)")], "p0"),
    _overloads("pg_avg_probe", "", [((t,), "CAST(NULL AS DECIMAL(38, 16))") for t in ("DECIMAL", *_INTS)], "p0"),
    # an integer's numeric is only as wide as the integer: VALUES and UNION make one type of all
    # their rows, and DECIMAL(38, 0) with any fraction digits has no common type but DECIMAL(38, 0)
    # (VALUES (1::numeric), (2.5::numeric) would be 1 and 3)
    _overloads("pg_numeric", "x", [(("DECIMAL",), "x"), (("HUGEINT",), "CAST(x AS DECIMAL(38, 0))")]
               + [((t,), "CAST(x AS DECIMAL(20, 0))") for t in _INTS if t != "HUGEINT"],
               "CAST(x AS DECIMAL(38, 10))"),
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
    # parse_ident('s.t') -> ['s', 't'] (Grafana's column list): quoted parts keep their case and
    # dots, unquoted ones are lower-cased, as PostgreSQL's (functions-string.html)
    r"""CREATE OR REPLACE MACRO parse_ident(x) AS list_transform(
        regexp_extract_all(CAST(x AS VARCHAR), '"(?:[^"]|"")*"|[^."]+'),
        lambda p: CASE WHEN starts_with(p, '"') THEN replace(p[2:-2], '""', '"') ELSE lower(trim(p)) END)""",
    # the session's pid, written into the call by pgtext.backend_pid
    "CREATE OR REPLACE MACRO pg_backend_pid(p) AS CAST(p AS INTEGER)",
)


def rewrite_sums(tree: exp.Expr,
                 source_type: Callable[[exp.Column], pa.DataType | None] = lambda _: None) -> None:
    """``sum(x)`` -> ``pg_sum_result(sum(pg_sum_arg(x)), x)`` (module docstring); DISTINCT, FILTER
    and OVER are kept.

    ``source_type`` gives the type of a column read straight from a source table (the catalog's
    schema, exact): such a ``sum(col)`` stays as it is, so the planner can still push it to the
    platform (Totalum, Slingr aggregate), with PostgreSQL's result type as a cast outside."""
    for node in list(tree.find_all(exp.Sum)):
        arg = node.this
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) == 1:
                inner = arg.expressions[0]
                probe = _probe(inner)
                inner.replace(exp.Anonymous(this="pg_sum_arg", expressions=[inner.copy()]))
                _probed(node, "pg_sum_result", probe)
            continue
        if not isinstance(arg, exp.Expression):
            continue
        plain = not isinstance(node.parent, exp.Window | exp.Filter) and isinstance(arg, exp.Column)
        kind = source_type(arg) if plain and isinstance(arg, exp.Column) else None
        if kind is None:
            probe = _probe(arg)
            arg.replace(exp.Anonymous(this="pg_sum_arg", expressions=[arg.copy()]))
            _probed(node, "pg_sum_result", probe)
        elif pa.types.is_int64(kind) or pa.types.is_uint32(kind) or pa.types.is_uint64(kind):
            node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("DECIMAL(38, 0)")))
        elif pa.types.is_integer(kind):
            node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("BIGINT")))
        elif pa.types.is_float32(kind):
            node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build("FLOAT")))


class _NoProbe(Exception):
    """An expression with an aggregate ``_probe`` does not know the type of."""


@functools.cache
def duckdb_function_names(*kinds: str) -> frozenset[str]:
    """The (lower-case) names of DuckDB's functions of these ``function_type``s, read from the
    process's scratch database (no host access, no extension loaded: DuckDB's own functions). A
    database opened for it cost ~40 ms in the server's first query."""
    from lowcode_sql.execute.duck import scratch_cursor

    con = scratch_cursor()
    try:
        rows = con.execute("SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
                           "WHERE list_contains(?, function_type)", [list(kinds)]).fetchall()
    finally:
        con.close()
    return frozenset(r[0] for r in rows)


def _agg_arg(node: exp.Expr) -> exp.Expr:
    arg = node.this
    if isinstance(arg, exp.Distinct) and arg.expressions:
        return arg.expressions[0]
    if not isinstance(arg, exp.Expression):
        raise _NoProbe
    return arg


_SAME_TYPE_AGGS = (exp.Max, exp.Min, exp.AnyValue, exp.First, exp.Last)
_PROBES = {"pg_sum_result": "pg_sum_probe", "pg_avg": "pg_avg_probe"}


def _probe(node: exp.Expr) -> exp.Expr:
    """A copy of ``node`` of the same type with no aggregate or window function in it (outside
    subqueries), for a type probe; raises ``_NoProbe`` for an aggregate of unknown type."""
    if isinstance(node, exp.Query | exp.Subquery):
        return node.copy()
    if isinstance(node, exp.Window | exp.Filter):
        return _probe(node.this)
    if isinstance(node, exp.Count):
        return exp.Cast(this=exp.Null(), to=exp.DataType.build("BIGINT"))
    if isinstance(node, _SAME_TYPE_AGGS):
        return _probe(_agg_arg(node))
    if isinstance(node, exp.Sum | exp.Avg):
        name = "pg_sum_probe" if isinstance(node, exp.Sum) else "pg_avg_probe"
        return exp.Anonymous(this=name, expressions=[_probe(_agg_arg(node))])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _PROBES and len(node.expressions) == 2:
        return exp.Anonymous(this=_PROBES[node.name.lower()], expressions=[node.expressions[1].copy()])
    if isinstance(node, exp.AggFunc) or (isinstance(node, exp.Anonymous)
                                         and node.name.lower() in duckdb_function_names("aggregate")):
        raise _NoProbe
    out = node.copy()
    for child in list(out.iter_expressions()):
        child.replace(_probe(child))
    return out


def _probed(node: exp.Expr, macro: str, *probes: exp.Expr) -> None:
    """Replace ``node`` (with its FILTER and OVER) by ``macro(node, probes...)``."""
    outer = node
    while isinstance(outer.parent, exp.Filter | exp.Window) and outer.parent.this is outer:
        outer = outer.parent
    outer.replace(exp.Anonymous(this=macro, expressions=[outer.copy(), *probes]))


def rewrite_types(tree: exp.Expr,
                  source_type: Callable[[exp.Column], pa.DataType | None] = lambda _: None) -> None:
    """``avg``, bare ``numeric`` casts and division get PostgreSQL's result types from DuckDB's
    binder (the probe macros of the module docstring), innermost first, so an outer probe sees the
    inner results' types. An ``avg`` of a source table's column read directly keeps its plain form
    for the planner (pushdown), with the cast its type calls for. An expression holding an
    aggregate whose type ``_probe`` does not know keeps DuckDB's operator."""
    for avg in list(tree.find_all(exp.Avg)):
        arg = avg.this
        plain = not isinstance(avg.parent, exp.Window | exp.Filter) and isinstance(arg, exp.Column)
        kind = source_type(arg) if plain and isinstance(arg, exp.Column) else None
        with contextlib.suppress(_NoProbe):
            if kind is None:
                _probed(avg, "pg_avg", _probe(_agg_arg(avg)))
            elif pa.types.is_integer(kind) or pa.types.is_decimal(kind):
                avg.replace(exp.Anonymous(this="pg_avg", expressions=[avg.copy(), exp.Literal.number(0)]))
    for cast in reversed(list(tree.find_all(exp.Cast, bfs=False))):
        if cast.to.this == exp.DType.DECIMAL and not cast.to.expressions:
            with contextlib.suppress(_NoProbe):
                cast.replace(exp.Anonymous(this="pg_numeric", expressions=[cast.this.copy(), _probe(cast.this)]))
    for div in reversed(list(tree.find_all(exp.Div, bfs=False))):
        left, right = div.left, div.right
        with contextlib.suppress(_NoProbe):
            probes = [_probe(left), _probe(right)]
            div.replace(exp.Anonymous(this="pg_div", expressions=[left.copy(), right.copy(), *probes]))


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
