"""Drop the outputs of a derived table that its outer query never reads.

``SELECT status, count(*) FROM (SELECT id, title, status, ... FROM t) AS virtual_table GROUP BY
status`` reads one column of the wrapper's twenty: the others would be fetched for nothing (the
scan asks for every column its SELECT names, ``plan._needed_columns``). An output nobody reads is
removed from the wrapper's SELECT list, in the qualified copy and in the SQL DuckDB runs, when
that cannot change anything else:

* the wrapper is a derived table ``(SELECT ...) AS s`` in a FROM/JOIN (not a CTE, not a UNION
  branch, whose outputs are matched by position), with no alias column list;
* its SELECT is not DISTINCT (every output decides which rows are equal) and names no output by
  alias or position in GROUP BY / ORDER BY / HAVING / QUALIFY, and holds no set-returning function
  (``unnest`` multiplies rows even when no one reads it) or window;
* the outer SELECT reads ``s`` only through qualified columns (qualify has expanded its stars): no
  bare column that could be ``s`` itself (DuckDB's row-as-struct), no NATURAL or USING join;
* one output is always kept (a SELECT list cannot be empty).

(``SELECT * FROM t`` wrappers never get here: ``plan/unwrap.py`` merged them already.)
"""

from __future__ import annotations

from sqlglot import exp

from lowcode_sql.plan.analyze import nid

__all__ = ["prune_outputs"]

_SET_RETURNING = (exp.Unnest, exp.Explode, exp.Posexplode, exp.GenerateSeries)


def prune_outputs(tree: exp.Expr, qualified: exp.Expr) -> None:
    """Remove unread outputs of derived tables from ``qualified`` and, by node id, from ``tree``."""
    nodes = {nid(n): n for n in tree.walk() if nid(n) is not None}
    for sq in list(qualified.find_all(exp.Subquery)):
        inner, outer = sq.this, sq.parent.parent if isinstance(sq.parent, exp.From | exp.Join) else None
        original = nodes.get(nid(inner))
        if not (isinstance(inner, exp.Select) and isinstance(outer, exp.Select) and isinstance(original, exp.Select)):
            continue
        if not _prunable(sq, inner, outer) or len(original.expressions) != len(inner.expressions):
            continue
        if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
               for e in original.expressions):
            continue
        read = {c.name.lower() for c in outer.find_all(exp.Column) if c.table == sq.alias}
        keep = [i for i, e in enumerate(inner.expressions) if e.alias_or_name.lower() in read] or [0]
        if len(keep) == len(inner.expressions):
            continue
        inner.set("expressions", [inner.expressions[i] for i in keep])
        original.set("expressions", [original.expressions[i] for i in keep])


def _prunable(sq: exp.Subquery, inner: exp.Select, outer: exp.Select) -> bool:
    alias = sq.args.get("alias")
    if not isinstance(alias, exp.TableAlias) or alias.args.get("columns") or inner.args.get("distinct"):
        return False
    if any(e.find(exp.Window, *_SET_RETURNING) for e in inner.expressions):
        return False
    for key in ("group", "order", "having", "qualify"):
        part = inner.args.get(key)
        if part is None:
            continue
        if any(not c.table for c in part.find_all(exp.Column)):
            return False  # an output named by its alias
        if any(isinstance(e.unalias() if not isinstance(e, exp.Ordered) else e.this, exp.Literal)
               for e in part.expressions):
            return False  # an output named by its position
    for join in outer.args.get("joins") or []:
        if join.args.get("using") or (join.args.get("method") or "").upper() == "NATURAL":
            return False
    if outer.find(exp.TableColumn, exp.Columns) or any(not isinstance(st.parent, exp.Count)
                                                        for st in outer.find_all(exp.Star)):
        return False  # ``SELECT s``: the row as a struct; a star or COLUMNS(...) qualify left alone
    # a bare column is an output alias of some SELECT (``ORDER BY n``: qualify resolved the rest),
    # or ``s`` itself: DuckDB's row-as-struct, which reads every output
    outputs = {e.alias.lower() for sel in outer.find_all(exp.Select) for e in sel.expressions if e.alias}
    return not any(not c.table and (c.name.lower() == sq.alias.lower() or c.name.lower() not in outputs)
                   for c in outer.find_all(exp.Column))
