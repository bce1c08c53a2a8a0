"""Remove the wrappers BI tools put around a table before planning: ``(SELECT * FROM t) AS s``.

Superset sends every chart of a virtual dataset as ``SELECT ... FROM (<dataset SQL>) AS
virtual_table WHERE <filters> GROUP BY ...``; dbt and hand-written SQL wrap tables in CTEs the same
way. When the dataset SQL is ``SELECT * FROM t [WHERE w]``, the wrapper is exactly the table under
another name (the same columns, in the same order, with the same names), so it is replaced by
``t AS s`` (and ``w``, if any, joins the outer WHERE) in the SQL DuckDB runs. Every pushdown of
the unwrapped query (filters, COUNT, aggregates, ORDER BY/LIMIT, projections) then applies as is,
with the same requests, and EXPLAIN shows the same scan.

A wrapper is merged only when nothing in it can change the rows or their shape:

* its SELECT list is one bare ``*`` (no EXCLUDE/REPLACE/RENAME), over one plain table (no join,
  sample, pivot, time travel), with no GROUP BY, HAVING, DISTINCT, window, QUALIFY, ORDER BY,
  LIMIT, OFFSET or WITH of its own;
* it has an alias without a column list (the alias becomes the table's, so every outer reference
  still resolves: ``s.x``, bare ``x``, ``s.*``);
* a WHERE of its own reads only the wrapped table's columns (qualified by its alias or not at all),
  holds no subquery, aggregate or window, and moves only into an outer SELECT whose FROM is the
  wrapper alone (no join: an ON or an outer join would see it at another place).

A CTE is inlined as a derived table first (then merged by the same rules) when it is not
recursive, not MATERIALIZED, has no column list, is referenced exactly once in the statement, its
name is unique among the statement's CTEs, and its body is such a wrapper of a table that is not
itself a CTE (CTEs are inlined in order of definition, so ``WITH a AS (SELECT * FROM t), b AS
(SELECT * FROM a)`` unwraps completely).

Everything else (a projection list, a computed column, UNION ALL, a CTE referenced twice) keeps its
wrapper; ``plan/pushthrough.py`` then pushes copies of outer filters through it.
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["unwrap"]

_SELECT_KEYS = {"expressions", "from_", "where"}
_TABLE_KEYS = {"this", "db", "alias"}


def unwrap(tree: exp.Expr) -> None:
    """Merge every ``SELECT *`` wrapper of ``tree`` (in place), CTEs included."""
    _merge_derived(tree)
    _inline_ctes(tree)


def _wrapped_table(query: exp.Expr) -> exp.Table | None:
    """The table a ``SELECT * FROM t [WHERE w]`` reads, or None if ``query`` is anything more."""
    if not isinstance(query, exp.Select):
        return None
    if any(v not in (None, [], False) for k, v in query.args.items() if k not in _SELECT_KEYS):
        return None
    items = query.expressions
    if len(items) != 1 or not isinstance(items[0], exp.Star) or any(items[0].args.values()):
        return None
    from_ = query.args.get("from_")
    table = from_.this if isinstance(from_, exp.From) else None
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        return None
    if any(v not in (None, [], False) for k, v in table.args.items() if k not in _TABLE_KEYS):
        return None
    alias = table.args.get("alias")
    if alias is not None and alias.args.get("columns"):
        return None
    where = query.args.get("where")
    if where is not None:
        if where.find(exp.Subquery, exp.Select, exp.Exists, exp.AggFunc, exp.Window, exp.Star):
            return None
        own = table.alias_or_name.lower()
        for col in where.find_all(exp.Column):
            if col.args.get("db") or col.args.get("catalog") or (col.table and col.table.lower() != own):
                return None
    return table


def _merge_derived(tree: exp.Expr) -> None:
    # innermost first (a reversed pre-order visits a subquery after the ones inside it)
    for sq in reversed(list(tree.find_all(exp.Subquery))):
        _merge_one(sq)


def _merge_one(sq: exp.Subquery) -> bool:
    outer = sq.parent.parent if isinstance(sq.parent, exp.From | exp.Join) else None
    alias = sq.args.get("alias")
    table = _wrapped_table(sq.this)
    if (table is None or not isinstance(outer, exp.Select) or not isinstance(alias, exp.TableAlias)
            or alias.args.get("columns") or sq.args.get("pivots") or sq.args.get("sample")
            or sq.args.get("laterals") or sq.args.get("joins") or not alias.name):
        return False
    where = sq.this.args.get("where")
    if where is not None:
        if not isinstance(sq.parent, exp.From) or outer.args.get("joins") or outer.args.get("laterals"):
            return False
        own = table.alias_or_name.lower()
        cond = where.this.copy()
        for col in cond.find_all(exp.Column):
            if col.table and col.table.lower() == own:
                col.set("table", exp.to_identifier(alias.name, quoted=alias.this.quoted))
        old = outer.args.get("where")
        merged = exp.And(this=_operand(cond), expression=_operand(old.this.copy())) if old else cond
        outer.set("where", exp.Where(this=merged))
    new = exp.Table(this=table.this.copy(), db=table.args["db"].copy() if table.args.get("db") else None,
                    alias=alias.copy())
    sq.replace(new)
    return True


def _inline_ctes(tree: exp.Expr) -> None:
    ctes = list(tree.find_all(exp.CTE))
    names = [c.alias_or_name.lower() for c in ctes]
    if len(set(names)) != len(names):
        return  # a name defined twice (nested WITHs): which reference means which is not worth guessing
    for cte in ctes:
        with_ = cte.parent
        if not isinstance(with_, exp.With) or with_.args.get("recursive") or cte.args.get("materialized") is not None:
            continue
        alias = cte.args.get("alias")
        if alias is None or alias.args.get("columns"):
            continue
        table = _wrapped_table(cte.this)
        if table is None or (not table.db and table.name.lower() in names):
            continue
        name = cte.alias_or_name.lower()
        refs = [t for t in tree.find_all(exp.Table)
                if not t.db and isinstance(t.this, exp.Identifier) and t.name.lower() == name]
        if len(refs) != 1 or refs[0].find_ancestor(exp.CTE) is cte:
            continue
        ref = refs[0]
        if any(v not in (None, [], False) for k, v in ref.args.items() if k not in _TABLE_KEYS):
            continue
        ref_alias = ref.args.get("alias")
        if ref_alias is not None and ref_alias.args.get("columns"):
            continue
        sq = exp.Subquery(this=cte.this.copy(),
                          alias=ref_alias.copy() if ref_alias is not None else exp.TableAlias(this=alias.this.copy()))
        ref.replace(sq)
        cte.pop()
        if not with_.expressions:
            with_.pop()
        _merge_one(sq)


def _operand(node: exp.Expr) -> exp.Expr:
    """``node`` as an operand of AND: an OR needs parentheses, an AND is flattened with it."""
    return exp.paren(node, copy=False) if isinstance(node, exp.Or) else node
