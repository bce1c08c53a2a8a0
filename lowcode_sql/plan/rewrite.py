"""Apply planning decisions to the user's own AST, producing the SQL DuckDB runs.

Remote tables become their registered scan views (keeping the alias, so ``projects.title``
still resolves), conjuncts the API answers exactly are replaced by TRUE and folded away, and a
pushed OFFSET is removed (the API already skipped those rows).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from lowcode_sql.plan.analyze import nid
from lowcode_sql.scanspec import GROUP_COUNT

__all__ = ["rewrite"]


def rewrite(
    tree: exp.Expr,
    views: dict[int, str],
    dropped: set[int],
    removed_offsets: set[int],
    sources: set[str],
    qualified: exp.Expr | None = None,
    aggregates: dict[int, tuple[str, str | None]] | None = None,
    namer: Callable[[exp.Select], list[str] | None] | None = None,
) -> str:
    nodes = {nid(n): n for n in tree.walk() if nid(n) is not None}
    # qualify may rebuild a repeated aggregate (ORDER BY count(*)) without its node id: rewrite
    # every aggregate of the same SELECT that is equal to one the planner saw
    seen: dict[int, tuple[exp.Select, list[tuple[exp.Expr, str, str | None]]]] = {}
    for key, (func, column) in (aggregates or {}).items():
        node = nodes.get(key)
        select = node.parent_select if node is not None else None
        if node is not None and select is not None:
            seen.setdefault(id(select), (select, []))[1].append((node.copy(), func, column))
    for select, originals in seen.values():
        # Unaliased outputs keep the names DuckDB gives the user's own expressions (``sum(x)``,
        # ``(avg(n) + 1)``), so pushing an aggregate down never renames a result column.
        names = namer(select) if namer is not None else None
        if names is not None and len(names) == len(select.expressions):
            for item, name in zip(list(select.expressions), names, strict=True):
                if not isinstance(item, exp.Alias) and not isinstance(item, exp.Star) and item.find(exp.AggFunc):
                    item.replace(exp.alias_(item.copy(), name, quoted=True))
        for other in list(select.find_all(exp.AggFunc)):
            if other.parent_select is select:
                match = next(((f, c) for original, f, c in originals if other == original), None)
                if match is not None:
                    _reaggregate(other, *match)
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


def _expand_modified_stars(nodes: dict[int | None, exp.Expr], qualified: exp.Expr) -> None:
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
        if not any(modifiers.get(k) for k in ("except_", "replace", "rename", "ilike")):
            continue
        if len(stars) > 1:  # which expansion belongs to which star is not known: take them all
            original.set("expressions", [e.copy() for e in sel.expressions])
            continue
        # only the star is replaced (qualify expands it in place): the other items keep the user's
        # text, so DuckDB names them as usual (``sum(x)``, not qualify's ``_col_5``)
        i = original.expressions.index(star)
        n = len(sel.expressions) - len(original.expressions) + 1
        items = list(original.expressions)
        original.set("expressions", [*items[:i], *(e.copy() for e in sel.expressions[i:i + n]), *items[i + 1:]])


def _reaggregate(node: exp.Expr, func: str, column: str | None) -> None:
    """An aggregate over a grouped scan view, computed from the API's per-group aggregates
    (``Aggregate.name`` columns), with SQL's result type and NULL rules."""

    def agg(outer: type[exp.AggFunc], name: str) -> exp.Expr:
        return outer(this=exp.column(name))

    count_col = GROUP_COUNT if column is None else f"__lc_count__{column}"
    if func == "count":
        # COUNT is never NULL, also over no groups at all (a global aggregate of no rows)
        new: exp.Expr = exp.Cast(this=exp.func("coalesce", agg(exp.Sum, count_col), exp.Literal.number(0)),
                                       to=exp.DataType.build("BIGINT"))
    elif func == "sum":
        new = exp.Case(ifs=[exp.If(this=exp.GT(this=agg(exp.Sum, count_col), expression=exp.Literal.number(0)),
                                   true=agg(exp.Sum, f"__lc_sum__{column}"))])
    elif func == "avg":
        new = exp.Cast(this=exp.Div(this=agg(exp.Sum, f"__lc_sum__{column}"),
                                    expression=exp.func("nullif", agg(exp.Sum, count_col), exp.Literal.number(0))),
                       to=exp.DataType.build("DOUBLE"))
    else:  # min / max
        new = agg(exp.Min if func == "min" else exp.Max, f"__lc_{func}__{column}")
    node.replace(new)


def _is_true(node: exp.Expr | None) -> bool:
    return isinstance(node, exp.Boolean) and node.this is True


def _fold_true(tree: exp.Expr) -> None:
    changed = True
    while changed:
        changed = False
        for node in list(tree.find_all(exp.And)):
            left, right = node.this, node.expression
            if _is_true(left) or _is_true(right):
                node.replace((right if _is_true(left) else left).copy())
                changed = True
                break
        for paren in list(tree.find_all(exp.Paren)):
            if _is_true(paren.this):
                paren.replace(exp.true())
                changed = True
    for where in list(tree.find_all(exp.Where)):
        if _is_true(where.this):
            where.pop()
