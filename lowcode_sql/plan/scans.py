"""The planner's decisions for one remote table occurrence (``ScanState``): which conjuncts the
API takes (``plan/split.py``), and whether it also counts, aggregates, sorts or limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from dialect import ColumnDef, Dialect, TableDef
from lowcode_sql.ir import And, Cmp, Const, Exactness, InList, IsNull, Like, ListContains, Op, Or, Pred
from lowcode_sql.plan.analyze import SelectInfo, conjuncts, is_constant, nid
from lowcode_sql.plan.contradiction import is_contradiction
from lowcode_sql.plan.predicates import Converter, Folder
from lowcode_sql.plan.pushthrough import COPY
from lowcode_sql.plan.split import split
from lowcode_sql.scanspec import Aggregate, ScanSpec, SortKey
from lowcode_sql.sqltypes import sql_type

__all__ = ["ScanState"]


class ScanState:
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
        self.pushdown = True  # False: push nothing (see the plan package's docstring)

    def classify(self, candidates: list[exp.Expr], folder: Folder) -> None:
        if not self.pushdown:
            addressing = [n for n in candidates if self._on_filter_only(n)]
            if len(addressing) < len(candidates):
                self.all_exact = False  # the rest stay in the SQL, untouched: DuckDB evaluates them
            candidates = addressing
        columns = {c.name: sql_type(c.type) for c in self.table.columns}
        conv = Converter(self.alias, columns, folder)
        preds: list[tuple[exp.Expr, Pred, bool]] = []
        copies = {id(n) for n in candidates if n.meta.get(COPY)}  # plan/pushthrough.py's outer filters
        for node in candidates:
            if is_constant(node):
                # WHERE FALSE / 1 = 0 / NULL / TRUE: DuckDB evaluates it once; never sent to an API
                res = folder(node.sql(dialect="duckdb"), "BOOLEAN")
                if not res.ok:
                    continue  # not a boolean DuckDB can fold: it stays in the SQL, DuckDB decides
                if res.value is True:
                    if nid(node) is not None:
                        self.dropped.add(nid(node))  # type: ignore[arg-type]
                    continue
                preds.append((node, Const(False), True))  # FALSE or NULL keeps no row
                continue
            pred, exact = conv.convert(node)
            if pred is None:
                self.all_exact = self.all_exact and id(node) in copies
                continue
            preds.append((node, pred, exact))
        if is_contradiction([p for _, p, _ in preds]):
            self.contradiction = True
            self.dropped |= {nid(n) for n, _, _ in preds if nid(n) is not None}  # type: ignore[misc]
            return
        # the API's share of the conjuncts (plan/split.py: flatten, classify, demote)
        shares = split(self.dialect, self.table, [p for _, p, _ in preds], [e for _, _, e in preds])
        self.pushed.extend(shares.pushed)
        node_exact = shares.exact
        for (node, pred, _), exact in zip(preds, node_exact, strict=True):
            if exact and nid(node) is not None:
                self.dropped.add(nid(node))  # type: ignore[arg-type]
                continue
            if id(node) in copies:
                continue  # the outer conjunct stays in DuckDB's SQL: any rows between it and all do
            self.all_exact = False
            if not any(p is pred or (isinstance(pred, And) and p in pred.items) for p, _ in self.pushed):
                self.local.append(pred)
            elif isinstance(pred, And):
                self.local.append(pred)  # partly pushed: DuckDB re-checks the whole conjunct

    def _on_filter_only(self, node: exp.Expr) -> bool:
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
        if not self.dialect.options.get("count_from_total") and any(_compares_text(p) for p, _ in self.pushed):
            # An API's aggregate, like a COUNT from its total, sends no rows to check (execute/verify.py),
            # and how an API compares text is unconfirmed everywhere: over a text comparison the rows
            # are read and checked instead (see decide_pushdowns; count_from_total = true trusts it).
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

    def _plain_column(self, node: exp.Expr) -> ColumnDef | None:
        if isinstance(node, exp.Column) and node.table == self.alias and self.table.has(node.name):
            col = self.table.column(node.name)
            return None if col.filter_only else col
        return None

    def _as_aggregate(self, node: exp.Expr) -> list[Aggregate] | None:
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
        if (not self.needed and self.all_exact and self.dialect.can_count(self.table)
                and (self.dialect.options.get("count_from_total")
                     or not any(_compares_text(p) for p, _ in self.pushed))):
            # A COUNT from the API's total is never checked (no rows arrive: execute/verify.py), so it
            # is used only where no text comparison is pushed: how an API compares text (collation,
            # case) is unconfirmed on every platform (docs/notes/*-api.md), and a server that ignores
            # case would give another count without a sign (issue 13 matrix, case_insensitive_eq).
            # Otherwise the rows are read and checked; a selective text filter costs one page anyway.
            # The source option count_from_total = true (the user checked the API's text
            # comparisons) brings back the one-request COUNT.
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
        if order and offset and not self._sort_trusted(order):
            # the boundary check of an untrusted sort (execute/verify.py) cannot see the rows an
            # OFFSET skips: ask for them too and let DuckDB skip them
            self.order, self.limit = order, limit + offset
            return
        self.order, self.limit = order, limit
        offset_id = nid(offset_node) if isinstance(offset_node, exp.Offset) else None
        if offset and offset_id is not None:
            self.offset = offset
            removed_offsets.add(offset_id)

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
        if not self.dialect.can_sort(self.table, keys_t):
            return None
        if not (self._sort_trusted(keys_t) or self._boundary_checkable(keys_t)):
            return None  # a sorted LIMIT that cannot be proven (execute/verify.py): sorted locally
        return keys_t

    def _sort_trusted(self, keys: Sequence[SortKey]) -> bool:
        return self.dialect.sort_trusted or self.dialect.sort_confirmed(self.table, keys)

    def _boundary_checkable(self, keys: Sequence[SortKey]) -> bool:
        """Whether the boundary check of a sorted LIMIT (``execute/verify.py``) can send its parts
        exactly: the scan's filters plus ``<``/``>``/``=``/``IS [NOT] NULL`` on each sort key, tried
        with a stand-in value of the key's type. Otherwise the check would read every matching row,
        more than not pushing the sort at all."""
        probes: list[Pred] = [p for p, _ in self.pushed]
        for i, k in enumerate(keys):
            value = _stand_in(self.table.column(k.column).type)
            if value is None:
                return False
            # the parts a check sends whenever the last row has values: the strict comparison of
            # each key's direction, equality on the keys before, IS NULL where NULLs sort first
            # (the rarer parts, with a NULL last value, fall back to reading the rows: still sound)
            probes.append(Cmp(k.column, Op.GT if k.descending else Op.LT, value))
            if i < len(keys) - 1:
                probes.append(Cmp(k.column, Op.EQ, value))
            if k.nulls_first:
                probes.append(IsNull(k.column))
        return all(d is Exactness.EXACT for d in self.dialect.classify(self.table, probes))

    def spec(self) -> ScanSpec:
        cols = tuple(c.name for c in self.table.columns if c.name in self.needed)
        return ScanSpec(
            self.source, self.table.name, cols, tuple(self.pushed), tuple(self.local), self.order,
            self.limit, self.offset, self.count_only, self.contradiction, self.group_by, self.aggregates,
        )


def _compares_text(pred: Pred) -> bool:
    """Whether a conjunct compares text (a string value, a LIKE), in any branch."""
    if isinstance(pred, And | Or):
        return any(_compares_text(p) for p in pred.items)
    if isinstance(pred, Like):
        return True
    if isinstance(pred, Cmp | ListContains):
        return isinstance(pred.value, str)
    if isinstance(pred, InList):
        return any(isinstance(v, str) for v in pred.values)
    return False


def _stand_in(t: pa.DataType) -> Any:
    """A value of an Arrow type, to ask a dialect whether it sends a comparison (None: no idea)."""
    import datetime as dt
    import decimal

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "m"
    if pa.types.is_integer(t):
        return 1
    if pa.types.is_floating(t):
        return 1.5
    if pa.types.is_decimal(t):
        return decimal.Decimal(1)
    if pa.types.is_timestamp(t):
        return dt.datetime(2020, 6, 15, 12, 30, tzinfo=dt.UTC if t.tz else None)
    if pa.types.is_date(t):
        return dt.date(2020, 6, 15)
    return None


def _int_literal(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            v = int(node.this)
        except ValueError:
            return None
        return v if v >= 0 else None
    return None


def _remaining_where(sel: exp.Select, dropped: set[int]) -> bool:
    return any(nid(c) not in dropped for c in conjuncts(sel.args.get("where")))
