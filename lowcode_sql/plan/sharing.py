"""Scan sharing: the references to one remote table in a query fetched once, the rows fed to each.

A self-join, a correlated subquery over the same table (``x > (SELECT avg(x) FROM t b WHERE
b.g = a.g)``), ``EXISTS``/``NOT EXISTS`` on the same table, or a UNION of branches over it would
otherwise send one scan per reference. Here the planner sees every reference to one
``source.table`` and, where the estimated requests say so, replaces them by one shared scan whose
batches feed every reference's view (``execute/shared.py``).

The choice is made on the request estimate EXPLAIN prints (``lowcode_sql/explain.py``): a scan of
``n`` matching rows costs ``pages(n)`` requests, a function that never decreases with ``n``. The
planner does not know ``n`` (that would cost a COUNT request per reference), so it only takes the
choices whose comparison does not depend on it:

* **identical requests**: references sending the same conjuncts receive the same rows; one
  fetch costs ``pages(n)`` instead of ``k * pages(n)``;
* **a reference reads the whole table**, or more generally one reference's exact conjuncts are
  among every other one's (their rows are inside its rows): one scan with that reference's filter
  costs its ``pages(n)``, and the separate scans cost that plus the others' pages (no LIMIT in the
  query: under one, a selective reference might need fewer pages alone than it finds in the wider
  scan);
* **different exact filters, no LIMIT in the query**: one scan with the OR of the references'
  filters, if the dialect sends that OR exactly, reads ``|F1 OR F2 OR ...| <= |F1| + |F2| + ...``
  rows. (Where offset pages overlap by one row, ``pages`` of a sum can exceed the sum of the
  ``pages`` by one request per merged filter when every filter ends exactly at a page boundary;
  any overlap between the filters' rows, and each saved first page, outweigh that in practice.)
* a reference whose COUNT, aggregate or LIMIT the API answers (one or a few requests) keeps its own
  scan, unless its rows are already inside the shared scan's rows (its filter contains a shared
  filter, or the shared scan has none) and the query has no LIMIT: then it costs nothing extra.

With a LIMIT anywhere in the query DuckDB may stop reading a scan early; a shared scan is then
only formed from references sending identical requests (or reading the whole table), so the one
fetch reads no further than the furthest of them, never further than separate scans would.

Results cannot change: a shared reference gets its rows from a superset of what its own scan
would return, and every one of its conjuncts stays in the SQL DuckDB runs (none is dropped as
"answered by the API"), so DuckDB applies each predicate itself. References whose conjuncts the
API must see to address rows at all (``filter_only`` columns) and contradictory ones (no
request) are never shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from lowcode_sql.ir import And, Exactness, Or, Pred, columns_of
from lowcode_sql.plan.scans import ScanState
from lowcode_sql.plan.split import split
from lowcode_sql.scanspec import ScanSpec

__all__ = ["Feed", "SharedGroup", "share_scans"]

Decided = dict[int, tuple[set[int], dict[int, tuple[str, str | None]]]]  # scan index -> (offsets, rewrites)


@dataclass(frozen=True)
class Feed:
    """One reference a shared scan feeds: its view in the SQL DuckDB runs and the columns it reads."""

    view: str
    alias: str
    columns: tuple[str, ...]


@dataclass
class SharedGroup:
    members: list[ScanState]
    spec: ScanSpec


def _key(st: ScanState) -> tuple[tuple[str, int], ...]:
    """What a scan sends: equal keys, equal requests (``str`` of the IR spells values with types)."""
    return tuple(sorted({(str(p), int(e)) for p, e in st.pushed}))


def _cheap(st: ScanState) -> bool:
    """The API answers this reference's COUNT, aggregate or LIMIT: one or a few requests."""
    return st.count_only or bool(st.aggregates) or st.limit is not None


def _eligible(st: ScanState) -> bool:
    if st.contradiction or not st.pushdown:
        return False
    filter_only = {c.name for c in st.table.columns if c.filter_only}
    return not any(columns_of(p) & filter_only for p, _ in st.pushed)


def _exact(st: ScanState) -> bool:
    return all(e is Exactness.EXACT for _, e in st.pushed)


def _items(st: ScanState) -> set[str]:
    return {str(p) for p, _ in st.pushed}


