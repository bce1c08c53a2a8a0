"""Filters of an outer query for the scans inside its derived tables, CTEs and UNION ALL branches.

``plan/analyze.py`` finds, for each SELECT, the WHERE/ON conjuncts that may filter each of its
FROM items. For a remote table they become the scan's candidates there; this module takes the ones
that land on a *derived table* (``(SELECT ...) AS s``), a *CTE reference* or a *UNION ALL* and
carries a copy down to the scans inside, rewriting the outer column names to the inner SELECT's
expressions. The outer conjunct stays where it is, in the SQL DuckDB runs; the copy is one more
candidate of the inner scan, classified exact / superset / local like any other (``plan/scans.py``).

A copy may go through an inner SELECT only where filtering its input is the same as filtering its
output (SQL's rules, as in sqlglot's ``pushdown_predicates``, which is written for a tree it may
rewrite at will and so is not reused as is):

* not below LIMIT/OFFSET, QUALIFY, DISTINCT ON, a window in the SELECT list, or a global aggregate;
* below GROUP BY only when every column it reads is a GROUP BY key (and the grouping is plain, no
  ROLLUP/CUBE/GROUPING SETS, which add rows whose keys are NULL);
* below DISTINCT always (it reads output columns, all of which are the DISTINCT columns);
* a column it reads must map to an expression with no aggregate, window, subquery, set-returning
  or volatile function (a computed column ``x + 1 AS y`` is offered as ``x + 1 = ...``: the
  predicate IR takes it only if it can, otherwise it stays local);
* inside, it must read one FROM item that is not on the NULL-supplying side of an outer join;
* into both branches of a UNION ALL (not UNION, INTERSECT, EXCEPT, BY NAME, or an ordered/limited
  union), by position;
* into a CTE referenced once, as into a derived table; referenced several times, the OR of every
  reference's filters (the rows any reference needs), or nothing if one reference has none.

The outer conjunct itself is removed from DuckDB's SQL only as it would be without the wrapper:
when the copy went down one path of plain column references (no UNION, no OR of references) and
the API answers it exactly (the copy carries the outer conjunct's node id; ``ScanState.classify``
then drops that node). Every row of the wrapper then comes from a scan row that passed it.

Views: the engine has none a user can define (the catalog holds the platforms' tables only, and
only queries are accepted), so there is nothing to see through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from lowcode_sql.plan.analyze import Occurrence, SelectInfo, Source, is_constant, nid, select_sources

__all__ = ["COPY", "push_through"]

COPY = "lc_pushed_copy"  # meta key of a copy: its scan may ignore it, the outer conjunct still decides

_POS = "\x00pos"  # the table name of a column that stands for an output position of a query
_SET_RETURNING = (exp.Unnest, exp.Explode, exp.Posexplode, exp.GenerateSeries)


@dataclass
class _Cte:
    node: exp.CTE
    refs: list[exp.Table]
    wanted: dict[int, list[tuple[exp.Expr, int | None]]] = field(default_factory=dict)  # id(ref) -> filters


ColumnType = Callable[[exp.Table, str], "str | None"]  # a remote table node's column -> its SQL type


class _Pusher:
    def __init__(self, qualified: exp.Expr, selects: list[SelectInfo], column_type: ColumnType) -> None:
        self.occurrences: dict[int, Occurrence] = {
            id(o.table_node): o for info in selects if not info.unsafe for o in info.occurrences}
        self.remote = {id(o.table_node) for info in selects for o in info.occurrences}
        self.column_type = column_type
        self.ctes: dict[str, _Cte] = {}
        ctes = list(qualified.find_all(exp.CTE))
        names = [c.alias_or_name.lower() for c in ctes]
        recursive = any(w.args.get("recursive") for w in qualified.find_all(exp.With))
        if len(set(names)) == len(names) and not recursive:
            refs: dict[str, list[exp.Table]] = {n: [] for n in names}
            for t in qualified.find_all(exp.Table):
                if not t.db and isinstance(t.this, exp.Identifier) and t.name.lower() in refs:
                    refs[t.name.lower()].append(t)
            self.ctes = {n: _Cte(c, refs[n]) for n, c in zip(names, ctes, strict=True)
                         if not (c.args.get("alias") and c.args["alias"].args.get("columns"))}

    def run(self, qualified: exp.Expr) -> None:
        for select in qualified.find_all(exp.Select):
            sources, unsafe = select_sources(select)
            if unsafe:
                continue
            for src in sources:
                if id(src.node) in self.occurrences:
                    continue  # a remote table: analyze.py already gave it these conjuncts
                for c in src.candidates:
                    self.deliver(src, c, nid(c))
        for cte in self._cte_order():
            self._push_cte(cte)

    def deliver(self, src: Source, pred: exp.Expr, origin: int | None) -> None:
        """``pred`` (over ``src``'s columns) filters ``src``: give it to the scan, or go further down."""
        occ = self.occurrences.get(id(src.node))
        if occ is not None:
            occ.candidates.append(_detached(pred, origin))
            return
        if isinstance(src.node, exp.Subquery) and not _decorated(src.node):
            template = _to_positions(pred, src.alias, _output_names(src.node.this, src.node.args.get("alias")))
            if template is not None:
                self.push(src.node.this, template, origin)
            return
        cte = self.ctes.get(src.node.name.lower()) if isinstance(src.node, exp.Table) and not src.node.db else None
        if cte is not None and not _decorated(src.node):
            template = _to_positions(pred, src.alias, _output_names(cte.node.this, cte.node.args.get("alias")))
            if template is not None:
                cte.wanted.setdefault(id(src.node), []).append((template, origin))

    def push(self, query: exp.Expr, template: exp.Expr, origin: int | None) -> None:
        """``template`` (over output positions of ``query``) filters the rows ``query`` returns."""
        if isinstance(query, exp.Union):
            if (query.args.get("distinct") or query.args.get("by_name") or query.args.get("side")
                    or query.args.get("kind") or any(query.args.get(k) for k in ("order", "limit", "offset"))):
                return
            # a branch's values are cast to the union's type: a comparison inside a branch may
            # compare differently (int 10 < 5, but '10' < '5' as text), so only where all agree
            for col in template.find_all(exp.Column):
                if self._type(query, int(col.name)) is None:
                    return
            for branch in (query.this, query.expression):
                self.push(_unparen(branch), template.copy(), None)
            return
        if isinstance(query, exp.Subquery) and not _decorated(query):
            self.push(query.this, template, origin)
            return
        if not isinstance(query, exp.Select):
            return
        pred, plain = _substitute(query, template)
        if pred is None:
            return
        if not plain:
            origin = None
        sources, unsafe = select_sources(query)
        if unsafe or not sources:
            return
        if is_constant(pred):
            targets = [s for s in sources if not s.null_supplying]
            for s in targets:
                self.deliver(s, pred.copy(), origin if len(targets) == 1 else None)
            return
        names = {c.table for c in pred.find_all(exp.Column)}
        by_alias = {s.alias: s for s in sources}
        src = by_alias.get(next(iter(names))) if len(names) == 1 else None
        if src is not None and not src.null_supplying:
            self.deliver(src, pred, origin)

    def _type(self, query: exp.Expr, i: int) -> str | None:
        """The SQL type of output ``i`` of ``query`` when it is a remote table's column in every
        branch, the same type in all (None: not known, or not the same)."""
        query = _unparen(query)
        if isinstance(query, exp.Union):
            left, right = self._type(query.this, i), self._type(query.expression, i)
            return left if left == right else None
        if not isinstance(query, exp.Select) or i >= len(query.expressions):
            return None
        expr = query.expressions[i].unalias()
        if not isinstance(expr, exp.Column):
            return None
        src = next((s for s in select_sources(query)[0] if s.alias == expr.table), None)
        if src is None:
            return None
        if id(src.node) in self.remote:
            return self.column_type(src.node, expr.name)  # type: ignore[arg-type]
        inner: exp.Expr | None = None
        alias = None
        if isinstance(src.node, exp.Subquery):
            inner, alias = src.node.this, src.node.args.get("alias")
        elif isinstance(src.node, exp.Table) and not src.node.db and src.node.name.lower() in self.ctes:
            cte = self.ctes[src.node.name.lower()].node
            inner, alias = cte.this, cte.args.get("alias")
        names = _output_names(inner, alias) if inner is not None else None
        if names is None or names.count(expr.name.lower()) != 1:
            return None
        return self._type(inner, names.index(expr.name.lower()))  # type: ignore[arg-type]

    def _cte_order(self) -> list[_Cte]:
        """CTEs in an order where each comes after every CTE whose body references it (a CTE's
        filters are complete only once every reference has received its own)."""
        inside: dict[str, set[str]] = {}
        for name, cte in self.ctes.items():
            inside[name] = {a.alias_or_name.lower() for r in cte.refs for a in _ancestors(r, exp.CTE)}
        order: list[_Cte] = []
        done: set[str] = set()
        while True:
            ready = [n for n in self.ctes if n not in done and inside[n] - {n} <= done]
            if not ready:
                return order
            for n in ready:
                done.add(n)
                order.append(self.ctes[n])

    def _push_cte(self, cte: _Cte) -> None:
        if not cte.refs or any(id(r) not in cte.wanted for r in cte.refs):
            return  # a reference that wants every row: the body must give them all
        if len(cte.refs) == 1:
            for template, origin in cte.wanted[id(cte.refs[0])]:
                self.push(cte.node.this, template, origin)
            return
        either = exp.or_(*(exp.paren(exp.and_(*(t for t, _ in cte.wanted[id(r)])), copy=False) for r in cte.refs))
        self.push(cte.node.this, either, None)


def push_through(qualified: exp.Expr, selects: list[SelectInfo], column_type: ColumnType) -> None:
    """Add to the candidates of the scans in ``selects`` the outer filters that reach them."""
    _Pusher(qualified, selects, column_type).run(qualified)


def _decorated(node: exp.Expr) -> bool:
    """A FROM item with a sample, pivot or lateral view: its rows are not the query's rows."""
    return any(node.args.get(k) for k in ("sample", "pivots", "laterals", "joins", "version", "when"))


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren) or (isinstance(node, exp.Subquery) and not _decorated(node)
                                          and not node.args.get("alias")):
        node = node.this
    return node


