"""Apply planning decisions to the user's own AST, producing the SQL DuckDB runs.

Remote tables become their registered scan views (keeping the alias, so ``projects.title``
still resolves), conjuncts the API answers exactly are replaced by TRUE and folded away, and a
pushed OFFSET is removed (the API already skipped those rows).
"""

from __future__ import annotations

from sqlglot import exp

from lowcode_sql.plan.analyze import nid
from lowcode_sql.types import GROUP_COUNT

__all__ = ["rewrite"]


def rewrite(
    tree: exp.Expression,
    views: dict[int, str],
    dropped: set[int],
    removed_offsets: set[int],
    sources: set[str],
    qualified: exp.Expression | None = None,
    counts: set[int] | None = None,
) -> str:
    nodes = {nid(n): n for n in tree.walk() if nid(n) is not None}
    for key in counts or ():
        select = nodes.get(key)
        if select is None:
            continue
        for node in list(select.find_all(exp.Count)):
            if node.parent_select is select and isinstance(node.this, exp.Star):
                _sum_counts(node)
    if qualified is not None:
        _expand_modified_stars(nodes, qualified)
    for key in dropped:
        node = nodes.get(key)
        if node is not None and node.parent is not None:
            node.replace(exp.true())
    for key in removed_offsets:
        node = nodes.get(key)
        if node is not None:
            node.pop()
    for key, view in views.items():
        tb = nodes[key]
        alias = tb.args.get("alias")
        new = exp.Table(this=exp.to_identifier(view), alias=alias.copy() if alias else None)
        tb.replace(new)
    for col in list(tree.find_all(exp.Column)):
        db = col.args.get("db")
        if db is not None and db.name in sources:
            col.set("db", None)
    _fold_true(tree)
    return tree.sql(dialect="duckdb")


def _expand_modified_stars(nodes: dict[int | None, exp.Expression], qualified: exp.Expression) -> None:
    """``* EXCLUDE (x)`` / ``* REPLACE (...)`` name columns a scan view may not hold (the view has
    only the columns the query needs): use the qualified copy's explicit expansion instead."""
    for sel in qualified.find_all(exp.Select):
        original = nodes.get(nid(sel))
        if not isinstance(original, exp.Select):
            continue
        stars = [e for e in original.expressions if isinstance(e, exp.Star) or
                 (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))]
        star = stars[0] if stars else None
        if star is None:
            continue
        modifiers = star.this.args if isinstance(star, exp.Column) else star.args
        if any(modifiers.get(k) for k in ("except_", "replace", "rename", "ilike")):
            original.set("expressions", [e.copy() for e in sel.expressions])


def _sum_counts(node: exp.Expression) -> None:
    """COUNT(*) over a grouped scan view = SUM of the API's per-group counts (as BIGINT, COUNT's type)."""
    total = exp.Cast(this=exp.Sum(this=exp.column(GROUP_COUNT)), to=exp.DataType.build("BIGINT"))
    if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
        total = exp.alias_(total, "count_star()", quoted=True)  # DuckDB's name for an unnamed COUNT(*)
    node.replace(total)


def _is_true(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Boolean) and node.this is True


def _fold_true(tree: exp.Expression) -> None:
    changed = True
    while changed:
        changed = False
        for node in list(tree.find_all(exp.And)):
            left, right = node.this, node.expression
            if _is_true(left) or _is_true(right):
                node.replace((right if _is_true(left) else left).copy())
                changed = True
                break
        for node in list(tree.find_all(exp.Paren)):
            if _is_true(node.this):
                node.replace(exp.true())
                changed = True
    for where in list(tree.find_all(exp.Where)):
        if _is_true(where.this):
            where.pop()
