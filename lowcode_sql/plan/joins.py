"""Bound joins (semi-join reduction): which scan of an equi-join may receive the other side's keys.

For ``t JOIN p ON t.project = p.id WHERE p.name = 'x'`` the scan of ``p`` (the *build* side, narrowed
by a pushed filter) is read first, and the scan of ``t`` (the *probe* side) asks the API for
``project IN (<p's distinct non-NULL ids>)`` instead of every task. DuckDB still runs the join
unchanged, so the answer is the same as long as that IN filter is exact (checked at run time by the
dialect's ``classify``, value by value: ``execute/bound.py``) and the probe's dropped rows are rows the
query drops anyway. That is the rule decided here, for one conjunct ``l.x = r.y``:

* a top-level WHERE conjunct: every row of the FROM clause it keeps carries values of both columns that
  are equal, so either side may be reduced to the rows whose value is among the other scan's values
  (rows an outer join would null-extend instead have a NULL there and fail the WHERE all the same);
* an ON conjunct of the join that adds table ``r``: ``r`` may be reduced when that join drops ``r``'s
  unmatched rows (INNER, LEFT, SEMI, ANTI: in a SEMI/ANTI join ``r`` only decides by matching);
  a table of the left input when the join drops the left input's unmatched rows (INNER, RIGHT, SEMI).
  FULL joins preserve both sides: nothing is reduced. NATURAL and USING joins are left alone.

Only plain columns of the same type on both sides (text, or integers of any width: DuckDB compares
those exactly; anything cast, another type pair, a nested or a filter-only column is skipped), on
scans that send their rows (no COUNT/aggregate/LIMIT pushed into the probe, no contradiction). The
build side must carry a pushed filter (a hint that it is the small side; the run time still compares
the cost with a full scan of the probe and falls back to it). A scan is reduced at most once, and a
build side is never itself reduced. A query with a LIMIT anywhere is left alone: DuckDB may stop
reading before the end, and reading the build side first could then cost more than today.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from lowcode_sql.plan.analyze import conjuncts
from lowcode_sql.plan.scans import ScanState
from lowcode_sql.requests import CursorPaging, OffsetPaging, ScanRequest

__all__ = ["MAX_BATCH", "BoundJoin", "bound_joins", "full_scan_pages", "page_size"]

MAX_BATCH = 500  # values in one list sent for a bound join, whatever the dialect would take


@dataclass(frozen=True)
class BoundJoin:
    """The probe scan (by view) reads only the rows whose ``probe_column`` is among the distinct
    non-NULL values of ``build_column`` in the build scan's rows."""

    probe: str
    probe_column: str
    build: str
    build_column: str
    build_alias: str
    why: str  # which conjunct allows it, for EXPLAIN

    def describe(self) -> str:
        return (f"{self.probe_column} IN (distinct non-NULL {self.build_alias}.{self.build_column} of scan "
                f"{self.build}, read first) [{self.why}]")


# A candidate: (probe, probe column, build, build column, why)
_Cand = tuple[ScanState, str, ScanState, str, str]


def bound_joins(tree: exp.Expr, scans: list[ScanState], views: dict[int, str]) -> tuple[BoundJoin, ...]:
    """The bound joins of a planned query (``views``: a scan's table node id -> its view name)."""
    if tree.find(exp.Limit, exp.Fetch) is not None:
        return ()
    by_select: dict[int, list[ScanState]] = {}
    for st in scans:
        by_select.setdefault(id(st.info), []).append(st)
    chosen: list[BoundJoin] = []
    probes: set[int] = set()
    builds: set[int] = set()
    for group in by_select.values():
        if len(group) < 2 or group[0].info.unsafe:
            continue
        for probe, pcol, build, bcol, why in sorted(_candidates(group), key=_preference):
            if (probe.index in probes or probe.index in builds or build.index in probes
                    or not _probe_ok(probe) or not _build_ok(build)):
                continue
            if not _same_key_type(probe.table.column(pcol).type, build.table.column(bcol).type):
                continue
            probes.add(probe.index)
            builds.add(build.index)
            chosen.append(BoundJoin(views[probe.table_nid], pcol, views[build.table_nid], bcol, build.alias, why))
    return tuple(chosen)


