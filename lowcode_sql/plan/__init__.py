"""SQL text -> ``QueryPlan``: one ``ScanSpec`` per remote table reference plus the SQL DuckDB runs.

Passes, in order (each a function called from ``plan``): parse and bind parameters -> tag nodes ->
resolve remote tables -> qualify a copy -> find scans and candidate conjuncts (``analyze``), each
scan's conjuncts converted to the predicate IR (``predicates``), checked for a contradiction
(``contradiction``) and split exact/superset/local (``split``) -> needed columns -> COUNT /
aggregate / ORDER / LIMIT pushdown (``scans``) -> rewrite the original AST (``rewrite``).

``pushdown=False`` plans the same query with nothing pushed (``lowcode_sql.verify``'s reference
run): every condition, sort, limit, projection and aggregate is DuckDB's; only the equalities on
``filter_only`` columns are still sent, since they address the rows (a Totalum many-to-many table
is read per source record) rather than narrow them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from dialect import Dialect, TableDef
from lowcode_sql.errors import ParameterError, SQLSyntaxError, UnknownColumn, UnsupportedQuery
from lowcode_sql.plan.analyze import find_selects, nid, node_id
from lowcode_sql.plan.joins import BoundJoin, bound_joins
from lowcode_sql.plan.params import bind_params, number_qmarks
from lowcode_sql.plan.predicates import Folder
from lowcode_sql.plan.prune import prune_outputs
from lowcode_sql.plan.pushthrough import push_through
from lowcode_sql.plan.rewrite import rewrite
from lowcode_sql.plan.scans import ScanState
from lowcode_sql.plan.sharing import Decided, Feed, SharedGroup, finish, may_stop_early, share_scans
from lowcode_sql.plan.unwrap import unwrap
from lowcode_sql.scanspec import ScanSpec
from lowcode_sql.sqltypes import sql_type

__all__ = ["CatalogView", "PlannedScan", "QueryPlan", "plan"]


class CatalogView(Protocol):
    def resolve(self, db: str | None, name: str) -> tuple[str, TableDef, Dialect]: ...


@dataclass(frozen=True)
class PlannedScan:
    view: str  # the name the scan is registered under in DuckDB
    source: str
    table: TableDef
    dialect: Dialect
    spec: ScanSpec
    alias: str
    feeds: tuple[Feed, ...] = ()  # a shared scan (plan/sharing.py): the references' views it feeds


@dataclass(frozen=True)
class QueryPlan:
    sql: str
    scans: tuple[PlannedScan, ...]
    original: str
    notes: tuple[str, ...] = field(default=())
    joins: tuple[BoundJoin, ...] = ()  # scans reduced by another scan's join keys (plan/joins.py)


def parse(sql: str) -> exp.Query:
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        raise SQLSyntaxError(f"syntax error: {err.get('description', e)}", err.get("line"), err.get("col")) from None
    except SqlglotError as e:
        raise SQLSyntaxError(f"syntax error: {e}") from None
    if len(statements) != 1:
        raise UnsupportedQuery(f"expected one statement, got {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise UnsupportedQuery(
            f"only queries (SELECT, UNION, ...) are supported, not {tree.key.upper()}: "
            "lowcode_sql reads platforms and never writes to them"
        )
    return tree


Remote = dict[int, tuple[str, TableDef, Dialect]]  # a remote table node's id -> (source, table, dialect)


def plan(
    sql: str,
    catalog: CatalogView,
    folder: Folder,
    params: Sequence[Any] | dict[str, Any] | None = None,
    view_prefix: str = "__lc_scan",
    pushdown: bool = True,
) -> QueryPlan:
    tree = _parse_and_bind(sql, params)
    unwrap(tree)  # (SELECT * FROM t) AS s -> t AS s: BI tools' wrappers cost nothing
    _tag_nodes(tree)
    remote = _resolve_tables(tree, catalog)
    qualified = _qualify(tree, remote)
    prune_outputs(tree, qualified)  # a derived table's outputs its outer query never reads
    scans = _find_scans(tree, qualified, remote, folder, pushdown)
    dropped = {n for st in scans for n in st.dropped}
    _needed_columns(qualified, scans, dropped)
    for st in scans:
        if not pushdown:  # no projection either: every column the API returns
            st.needed |= {c.name for c in st.table.columns if not c.filter_only}
    decided = _decide_pushdowns(scans, dropped)
    groups = share_scans(scans, decided, may_stop_early(tree)) if pushdown else []
    if groups:  # a shared reference's conjuncts stay in the SQL: the columns they read are needed
        dropped = {n for st in scans for n in st.dropped}
        for st in scans:
            st.needed = set()
        _needed_columns(qualified, scans, dropped)
    removed_offsets = {o for offsets, _ in decided.values() for o in offsets}
    rewrites = {k: v for _, found in decided.values() for k, v in found.items()}
    views = {st.table_nid: f"{view_prefix}_{st.index}" for st in scans}
    out_sql = rewrite(tree, views, dropped, removed_offsets, {s for s, _, _ in remote.values()}, qualified,
                      rewrites, _namer(scans, folder))
    shared = {st.index for g in groups for st in g.members}  # one fetch for several references: not bound
    joins = bound_joins(qualified, [st for st in scans if st.index not in shared], views) if pushdown else ()
    return QueryPlan(out_sql, _planned(scans, groups, views, view_prefix), sql, joins=joins)


def _planned(scans: list[ScanState], groups: list[SharedGroup], views: dict[int, str],
             view_prefix: str) -> tuple[PlannedScan, ...]:
    """One ``PlannedScan`` per fetch: a shared one (at its first reference's place) feeds the views
    of all its references."""
    first = {g.members[0].index: g for g in groups}
    shared = {st.index for g in groups for st in g.members}
    out = []
    for st in scans:
        if st.index in first:
            spec, fed = finish(first[st.index])
            feeds = tuple(Feed(views[m.table_nid], m.alias, cols) for m, cols in fed)
            out.append(PlannedScan(f"{view_prefix}_shared_{st.index}", st.source, st.table, st.dialect, spec,
                                   ", ".join(f.alias for f in feeds), feeds))
        elif st.index not in shared:
            out.append(PlannedScan(views[st.table_nid], st.source, st.table, st.dialect, st.spec(), st.alias))
    return tuple(out)


def _parse_and_bind(sql: str, params: Sequence[Any] | dict[str, Any] | None) -> exp.Expr:
    """Parse one query and bind its parameters (``?`` numbered first for a sequence of values)."""
    if params is not None and not isinstance(params, dict):
        sql, marks = number_qmarks(sql)
        if marks and marks != len(params):
            raise ParameterError(f"{len(params)} parameters given but the query has {marks} '?' placeholders")
    tree = parse(sql)
    if params is not None:
        bind_params(tree, params)
    elif tree.find(exp.Placeholder, exp.Parameter):
        raise ParameterError("the query has parameters ($1, ?) but no values were given")
    return tree


def _tag_nodes(tree: exp.Expr) -> None:
    """Number every node (``nid``): the qualified copy keeps the numbers, so a decision taken on the
    copy finds its node in the original tree."""
    for i, node in enumerate(tree.walk()):
        node.meta["nid"] = i


def _resolve_tables(tree: exp.Expr, catalog: CatalogView) -> Remote:
    """Resolve every table reference that is not a CTE against the catalog, and spell it as
    ``source.table AS alias`` in the tree."""
    cte_names = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    remote: Remote = {}
    for tb in tree.find_all(exp.Table):
        if not isinstance(tb.this, exp.Identifier) or (not tb.db and tb.name.lower() in cte_names):
            continue
        if tb.catalog:
            raise UnsupportedQuery(f"three-part table names are not supported: {tb.sql('duckdb')}")
        source, table, dialect = catalog.resolve(tb.db or None, tb.name)
        remote[nid(tb)] = (source, table, dialect)  # type: ignore[index]
        tb.set("db", exp.to_identifier(source))
        tb.set("this", exp.to_identifier(table.name))
        if not tb.alias:
            tb.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
    return remote


def _qualify(tree: exp.Expr, remote: Remote) -> exp.Expr:
    """A copy of the tree with every column qualified by its table's alias (stars expanded)."""
    mapping: dict[str, dict[str, dict[str, str]]] = {}
    for s, t, _ in remote.values():
        mapping.setdefault(s, {})[t.name] = {c.name: sql_type(c.type) for c in t.columns}
    # DuckDB resolves identifiers case-insensitively, quoted or not, and so does sqlglot's qualify
    # for DuckDB (it lower-cases them all): qualify against lower-cased names, then give the
    # analysed tree back the catalog's own spelling (createdat -> createdAt).
    schema = MappingSchema(dict(mapping), dialect="duckdb", normalize=True)  # dict(): retyped as its dict[str, object]
    try:
        qualified = qualify(tree.copy(), schema=schema, dialect="duckdb", quote_identifiers=False,
                            identify=False, validate_qualify_columns=True)
    except OptimizeError as e:
        raise _column_error(e, remote.values()) from None
    _catalog_spelling(qualified, [t for _, t, _ in remote.values()])
    return qualified


def _find_scans(tree: exp.Expr, qualified: exp.Expr, remote: Remote, folder: Folder,
                pushdown: bool = True) -> list[ScanState]:
    """One ``ScanState`` per remote table occurrence, its candidate conjuncts already split
    between the API and DuckDB (none sent with ``pushdown=False`` but those addressing rows)."""
    is_remote = {k: True for k in remote}
    selects = list(find_selects(qualified, is_remote))
    push_through(qualified, selects, lambda t, c: _column_type(remote, t, c))  # through wrappers
    # SELECT * / t.* / COLUMNS(...) (expanded in the qualified copy, not in the SQL DuckDB runs) would
    # also expand to a grouped scan view's own columns (__lc_count, ...): such a SELECT is not grouped
    expanding = {nid(s) for s in tree.find_all(exp.Select) if any(_expands(e) for e in s.expressions)}
    scans: list[ScanState] = []
    for info in selects:
        for occ in info.occurrences:
            source, table, dialect = remote[nid(occ.table_node)]  # type: ignore[index]
            st = ScanState(len(scans) + 1, source, table, dialect, occ.alias, occ.table_node, info)
            st.expanding_select = nid(info.select) in expanding
            st.pushdown = pushdown
            st.classify(occ.candidates, folder)
            scans.append(st)
    return scans


def _column_type(remote: Remote, node: exp.Table, column: str) -> str | None:
    _, table, _ = remote[node_id(node)]
    return sql_type(table.column(column).type) if table.has(column) else None


def _decide_pushdowns(scans: list[ScanState], dropped: set[int]) -> Decided:
    """COUNT / aggregate / ORDER BY / LIMIT pushdown per scan: the OFFSET nodes the API now applies,
    and the aggregates it computes (node id -> (function, column), re-aggregated over its groups),
    kept per scan (scan sharing may undo a scan's)."""
    decided: Decided = {}
    for st in scans:
        decided[st.index] = (set(), {})
        st.decide_pushdowns(dropped, *decided[st.index])
    return decided


def _namer(scans: list[ScanState], folder: Folder) -> Any:
    """Names DuckDB gives a SELECT's outputs, found by running it over an empty stand-in of its one
    remote table (only asked for SELECTs whose aggregates the API computes)."""
    output_names = getattr(folder, "output_names", None)
    grouped = {st.alias.lower(): st for st in scans if st.aggregates}
    if output_names is None or not grouped:
        return None

    def names(select: exp.Select) -> list[str] | None:
        tables = [t for t in select.find_all(exp.Table) if t.parent_select is select]
        if len(tables) != 1 or tables[0].alias_or_name.lower() not in grouped:
            return None
        st = grouped[tables[0].alias_or_name.lower()]
        cols = ", ".join(f"CAST(NULL AS {sql_type(c.type)}) AS {exp.to_identifier(c.name).sql('duckdb')}"
                         for c in st.table.columns)
        probe = select.copy()
        for key in ("where", "having", "order", "limit", "offset", "joins", "with"):
            probe.set(key, None)
        stand_in = exp.Subquery(this=sqlglot.parse_one(f"SELECT {cols}", read="duckdb"),
                                alias=exp.TableAlias(this=exp.to_identifier(st.alias)))
        probe.set("from_", exp.From(this=stand_in))
        return output_names(probe.sql("duckdb"))

    return names


def _catalog_spelling(qualified: exp.Expr, tables: list[TableDef]) -> None:
    """Column names of the qualified tree in the catalog's spelling (a spelling two columns of the
    query's tables share case-insensitively is left lower-cased: it then matches neither)."""
    spellings: dict[str, set[str]] = {}
    for t in tables:
        for c in t.columns:
            spellings.setdefault(c.name.lower(), set()).add(c.name)
    for node in qualified.find_all(exp.Column):
        ident = node.this
        if isinstance(ident, exp.Identifier):
            names = spellings.get(ident.name.lower(), ())
            if len(names) == 1:
                ident.set("this", next(iter(names)))
    for alias in qualified.find_all(exp.Alias):  # qualify's "col AS col" (expanded stars)
        if isinstance(alias.this, exp.Column) and alias.alias.lower() == alias.this.name.lower():
            alias.set("alias", exp.to_identifier(alias.this.name))


def _column_error(e: OptimizeError, tables: Any) -> Exception:
    msg = str(e)
    name = msg.split("'")[1] if "'" in msg else msg.rsplit(":", 1)[-1].strip()
    tables = list(tables)
    cols = [c.name for _, t, _ in tables for c in t.columns]
    # qualify says "could not be resolved" for a name two tables share too: say which ones
    having = [f"{s}.{t.name}" for s, t, _ in tables if any(c.name.lower() == name.lower() for c in t.columns)]
    if len(having) > 1 and ("could not be resolved" in msg or "Unknown column" in msg):
        return UnknownColumn.ambiguous(name, having)
    if "could not be resolved" in msg or "Unknown column" in msg:
        return UnknownColumn(name, None, cols)
    return UnsupportedQuery(f"cannot analyse the query: {msg}")


def _expands(item: exp.Expr) -> bool:
    item = item.unalias()
    return isinstance(item, exp.Star | exp.Columns) or (
        isinstance(item, exp.Column) and isinstance(item.this, exp.Star))


def _needed_columns(qualified: exp.Expr, scans: list[ScanState], dropped: set[int]) -> None:
    """Columns each scan must deliver. Matched by alias over the whole tree: two scopes that reuse
    an alias only make both scans fetch a little more, never less."""
    by_alias: dict[str, list[ScanState]] = {}
    for st in scans:
        by_alias.setdefault(st.alias, []).append(st)

    def inside_dropped(node: exp.Expr) -> bool:
        n: exp.Expr | None = node
        while n is not None:
            if nid(n) in dropped:
                return True
            n = n.parent
        return False

    for col in qualified.find_all(exp.Column):
        for st in by_alias.get(col.table, ()):
            if st.table.has(col.name) and not inside_dropped(col):
                st.needed.add(col.name)