def share_scans(scans: Sequence[ScanState], decided: Decided, may_stop_early: bool) -> list[SharedGroup]:
    """Group the references to each remote table that one shared scan serves for fewer requests;
    each member's own pushdowns (COUNT, aggregate, LIMIT, OFFSET) are undone in ``decided``."""
    by_table: dict[tuple[str, str], list[ScanState]] = {}
    for st in scans:
        if _eligible(st):
            by_table.setdefault((st.source, st.table.name), []).append(st)
    groups: list[SharedGroup] = []
    for refs in by_table.values():
        if len(refs) > 1:
            groups.extend(_groups_of(refs, may_stop_early))
    for g in groups:
        for st in g.members:
            _undo_pushdowns(st, decided)
    return groups


def _groups_of(refs: list[ScanState], may_stop_early: bool) -> list[SharedGroup]:
    full = [st for st in refs if not _cheap(st)]
    cheap = [st for st in refs if _cheap(st)]
    if not full:
        return []  # each reference is answered in one or a few requests already
    if not may_stop_early and any(not st.pushed for st in full):
        # one reference reads the whole table: every other one's rows are inside it (under a LIMIT
        # a selective reference may need fewer pages alone than it would find in the whole table)
        return [_group(full + cheap, ())]
    by_key: dict[tuple[tuple[str, int], ...], list[ScanState]] = {}
    for st in full:
        by_key.setdefault(_key(st), []).append(st)
    if len(by_key) > 1 and not may_stop_early and all(_exact(st) for st in full):
        base = min(full, key=lambda st: len(st.pushed))
        if all(_items(base) <= _items(st) for st in full):
            # every reference narrows one of them further: its rows hold all the others'
            covered = [c for c in cheap if _exact(c) and _items(base) <= _items(c)]
            return [_group(full + covered, tuple(base.pushed))]
        merged = _or_filter(full)
        if merged is not None:
            covered = [c for c in cheap if _exact(c) and any(_items(f) <= _items(c) for f in full)]
            return [_group(full + covered, merged)]
    out = []
    for same in by_key.values():
        covered = [] if may_stop_early else [c for c in cheap if _exact(c) and _items(same[0]) <= _items(c)]
        if len(same) + len(covered) > 1 and (_exact(same[0]) or not covered):
            out.append(_group(same + covered, tuple(same[0].pushed)))
    return out


def _or_filter(full: list[ScanState]) -> tuple[tuple[Pred, Exactness], ...] | None:
    """The OR of the references' pushed conjunctions, if the dialect sends it exactly."""
    first = full[0]
    branches: dict[str, Pred] = {}
    for st in full:
        preds = [p for p, _ in st.pushed]
        pred = preds[0] if len(preds) == 1 else And(tuple(preds))
        branches.setdefault(str(pred), pred)
    merged = Or(tuple(branches.values()))
    shares = split(first.dialect, first.table, [merged])
    if shares.exact != (True,):
        return None
    return shares.pushed


def _group(members: list[ScanState], pushed: tuple[tuple[Pred, Exactness], ...]) -> SharedGroup:
    first = members[0]
    members = sorted(members, key=lambda st: st.index)
    spec = ScanSpec(first.source, first.table.name, (), pushed)
    return SharedGroup(members, spec)


def _undo_pushdowns(st: ScanState, decided: Decided) -> None:
    """A shared reference reads rows: no COUNT, aggregate, sort, LIMIT or OFFSET of its own, and
    every conjunct stays in the SQL (``st.dropped`` emptied) for DuckDB to apply."""
    st.count_only, st.limit, st.offset, st.order = False, None, 0, ()
    st.group_by, st.aggregates = (), ()
    st.dropped = set()
    decided[st.index] = (set(), {})


def finish(group: SharedGroup) -> tuple[ScanSpec, list[tuple[ScanState, tuple[str, ...]]]]:
    """The shared scan's spec with the union of its members' columns (once they are known), and
    each member with the columns its view holds (a member needing rows but no column: the key)."""
    table = group.members[0].table
    fallback = table.key or next(c.name for c in table.columns if not c.filter_only)
    fed = []
    for st in group.members:
        cols = tuple(c.name for c in table.columns if c.name in st.needed) or (fallback,)
        fed.append((st, cols))
    wanted = {c for _, cols in fed for c in cols}
    spec = ScanSpec(group.spec.source, group.spec.table, tuple(c.name for c in table.columns if c.name in wanted),
                    group.spec.pushed)
    return spec, fed


def may_stop_early(tree: exp.Expr) -> bool:
    """Whether DuckDB may stop reading some scan before its end (a LIMIT or FETCH anywhere)."""
    return tree.find(exp.Limit, exp.Fetch) is not None