def _output_names(query: exp.Expr, alias: exp.TableAlias | None) -> list[str] | None:
    """The column names a query's rows are read by (an alias column list renames them)."""
    cols = alias.args.get("columns") if alias is not None else None
    if cols:
        return [c.name.lower() for c in cols]
    first = query
    while isinstance(first, exp.Union | exp.Subquery | exp.Paren):
        first = first.this
    if not isinstance(first, exp.Select):
        return None
    if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
           for e in first.expressions):
        return None  # not expanded: positions unknown
    return [e.alias_or_name.lower() for e in first.expressions]


def _to_positions(pred: exp.Expr, alias: str, names: list[str] | None) -> exp.Expr | None:
    """``pred`` with each column of ``alias`` replaced by its output position (None: a name that is
    unknown or given to two outputs)."""
    if names is None:
        return None
    holder = exp.Paren(this=pred.copy())  # a bare boolean column is the root: replace it in a holder
    for col in list(holder.find_all(exp.Column)):
        if col.table != alias or names.count(col.name.lower()) != 1:
            return None
        col.replace(exp.Column(this=exp.to_identifier(str(names.index(col.name.lower()))),
                               table=exp.to_identifier(_POS)))
    return holder.this


def _substitute(select: exp.Select, template: exp.Expr) -> tuple[exp.Expr | None, bool]:
    """``template`` over ``select``'s input (None where SQL's rules forbid it), and whether every
    column it read was a plain column."""
    if any(select.args.get(k) for k in ("limit", "offset", "qualify", "laterals", "sample")):
        return None, False
    distinct = select.args.get("distinct")
    if isinstance(distinct, exp.Distinct) and distinct.args.get("on"):
        return None, False
    items = select.expressions
    if any(e.find(exp.Window) for e in items):
        return None, False
    group = select.args.get("group")
    aggregated = group is not None or any(a.parent_select is select for a in select.find_all(exp.AggFunc))
    if aggregated and (group is None or any(group.args.get(k) for k in ("grouping_sets", "cube", "rollup",
                                                                          "totals", "all"))):
        return None, False  # a global aggregate has a row for no input; rollups add NULL-key rows
    keys = list(group.expressions) if group is not None else []
    holder = exp.Paren(this=template.copy())
    plain = True
    for col in list(holder.find_all(exp.Column)):
        if col.table != _POS:
            return None, False
        i = int(col.name)
        if i >= len(items):
            return None, False
        expr = items[i].unalias()
        if expr.find(exp.AggFunc, exp.Window, exp.Subquery, exp.Select, *_SET_RETURNING) or not _deterministic(expr):
            return None, False
        if aggregated and not any(expr == k for k in keys):
            return None, False
        plain = plain and isinstance(expr, exp.Column)
        col.replace(expr.copy())
    return holder.this, plain


def _deterministic(node: exp.Expr) -> bool:
    return is_constant(exp.Paren(this=node.copy().transform(
        lambda n: exp.null() if isinstance(n, exp.Column) else n)))


def _detached(pred: exp.Expr, origin: int | None) -> exp.Expr:
    """A copy with no node ids but ``origin`` on top: only the outer conjunct may ever be dropped."""
    out = pred.copy()
    for n in out.walk():
        if n._meta:
            n.meta.pop("nid", None)
    if origin is not None:
        out.meta["nid"] = origin
    out.meta[COPY] = True
    return out


def _ancestors(node: exp.Expr, kind: type[exp.Expr]) -> list[exp.Expr]:
    out = []
    n = node.parent
    while n is not None:
        if isinstance(n, kind):
            out.append(n)
        n = n.parent
    return out
