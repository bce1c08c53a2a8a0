"""PostgreSQL's results for functions and casts DuckDB answers differently, typed by DuckDB's binder.

As the division of ``pgsemantics``, each call becomes a macro overloaded on the *type* of its
argument (a type probe: ``_probe``), so the choice is DuckDB's binder's, never a guess over the
syntax:

* ``round(float8)`` is ``rint`` in PostgreSQL (halves to even: ``round(2.5::float8)`` is 2);
  ``round(int)`` is ``float8`` there; ``round(numeric[, n])`` rounds halves away from zero, as
  DuckDB's does;
* ``x::text`` of ``float8``/``float4`` writes the shortest form that reads back the same, in
  ``%g`` style (``1``, ``1e+15``, ``1.5e-05``, ``NaN``, ``-Infinity``: float8out; float4 from 1e6
  on in exponent form), where DuckDB writes ``1.0`` and ``1000000000000000.0``; also an operand of
  ``||``;
* ``date_part()`` is ``float8`` (``extract()`` stays ``numeric``); ``date_trunc`` of a ``date`` is
  ``timestamptz`` (PostgreSQL's implicit cast of the date, in the session's time zone);
  ``date - date`` and ``grouping()`` are ``int4``;
* ``min``/``max`` of ``boolean`` do not exist in PostgreSQL: refused with its message;
* ``upper``/``lower`` change ASCII letters only, as PostgreSQL's under the ``C`` ``LC_CTYPE`` this
  server reports (DuckDB's Unicode mapping makes ``upper('ß')`` ``'ẞ'``).

Float text, PostgreSQL's algorithm (src/common/d2s.c, f2s.c): shortest round-trip digits, fixed
notation for a decimal exponent in [-4, 15) (float4: [-4, 6)), else ``d.ddde+XX``. DuckDB's
``CAST(double AS VARCHAR)`` has the same digits; its float4 digits from 1e6 on are exact rather
than shortest, so those are searched with ``printf('%.Ne')``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pyarrow as pa
from sqlglot import exp

from lowcode_sql.pgwire.errors import PGError
from lowcode_sql.pgwire.pgsemantics import _INTS, PG_MACROS, _NoProbe, _overloads, _probe
from lowcode_sql.pgwire.pgtonumchar import TOCHAR_MACROS

__all__ = ["FUNC_MACROS", "SERVED_MACROS", "rewrite_functions"]

# a pgwire error raised from SQL: ``error('pgerror 42883: text')`` (errors.py reads the SQLSTATE)
PG_ERROR_PREFIX = "pgerror "

_F4_CANDIDATES = " ".join(
    f"WHEN CAST(CAST(printf('%.{p}e', CAST(x AS DOUBLE)) AS DOUBLE) AS FLOAT) = x "
    f"THEN printf('%.{p}e', CAST(x AS DOUBLE))" for p in range(8))

FUNC_MACROS: tuple[str, ...] = (
    # the digits and decimal exponent of DuckDB's text of a float (s: the unsigned mantissa part,
    # e: the exponent written after 'e', or 0)
    """CREATE OR REPLACE MACRO pg_float_digits(s, e) AS CASE
        WHEN e <> 0 OR NOT contains(s, '.') THEN rtrim(replace(s, '.', ''), '0')
        WHEN ltrim(split_part(s, '.', 1), '0') <> '' THEN rtrim(ltrim(replace(s, '.', ''), '0'), '0')
        ELSE rtrim(ltrim(split_part(s, '.', 2), '0'), '0') END""",
    """CREATE OR REPLACE MACRO pg_float_exp(s, e) AS CASE
        WHEN e <> 0 THEN e
        WHEN ltrim(split_part(s, '.', 1), '0') <> '' THEN length(ltrim(split_part(s, '.', 1), '0')) - 1
        ELSE -(length(split_part(s, '.', 2)) - length(ltrim(split_part(s, '.', 2), '0')) + 1) END""",
    """CREATE OR REPLACE MACRO pg_float_format(sign, d, e, hi) AS sign || CASE
        WHEN e >= hi OR e < -4
        THEN d[1] || CASE WHEN length(d) > 1 THEN '.' || d[2:] ELSE '' END || 'e'
             || CASE WHEN e < 0 THEN '-' ELSE '+' END || CASE WHEN abs(e) < 10 THEN '0' ELSE '' END
             || CAST(abs(e) AS VARCHAR)
        WHEN e < 0 THEN '0.' || repeat('0', CAST(-e - 1 AS BIGINT)) || d
        WHEN length(d) <= e + 1 THEN rpad(d, CAST(e + 1 AS INTEGER), '0')
        ELSE d[1:e + 1] || '.' || d[e + 2:] END""",
    """CREATE OR REPLACE MACRO pg_float_parts(s, hi) AS pg_float_format(
        CASE WHEN starts_with(s, '-') THEN '-' ELSE '' END,
        pg_float_digits(split_part(ltrim(s, '-'), 'e', 1), CAST(split_part(s || 'e0', 'e', 2) AS INTEGER)),
        pg_float_exp(split_part(ltrim(s, '-'), 'e', 1), CAST(split_part(s || 'e0', 'e', 2) AS INTEGER)), hi)""",
    """CREATE OR REPLACE MACRO pg_float_text(x, hi) AS CASE
        WHEN isnan(x) THEN 'NaN'
        WHEN isinf(x) THEN CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END
        WHEN x = 0 THEN CASE WHEN signbit(x) THEN '-0' ELSE '0' END
        ELSE pg_float_parts(CAST(x AS VARCHAR), hi) END""",
    f"""CREATE OR REPLACE MACRO pg_float4_text(x) AS CASE
        WHEN abs(x) >= 1e6 AND NOT isinf(x) AND NOT isnan(x)
        THEN pg_float_parts(CASE {_F4_CANDIDATES} ELSE printf('%.8e', CAST(x AS DOUBLE)) END, 6)
        ELSE pg_float_text(x, 6) END""",
    # numerics and integers have their own overloads: DuckDB would pick the DOUBLE one for them
    _overloads("pg_text", "x", [(("DOUBLE",), "pg_float_text(x, 15)"), (("FLOAT",), "pg_float4_text(x)")]
               + [((t,), "CAST(x AS VARCHAR)") for t in ("DECIMAL", *_INTS)], "CAST(x AS VARCHAR)"),
    # an operand of ||: anything else (a list, a blob) is left to DuckDB's operator
    _overloads("pg_text_operand", "x", [(("DOUBLE",), "pg_float_text(x, 15)"), (("FLOAT",), "pg_float4_text(x)")]
               + [((t,), "x") for t in ("DECIMAL", *_INTS)], "x"),
    _overloads("pg_round", "x", [(("DOUBLE",), "round_even(x, 0)"), (("FLOAT",), "round_even(CAST(x AS DOUBLE), 0)"),
                                 (("DECIMAL",), "round(x)")]
               + [((t,), "CAST(x AS DOUBLE)") for t in _INTS], "round(x)"),
    _overloads("pg_date_trunc", "t", [(("DATE",), "CAST(t AS TIMESTAMPTZ)")], "t"),
    # the casts type a quoted literal operand as the other one (its probe is the other's: rewrite_functions)
    _overloads("pg_sub", "a, b", [(("DATE", "DATE"), "CAST(CAST(a AS DATE) - CAST(b AS DATE) AS INTEGER)")]
               + [((t, t), f"CAST(a AS {t}) - CAST(b AS {t})") for t in ("TIMESTAMP", "TIMESTAMPTZ")], "a - b"),
    *(_overloads(f"pg_{fn}_check", "m",
                 [(("BOOLEAN",), f"error('{PG_ERROR_PREFIX}42883: function {fn}(boolean) does not exist')")], "m")
      for fn in ("min", "max")),
    "CREATE OR REPLACE MACRO pg_upper(x) AS translate(x, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')",
    "CREATE OR REPLACE MACRO pg_lower(x) AS translate(x, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')",
)

# every macro the served DuckDB connections need (the pool's engines, the catalog's DuckDB)
SERVED_MACROS: tuple[str, ...] = (*PG_MACROS, *FUNC_MACROS, *TOCHAR_MACROS)

_MARK_DATE_PART = "__lc_date_part"


def _wrap(node: exp.Expr, macro: str, *probe_of: exp.Expr) -> None:
    """``node`` -> ``macro(node, probes...)``; left as it is if a probe cannot be built."""
    with contextlib.suppress(_NoProbe):
        probes = [_probe(p) for p in probe_of]
        node.replace(exp.Anonymous(this=macro, expressions=[node.copy(), *probes]))


def _is_text_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _is_number_literal(node: exp.Expr) -> bool:
    inner = node.this if isinstance(node, exp.Neg) else node
    return isinstance(inner, exp.Literal) and not inner.is_string


def _date_part(node: exp.Anonymous) -> exp.Expr:
    """``date_part('field', x)`` -> ``CAST(EXTRACT(field FROM x) AS DOUBLE)`` (the EXTRACT gets
    PostgreSQL's fraction digits from ``transpile._extract_numeric``)."""
    unit, value = node.expressions
    if _is_text_literal(unit) and unit.name.strip().isidentifier():
        inner: exp.Expr = exp.Extract(this=exp.var(unit.name.strip().upper()), expression=value.copy())
    else:
        inner = exp.Anonymous(this="date_part", expressions=[unit.copy(), value.copy()])
    return exp.Cast(this=inner, to=exp.DataType.build("DOUBLE"))


def _no_function(name: str, arg_type: str) -> PGError:
    return PGError("42883", f"function {name}({arg_type}) does not exist",
                   hint="No function matches the given name and argument types. "
                        "You might need to add explicit type casts.")


def rewrite_functions(tree: exp.Expr,
                      source_type: Callable[[exp.Column], pa.DataType | None] = lambda _: None) -> None:
    """The rewrites of the module docstring; run before ``rewrite_types`` (whose division probes
    then see these results' types). ``source_type`` (as for ``rewrite_sums``) lets a ``min`` or
    ``max`` of a source table's boolean column be refused before it runs, as PostgreSQL does: the
    macro's refusal needs a row to evaluate."""
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == _MARK_DATE_PART and len(node.expressions) == 2:
            node.replace(_date_part(node))
    for rnd in list(tree.find_all(exp.Round)):
        if rnd.args.get("decimals") is None:
            arg = rnd.this
            with contextlib.suppress(_NoProbe):
                rnd.replace(exp.Anonymous(this="pg_round", expressions=[arg.copy(), _probe(arg)]))
    for trunc in list(tree.find_all(exp.TimestampTrunc)):
        _wrap(trunc, "pg_date_trunc", trunc.this)
    for grouping in list(tree.find_all(exp.Grouping)):
        grouping.replace(exp.Cast(this=grouping.copy(), to=exp.DataType.build("INT")))
    for agg in list(tree.find_all(exp.Min, exp.Max)):
        if isinstance(agg.this, exp.Expression) and not agg.expressions:  # least/greatest are others
            name = "min" if isinstance(agg, exp.Min) else "max"
            kind = source_type(agg.this) if isinstance(agg.this, exp.Column) else None
            if kind is not None and pa.types.is_boolean(kind):
                raise _no_function(name, "boolean")
            if kind is not None:
                continue  # a source column of another type: kept plain, so the planner can push it
            outer: exp.Expr = agg
            while isinstance(outer.parent, exp.Filter | exp.Window) and outer.parent.this is outer:
                outer = outer.parent
            _wrap(outer, f"pg_{name}_check", agg.this)
    for sub in reversed(list(tree.find_all(exp.Sub, bfs=False))):
        literals = [_is_text_literal(sub.left), _is_text_literal(sub.right)]
        if not (_is_number_literal(sub.left) or _is_number_literal(sub.right) or all(literals)):
            with contextlib.suppress(_NoProbe):
                probes = [_probe(sub.left), _probe(sub.right)]
                # PostgreSQL reads a quoted literal as the other operand's type ('2024-01-05' - day: date - date)
                left, right = probes
                probes = [right.copy() if literals[0] else left, left.copy() if literals[1] else right]
                sub.replace(exp.Anonymous(this="pg_sub", expressions=[sub.left.copy(), sub.right.copy(), *probes]))
    for case in list(tree.find_all(exp.Upper, exp.Lower)):
        macro = "pg_upper" if isinstance(case, exp.Upper) else "pg_lower"
        case.replace(exp.Anonymous(this=macro, expressions=[case.this.copy()]))
    for cast in reversed(list(tree.find_all(exp.Cast, bfs=False))):
        known = source_type(cast.this) if isinstance(cast.this, exp.Column) else None
        if known is not None and not pa.types.is_floating(known):
            continue  # DuckDB's text of that type is PostgreSQL's: the plain cast stays pushable
        if cast.to.this in (exp.DType.TEXT, exp.DType.VARCHAR) and not cast.to.expressions \
                and not _is_text_literal(cast.this):
            with contextlib.suppress(_NoProbe):
                cast.replace(exp.Anonymous(this="pg_text", expressions=[cast.this.copy(), _probe(cast.this)]))
    for cat in list(tree.find_all(exp.DPipe)):
        for side in (cat.this, cat.expression):
            if not (_is_text_literal(side) or isinstance(side, exp.DPipe)):
                with contextlib.suppress(_NoProbe):
                    side.replace(exp.Anonymous(this="pg_text_operand", expressions=[side.copy(), _probe(side)]))
