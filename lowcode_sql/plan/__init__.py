"""SQL text -> ``QueryPlan``: one ``ScanSpec`` per remote table reference plus the SQL DuckDB runs.

Passes, in order: parse -> bind parameters -> tag nodes -> resolve remote tables -> qualify a copy
-> find scans and candidate conjuncts (``analyze``) -> convert to the predicate IR
(``predicates``) -> contradiction check -> the dialect classifies exact/superset/local ->
needed columns -> COUNT/LIMIT/ORDER pushdown -> rewrite the original AST (``rewrite``).

``pushdown=False`` plans the same query with nothing pushed (``lowcode_sql.verify``'s reference
run): every condition, sort, limit, projection and aggregate is DuckDB's; only the equalities on
``filter_only`` columns are still sent, since they address the rows (a Totalum many-to-many table
is read per source record) rather than narrow them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from dialect._base import ColumnDef, Dialect, TableDef
from lowcode_sql.errors import ParameterError, SQLSyntaxError, UnknownColumn, UnsupportedQuery
from lowcode_sql.plan.analyze import SelectInfo, conjuncts, find_selects, is_constant, nid
from lowcode_sql.plan.contradiction import is_contradiction
from lowcode_sql.plan.params import bind_params, number_qmarks
from lowcode_sql.plan.predicates import Converter, Folder
from lowcode_sql.plan.rewrite import rewrite
from lowcode_sql.sqltypes import sql_type
from lowcode_sql.types import Aggregate, And, Const, Exactness, Pred, ScanSpec, SortKey

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


@dataclass(frozen=True)
class QueryPlan:
    sql: str
    scans: tuple[PlannedScan, ...]
    original: str
    notes: tuple[str, ...] = field(default=())


def parse(sql: str) -> exp.Expression:
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


def plan(
    sql: str,
    catalog: CatalogView,
    folder: Folder,
    params: Sequence[Any] | dict[str, Any] | None = None,
    view_prefix: str = "__lc_scan",
    pushdown: bool = True,
) -> QueryPlan:
    marks = 0
    if params is not None and not isinstance(params, dict):
        sql_text, marks = number_qmarks(sql)
        if marks and marks != len(params):
            raise ParameterError(f"{len(params)} parameters given but the query has {marks} '?' placeholders")
    else:
        sql_text = sql
    tree = parse(sql_text)
    if params is not None:
        bind_params(tree, params)
    elif tree.find(exp.Placeholder, exp.Parameter):
        raise ParameterError("the query has parameters ($1, ?) but no values were given")
    for i, node in enumerate(tree.walk()):
        node.meta["nid"] = i

    cte_names = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    remote: dict[int, tuple[str, TableDef, Dialect]] = {}
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

    mapping: dict[str, dict[str, dict[str, str]]] = {}
    for s, t, _ in remote.values():
        mapping.setdefault(s, {})[t.name] = {c.name: sql_type(c.type) for c in t.columns}
    # DuckDB resolves identifiers case-insensitively, quoted or not, and so does sqlglot's qualify
    # for DuckDB (it lower-cases them all): qualify against lower-cased names, then give the
    # analysed tree back the catalog's own spelling (createdat -> createdAt).
    schema = MappingSchema(mapping, dialect="duckdb", normalize=True)
    try:
        qualified = qualify(tree.copy(), schema=schema, dialect="duckdb", quote_identifiers=False,
                            identify=False, validate_qualify_columns=True)
    except OptimizeError as e:
        raise _column_error(e, remote.values()) from None
    _catalog_spelling(qualified, [t for _, t, _ in remote.values()])

    is_remote = {k: True for k in remote}
    selects = list(find_selects(qualified, is_remote))
    # SELECT * / t.* / COLUMNS(...) (expanded in the qualified copy, not in the SQL DuckDB runs) would
    # also expand to a grouped scan view's own columns (__lc_count, ...): such a SELECT is not grouped
    expanding = {nid(s) for s in tree.find_all(exp.Select) if any(_expands(e) for e in s.expressions)}
    scans: list[_ScanState] = []
    for info in selects:
        for occ in info.occurrences:
            source, table, dialect = remote[nid(occ.table_node)]  # type: ignore[index]
            st = _ScanState(len(scans) + 1, source, table, dialect, occ.alias, occ.table_node, info)
            st.expanding_select = nid(info.select) in expanding
            st.pushdown = pushdown
            st.classify(occ.candidates, folder)
            scans.append(st)

    dropped = {n for st in scans for n in st.dropped}
    _needed_columns(qualified, scans, dropped)
    for st in scans:
        if not pushdown:  # no projection either: every column the API returns
            st.needed |= {c.name for c in st.table.columns if not c.filter_only}
    removed_offsets: set[int] = set()
    # aggregates an API computes: node id -> (function, column), re-aggregated over the API's groups
    rewrites: dict[int, tuple[str, str | None]] = {}
    for st in scans:
        st.decide_pushdowns(dropped, removed_offsets, rewrites)

    views = {st.table_nid: f"{view_prefix}_{st.index}" for st in scans}
    out_sql = rewrite(tree, views, dropped, removed_offsets, {s for s, _, _ in remote.values()}, qualified,
                      rewrites, _namer(scans, folder))
    planned = tuple(
        PlannedScan(views[st.table_nid], st.source, st.table, st.dialect, st.spec(), st.alias) for st in scans
    )
    return QueryPlan(out_sql, planned, sql)


def _namer(scans: list[_ScanState], folder: Folder) -> Any:
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
        return output_names(probe.sql("duckdb"))  # type: ignore[no-any-return]

    return names


def _catalog_spelling(qualified: exp.Expression, tables: list[TableDef]) -> None:
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


class _ScanState:
    """Decisions for one table occurrence while planning."""

    def __init__(self, index: int, source: str, table: TableDef, dialect: Dialect, alias: str,
                 node: exp.Table, info: SelectInfo) -> None:
        self.index, self.source, self.table, self.dialect = index, source, table, dialect
        self.alias, self.info = alias, info
        self.table_nid: int = nid(node)  # type: ignore[assignment]
        self.pushed: list[tuple[Pred, Exactness]] = []
        self.local: list[Pred] = []
        self.dropped: set[int] = set()
        self.all_exact = True
        self.contradiction = False
        self.needed: set[str] = set()
        self.order: tuple[SortKey, ...] = ()
        self.limit: int | None = None
        self.offset = 0
        self.count_only = False
        self.group_by: tuple[str, ...] = ()
        self.aggregates: tuple[Aggregate, ...] = ()
        self.expanding_select = False  # its SELECT list has a star or COLUMNS(...)
        self.pushdown = True  # False: push nothing (see the module docstring)

    def classify(self, candidates: list[exp.Expression], folder: Folder) -> None:
        if not self.pushdown:
            addressing = [n for n in candidates if self._on_filter_only(n)]
            if len(addressing) < len(candidates):
                self.all_exact = False  # the rest stay in the SQL, untouched: DuckDB evaluates them
            candidates = addressing
        columns = {c.name: sql_type(c.type) for c in self.table.columns}
        conv = Converter(self.alias, columns, folder)
        preds: list[tuple[exp.Expression, Pred, bool]] = []
        for node in candidates:
            if is_constant(node):
                # WHERE FALSE / 1 = 0 / NULL / TRUE: DuckDB evaluates it once; never sent to an API
                res = folder(node.sql(dialect="duckdb"), "BOOLEAN")
                if not res.ok:
                    continue  # not a boolean DuckDB can fold: it stays in the SQL, DuckDB decides
                if res.value is True:
                    self.dropped.add(nid(node))  # type: ignore[arg-type]
                    continue
                preds.append((node, Const(False), True))  # FALSE or NULL keeps no row
                continue
            pred, exact = conv.convert(node)
            if pred is None:
                self.all_exact = False
                continue
            preds.append((node, pred, exact))
        if is_contradiction([p for _, p, _ in preds]):
            self.contradiction = True
            self.dropped |= {nid(n) for n, _, _ in preds if nid(n) is not None}  # type: ignore[misc]
            return
        # A conjunct that is itself an AND (BETWEEN, NOT (a OR b)) is offered to the dialect item
        # by item; the SQL node is dropped only when every item is pushed exactly.
        flat: list[tuple[int, Pred]] = []
        for i, (_, pred, _) in enumerate(preds):
            flat.extend((i, item) for item in (pred.items if isinstance(pred, And) else (pred,)))
        decisions = self.dialect.classify(self.table, [p for _, p in flat]) if flat else []
        node_exact = [conv_exact for _, _, conv_exact in preds]
        for (i, item), decision in zip(flat, decisions, strict=True):
            if decision is Exactness.EXACT and not preds[i][2]:
                decision = Exactness.SUPERSET
            if decision is not Exactness.LOCAL:
                self.pushed.append((item, decision))
            if decision is not Exactness.EXACT:
                node_exact[i] = False
        for (node, pred, _), exact in zip(preds, node_exact, strict=True):
            if exact and nid(node) is not None:
                self.dropped.add(nid(node))  # type: ignore[arg-type]
                continue
            self.all_exact = False
            if not any(p is pred or (isinstance(pred, And) and p in pred.items) for p, _ in self.pushed):
                self.local.append(pred)
            elif isinstance(pred, And):
                self.local.append(pred)  # partly pushed: DuckDB re-checks the whole conjunct

    def _on_filter_only(self, node: exp.Expression) -> bool:
        filter_only = {c.name.lower() for c in self.table.columns if c.filter_only}
        return any(c.table == self.alias and c.name.lower() in filter_only for c in node.find_all(exp.Column))

    def _aggregate(self, sel: exp.Select, dropped: set[int], rewrites: dict[int, tuple[str, str | None]]) -> bool:
        """``SELECT keys, aggregates ... [GROUP BY keys]`` over exact filters: let the API aggregate.

        COUNT(*), COUNT(col), SUM, AVG, MIN and MAX of plain columns are sent (see ``Aggregate``);
        anything else in the SELECT (DISTINCT aggregates, FILTER, windows, other functions) keeps the
        scan row-wise. Expressions over the aggregates, HAVING, ORDER BY and LIMIT stay local, over
        DuckDB's re-aggregation of the API's groups."""
        if (self.expanding_select or sel.args.get("distinct") or sel.args.get("qualify")
                or _remaining_where(sel, dropped)):
            return False
        keys: list[str] = []
        group = sel.args.get("group")
        if group is not None:
            if any(group.args.get(k) for k in ("grouping_sets", "cube", "rollup", "totals", "all")):
                return False
            for g in group.expressions:
                col = self._plain_column(g)
                if col is None:
                    return False
                keys.append(col.name)
        wanted: list[Aggregate] = []
        found: dict[int, tuple[str, str | None]] = {}
        for node in sel.find_all(exp.AggFunc, exp.Window, exp.Subquery):
            if node.parent_select is not sel:
                continue
            asked = self._as_aggregate(node)
            if asked is None or nid(node) is None:
                return False
            wanted.extend(asked)
            found[nid(node)] = (type(node).__name__.lower(), asked[0].column)  # type: ignore[index]
        if not found:
            return False
        aggregates = tuple(dict.fromkeys(wanted))
        keys = list(dict.fromkeys(keys))
        if not self.dialect.can_aggregate(self.table, keys, aggregates, filters=[p for p, _ in self.pushed]):
            return False
        self.group_by, self.aggregates = tuple(keys), aggregates
        rewrites.update(found)
        return True

    def _plain_column(self, node: exp.Expression) -> ColumnDef | None:
        if isinstance(node, exp.Column) and node.table == self.alias and self.table.has(node.name):
            col = self.table.column(node.name)
            return None if col.filter_only else col
        return None

    def _as_aggregate(self, node: exp.Expression) -> list[Aggregate] | None:
        if isinstance(node.parent, exp.Filter | exp.Window) or isinstance(node, exp.Window | exp.Subquery):
            return None
        if isinstance(node, exp.Count):
            if isinstance(node.this, exp.Distinct):
                return None
            if isinstance(node.this, exp.Star):
                return [Aggregate("count_star")]
        if not isinstance(node, exp.Count | exp.Sum | exp.Avg | exp.Min | exp.Max):
            return None
        if node.expressions or any(k not in ("this",) and v for k, v in node.args.items() if k != "big_int"):
            return None  # extra arguments (MIN(x, n)), ordered or ignore-nulls variants
        col = self._plain_column(node.this)
        if col is None:
            return None
        kind = col.type
        if isinstance(node, exp.Count):
            return [Aggregate("count", col.name)]
        if isinstance(node, exp.Sum | exp.Avg):
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                return None  # DECIMAL sums keep their exact type only if DuckDB computes them
            return [Aggregate("sum", col.name), Aggregate("count", col.name)]
        if pa.types.is_nested(kind):
            return None
        return [Aggregate("min" if isinstance(node, exp.Min) else "max", col.name)]

    def decide_pushdowns(self, dropped: set[int], removed_offsets: set[int],
                         rewrites: dict[int, tuple[str, str | None]]) -> None:
        if self.contradiction or not self.pushdown:
            return
        if not self.needed and self.all_exact and self.dialect.can_count(self.table):
            self.count_only = True
            return
        sel = self.info.select
        if not (self.info.single_source and self.all_exact):
            return
        if (sel.args.get("group") or sel.find(exp.AggFunc)) and self._aggregate(sel, dropped, rewrites):
            return
        if any(sel.args.get(k) for k in ("group", "having", "distinct", "qualify")):
            return
        if sel.find(exp.AggFunc, exp.Window) or _remaining_where(sel, dropped):
            return
        limit_node, offset_node = sel.args.get("limit"), sel.args.get("offset")
        limit = _int_literal(limit_node.expression) if isinstance(limit_node, exp.Limit) else None
        offset = _int_literal(offset_node.expression) if isinstance(offset_node, exp.Offset) else 0
        if limit is None or offset is None:
            return
        order = self._sort_keys(sel.args.get("order"))
        if order is None:
            return
        max_limit = self.dialect.max_pushed_limit
        if order and max_limit is not None and limit + offset > max_limit:
            return  # a sorted multi-page fetch could reorder ties between pages
        self.order, self.limit = order, limit
        if offset and nid(offset_node) is not None:
            self.offset = offset
            removed_offsets.add(nid(offset_node))  # type: ignore[arg-type]

    def _sort_keys(self, order: exp.Order | None) -> tuple[SortKey, ...] | None:
        if order is None:
            return ()
        keys = []
        projections = {e.alias_or_name: e.unalias() for e in self.info.select.expressions}
        for o in order.expressions:
            col = o.this
            if isinstance(col, exp.Column) and not col.table and col.name in projections:
                col = projections[col.name]  # ORDER BY an output column: qualify leaves it bare
            if not (isinstance(col, exp.Column) and col.table == self.alias and self.table.has(col.name)):
                return None
            desc = bool(o.args.get("desc"))
            nulls_first = o.args.get("nulls_first")
            # DuckDB's default is NULLS LAST for both directions.
            keys.append(SortKey(col.name, desc, bool(nulls_first)))
        keys_t = tuple(keys)
        return keys_t if self.dialect.can_sort(self.table, keys_t) else None

    def spec(self) -> ScanSpec:
        cols = tuple(c.name for c in self.table.columns if c.name in self.needed)
        return ScanSpec(
            self.source, self.table.name, cols, tuple(self.pushed), tuple(self.local), self.order,
            self.limit, self.offset, self.count_only, self.contradiction, self.group_by, self.aggregates,
        )


def _expands(item: exp.Expression) -> bool:
    item = item.unalias()
    return isinstance(item, exp.Star | exp.Columns) or (
        isinstance(item, exp.Column) and isinstance(item.this, exp.Star))


def _int_literal(node: exp.Expression | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            v = int(node.this)
        except ValueError:
            return None
        return v if v >= 0 else None
    return None


def _remaining_where(sel: exp.Select, dropped: set[int]) -> bool:
    return any(nid(c) not in dropped for c in conjuncts(sel.args.get("where")))


def _needed_columns(qualified: exp.Expression, scans: list[_ScanState], dropped: set[int]) -> None:
    """Columns each scan must deliver. Matched by alias over the whole tree: two scopes that reuse
    an alias only make both scans fetch a little more, never less."""
    by_alias: dict[str, list[_ScanState]] = {}
    for st in scans:
        by_alias.setdefault(st.alias, []).append(st)

    def inside_dropped(node: exp.Expression) -> bool:
        n: exp.Expression | None = node
        while n is not None:
            if nid(n) in dropped:
                return True
            n = n.parent
        return False

    for col in qualified.find_all(exp.Column):
        for st in by_alias.get(col.table, ()):
            if st.table.has(col.name) and not inside_dropped(col):
                st.needed.add(col.name)
