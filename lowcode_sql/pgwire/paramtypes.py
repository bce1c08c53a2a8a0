"""The types of a prepared statement's parameters, for ParameterDescription. PostgreSQL infers them
from where each ``$n`` stands; clients such as asyncpg encode their arguments (binary) by those types
and reject an ``int`` for a parameter described as ``text``. DuckDB's Python API does not report a
prepared statement's parameter types (``duckdb_prepared_statements()`` says ``UNKNOWN`` before a
bind), so the type comes from DuckDB's binder in another way: the expression that gives ``$n`` its
type (the cast in ``$1::bigint``, the other side of ``qty > $1``, the column of ``x IN ($1, $2)``,
``LIMIT $1``) is selected, with the enclosing query's FROM clause, in a ``LIMIT 0`` query on the
catalog DuckDB (empty copies of the source tables: nothing is scanned), and its result type is the
parameter's. A parameter with no such context stays ``text`` (25), as PostgreSQL's ``unknown``
resolves to text."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lowcode_sql.pgwire.types import pg_type_for_arrow

__all__ = ["TEXT_OID", "infer_param_oids"]

TEXT_OID = 25
INT8_OID = 20
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Like,
                exp.ILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_DROPPED = ("where", "group", "having", "order", "limit", "offset", "qualify", "distinct", "windows")


def infer_param_oids(duck_sql: str, nparams: int, given: list[int],
                     schema_of: Callable[[str], pa.Schema]) -> list[int]:
    """One type OID per parameter: the client's (Parse) where it gave one, else inferred, else text.
    ``schema_of`` binds a DuckDB query and returns its result schema (raising if it cannot)."""
    oids = [given[i] if i < len(given) else 0 for i in range(max(nparams, len(given)))]
    if all(oids):
        return oids
    try:
        tree = sqlglot.parse_one(duck_sql, read="duckdb")
    except SqlglotError:
        tree = None
    if tree is not None:
        for node in tree.find_all(exp.Placeholder):
            try:
                i = int(node.this) - 1
            except (TypeError, ValueError):
                continue
            if 0 <= i < len(oids) and not oids[i]:
                oids[i] = _infer(node, schema_of)
    return [o or TEXT_OID for o in oids]


def _infer(node: exp.Placeholder, schema_of: Callable[[str], pa.Schema]) -> int:
    parent = node.parent
    probe: exp.Expr | None = None
    if isinstance(parent, exp.Cast):
        probe = exp.Cast(this=exp.null(), to=parent.args["to"].copy())
    elif isinstance(parent, exp.Limit | exp.Offset | exp.Fetch):
        return INT8_OID  # PostgreSQL's LIMIT / OFFSET take bigint
    elif isinstance(parent, _COMPARISONS):
        other = parent.expression if node is parent.this else parent.this
        probe = other
    elif isinstance(parent, exp.Between):
        probe = parent.this if node is not parent.this else parent.args.get("low")
    elif isinstance(parent, exp.In) and node is not parent.this:
        probe = parent.this
    if probe is None or probe.find(exp.Placeholder):
        return 0
    select = node.find_ancestor(exp.Select)
    if select is None:
        query: exp.Select = exp.select(probe.copy())
    else:
        query = select.copy()
        for key in _DROPPED:
            query.set(key, None)
        query.set("expressions", [probe.copy()])
        for other in list(query.find_all(exp.Placeholder)):  # $n in a JOIN's ON: any value binds
            other.replace(exp.null())
    try:
        schema = schema_of(query.limit(0).sql(dialect="duckdb"))
    except Exception:  # the binder could not type it in isolation (an outer CTE, a correlated column ...)
        return 0
    if len(schema) != 1 or pa.types.is_null(schema[0].type):
        return 0
    return pg_type_for_arrow(schema[0].type)[0]
