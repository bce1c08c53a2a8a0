"""Find every remote table scan in a query and the WHERE/ON conjuncts that may filter it.

Works on a *qualified copy* of the user's AST (every column carries its table alias). Each node
of the original AST is tagged with ``meta["nid"]`` before copying, so decisions made on the copy
(drop this conjunct, replace that table, remove that OFFSET) can be applied to the original,
which is what DuckDB finally runs: the user's own SQL text with minimal edits.

A conjunct may filter a scan only when it reads that scan's alias alone, contains no subquery or
volatile function, and the scan is not on the NULL-supplying side of an outer join (a WHERE
``r.x IS NULL`` above a LEFT JOIN must not be pushed into ``r``). ON conjuncts of an inner join,
and the null-supplying side's own ON conjuncts of LEFT/SEMI/ANTI joins, qualify as well.

A conjunct that reads no column (``WHERE FALSE``, ``1 = 0``, ``NULL``) has one value for every row.
It qualifies for every scan that is not NULL-supplying (for an inner join's ON: every such scan
joined at or before that join), and a LEFT/SEMI/ANTI join's for its null-supplying side: if it is
false, each of those scans contributes no row to the result, so it may send no request either. It
never qualifies for a NULL-supplying side through WHERE: the preserved side's rows would be lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from lowcode_sql.errors import PlanError

__all__ = ["Occurrence", "SelectInfo", "Source", "conjuncts", "find_selects", "is_constant", "nid", "node_id",
           "select_sources"]


def nid(node: exp.Expr) -> int | None:
    return node.meta.get("nid") if node._meta else None


def node_id(node: exp.Expr) -> int:
    """The id of a node ``plan`` numbered: every node of the parsed tree, and its copy in the
    qualified tree (nodes qualify builds have none: use ``nid`` where those can occur)."""
    i = nid(node)
    if i is None:
        raise PlanError(f"internal error: no node id on {node.key} {node.sql('duckdb')[:80]!r}")
    return i


def conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    if node is None:
        return []
    if isinstance(node, exp.Where):
        node = node.this
    return list(node.flatten()) if isinstance(node, exp.And) else [node]


@dataclass
class Occurrence:
    """One remote table reference inside one SELECT."""

    table_node: exp.Table  # in the qualified copy
    alias: str
    select: exp.Select
    null_supplying: bool
    candidates: list[exp.Expr] = field(default_factory=list)


@dataclass
class SelectInfo:
    select: exp.Select
    occurrences: list[Occurrence]
    single_source: bool  # FROM one table, no joins
    unsafe: bool = False


_VOLATILE = {"RANDOM", "RAND", "UUID", "GEN_RANDOM_UUID", "NEXTVAL", "SETSEED"}


def _pushable_shape(node: exp.Expr) -> bool:
    if node.find(exp.Subquery, exp.Select, exp.Exists, exp.AggFunc, exp.Window):
        return False
    for f in node.find_all(exp.Func):
        if isinstance(f, exp.Rand) or type(f).__name__.upper() in _VOLATILE:
            return False
        if isinstance(f, exp.Anonymous) and str(f.this).upper() in _VOLATILE:
            return False
    return True


def _aliases(node: exp.Expr) -> set[str]:
    return {c.table for c in node.find_all(exp.Column)}


def is_constant(node: exp.Expr) -> bool:
    """Reads no column, parameter or subquery and calls nothing volatile: the same for every row."""
    return node.find(exp.Column, exp.Placeholder, exp.Star) is None and _pushable_shape(node)


@dataclass
class Source:
    """One FROM/JOIN item of a SELECT (a table, a derived table, a CTE reference, ...)."""

    node: exp.Expr
    alias: str
    null_supplying: bool
    candidates: list[exp.Expr] = field(default_factory=list)


def select_sources(select: exp.Select) -> tuple[list[Source], bool]:
    """The FROM/JOIN items of ``select`` with the WHERE/ON conjuncts that may filter each one (see
    the module docstring), and whether a join kind makes filtering any of them unsafe (ASOF,
    POSITIONAL, LATERAL: then no item gets a candidate)."""
    from_ = select.args.get("from_")
    if from_ is None:
        return [], False
    items: list[tuple[exp.Expr, exp.Join | None]] = [(from_.this, None)]
    items += [(j.this, j) for j in select.args.get("joins") or []]
    sources: list[Source] = []
    unsafe = False
    # an inner join's ON conjuncts and the items joined at or before it (its scope)
    inner_on: list[tuple[list[exp.Expr], list[Source]]] = []
    for node, join in items:
        src = Source(node, node.alias_or_name, False)
        if join is not None:
            side, kind = (join.side or "").upper(), (join.kind or "").upper()
            method = (join.args.get("method") or "").upper()
            if method in {"ASOF", "POSITIONAL"} or kind in {"LATERAL"}:
                unsafe = True
            if side in {"RIGHT", "FULL"}:
                for prev in sources:
                    prev.null_supplying = True
                src.null_supplying = side == "FULL"
            elif side == "LEFT" or kind in {"SEMI", "ANTI"}:
                src.null_supplying = True
                # the null-supplying side's own ON conjuncts filter it before the join
                src.candidates += [c for c in conjuncts(join.args.get("on"))
                                   if (_aliases(c) == {src.alias} and _pushable_shape(c)) or is_constant(c)]
            elif not side:
                # inner / cross join: its ON conjuncts act like WHERE conjuncts
                inner_on.append((conjuncts(join.args.get("on")), [*sources, src]))
        sources.append(src)
    by_alias = {s.alias: s for s in sources}
    for cs, scope in [(conjuncts(select.args.get("where")), sources), *inner_on]:
        for c in cs:
            if is_constant(c):
                for s in scope:
                    if not s.null_supplying:
                        s.candidates.append(c)
                continue
            names = _aliases(c)
            if len(names) != 1 or not _pushable_shape(c):
                continue
            target = by_alias.get(next(iter(names)))
            if target is not None and not target.null_supplying:
                target.candidates.append(c)
    if unsafe:
        for s in sources:
            s.candidates = []
    return sources, unsafe


def find_selects(tree: exp.Expr, is_remote: dict[int, bool]) -> Iterator[SelectInfo]:
    """Every SELECT whose FROM/JOIN names a remote table (``is_remote`` is keyed by nid)."""
    for select in tree.find_all(exp.Select):
        sources, unsafe = select_sources(select)
        occs = [Occurrence(s.node, s.alias, select, s.null_supplying, s.candidates) for s in sources
                if isinstance(s.node, exp.Table) and is_remote.get(nid(s.node) or -1, False)]
        if occs:
            yield SelectInfo(select, occs, single_source=not select.args.get("joins"), unsafe=unsafe)