def _candidates(group: list[ScanState]) -> list[_Cand]:
    sel = group[0].info.select
    by_alias = {st.alias: st for st in group}
    out: list[_Cand] = []

    def pair(c: exp.Expr) -> tuple[ScanState, str, ScanState, str] | None:
        if not isinstance(c, exp.EQ) or not isinstance(c.this, exp.Column) or not isinstance(c.expression, exp.Column):
            return None
        a, b = by_alias.get(c.this.table), by_alias.get(c.expression.table)
        if a is None or b is None or a is b:
            return None
        an, bn = c.this.name, c.expression.name
        if not (_plain(a, an) and _plain(b, bn)):
            return None
        return a, an, b, bn

    for c in conjuncts(sel.args.get("where")):
        if (p := pair(c)) is not None:
            a, an, b, bn = p
            out += [(a, an, b, bn, "WHERE"), (b, bn, a, an, "WHERE")]
    seen: set[str] = {_alias_of(sel.args["from_"].this)}
    for join in sel.args.get("joins") or []:
        right = _alias_of(join.this)
        side, kind = (join.side or "").upper(), (join.kind or "").upper()
        plain = not join.args.get("method") and not join.args.get("using")
        for c in conjuncts(join.args.get("on")) if plain else []:
            if (p := pair(c)) is None:
                continue
            a, an, b, bn = p
            if a.alias == right:
                a, an, b, bn = b, bn, a, an  # a: the left input, b: the joined table
            if b.alias != right or a.alias not in seen:
                continue
            label = f"{side or kind or 'INNER'} JOIN ON"
            if side in ("", "LEFT") and kind in ("", "INNER", "OUTER", "SEMI", "ANTI"):
                out.append((b, bn, a, an, label))
            if side in ("", "RIGHT") and kind in ("", "INNER", "OUTER", "SEMI"):
                out.append((a, an, b, bn, label))
        seen.add(right)
    return out


def _alias_of(node: exp.Expr) -> str:
    return node.alias_or_name


def _plain(st: ScanState, column: str) -> bool:
    return st.table.has(column) and not st.table.column(column).filter_only


def _preference(c: _Cand) -> tuple[int, int, int]:
    """Build sides with more pushed filters first (likely the smaller side), then a unique key."""
    probe, _, build, bcol, _ = c
    return (-(len(build.pushed) - len(probe.pushed)), 0 if bcol == build.table.key else 1, build.index)


def _probe_ok(st: ScanState) -> bool:
    return (st.pushdown and not (st.contradiction or st.count_only or st.aggregates)
            and st.limit is None and not st.order)


def _build_ok(st: ScanState) -> bool:
    return st.pushdown and bool(st.pushed) and not (st.contradiction or st.count_only or st.aggregates)


def _same_key_type(a: pa.DataType, b: pa.DataType) -> bool:
    """Whether DuckDB compares values of the two types exactly as the API compares the values sent."""
    if pa.types.is_integer(a) and pa.types.is_integer(b):
        return True
    def text(t: pa.DataType) -> bool:
        return bool(pa.types.is_string(t) or pa.types.is_large_string(t))

    return text(a) and text(b)


def page_size(req: ScanRequest) -> int | None:
    return req.paging.page_size if isinstance(req.paging, OffsetPaging | CursorPaging) else None


def full_scan_pages(req: ScanRequest, total: int) -> int:
    """Page requests of a scan of ``total`` rows (offset pages after the first overlap by a row)."""
    p, size = req.paging, page_size(req)
    if size is None:
        return 1
    overlap = isinstance(p, OffsetPaging) and p.overlap and (not p.page_number or p.skip_param) and size >= 2
    step = size - 1 if overlap else size
    return 1 + max(0, math.ceil((total - size) / step))
