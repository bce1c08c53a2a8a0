"""The checks, in the order they run (cheapest and most telling first, so a tight bound skips the rest).

Each asks the API one question with requests the dialect renders, and judges the answer against
what the dialect assumes about it (docs/notes/<platform>-api.md: the [I]nferred and [U]nknown facts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from dialect import TableDef
from lowcode_sql.errors import FetchError, LowcodeSQLError
from lowcode_sql.probe.context import BIG_PAGE, Check, Context, Finding, Skip, attempt, rows, shown
from lowcode_sql.probe.session import Answer
from lowcode_sql.types import (
    Aggregate,
    Cmp,
    CursorPaging,
    Exactness,
    InList,
    Like,
    LikePattern,
    OffsetPaging,
    Op,
    Pred,
    ScanSpec,
    SortKey,
)

__all__ = ["CHECKS"]

#: a value no real record holds
NO_SUCH_VALUE = "lowcode-sql probe 7f3a9c: no such value"
#: text columns the impossible filter is tried on
FILTER_COLUMNS = 3


# --- answers ------------------------------------------------------------------------------------


def _shape(ctx: Context) -> list[Finding]:
    body = ctx.sample.body
    keys = ", ".join(sorted(body)) if isinstance(body, dict) else f"a bare list of {len(body)}" \
        if isinstance(body, list) else type(body).__name__
    if ctx.hints.shape is None:
        return [Finding("answer shape", "inconclusive", f"answer: {keys} (no documented shape to compare)")]
    described, ok = ctx.hints.shape
    if ok(body):
        return [Finding("answer shape", "confirmed", f"{described}: keys {keys}")]
    return [Finding("answer shape", "differs", f"expected {described}; got {keys} (the dialect reads it: "
                                               "nothing to set)")]


def _totals(ctx: Context) -> list[Finding]:
    page, n = ctx.sample.page, len(ctx.sample.rows)
    if not ctx.session.dialect.can_count(ctx.table):
        return [Finding("totals", "skipped", "the dialect reads no total for this table")]
    if page.total is None:
        return [Finding("totals", "differs", f"the answer reports no total ({n} rows): COUNT(*) reads every row, "
                                             "and pages without a total are read until one adds no row")]
    if page.total < n:
        return [Finding("totals", "differs", f"total {page.total} but {n} rows in the answer")]
    return [Finding("totals", "confirmed", f"total {page.total}, {n} rows in the first answer")]


def _page_option(ctx: Context, rows: int) -> dict[str, Any]:
    opts = ctx.session.user_dialect.OPTIONS
    name = "max_limit" if "max_limit" in opts else ctx.hints.page_option
    if name and name in opts and ctx.session.user_dialect.options.get(name) != rows:
        return {name: rows}
    return {}


def _page_cap(ctx: Context) -> list[Finding]:
    n, total = len(ctx.sample.rows), ctx.sample.page.total

    def run() -> Finding:
        if n >= BIG_PAGE:
            return Finding("page cap", "confirmed", f"asked {BIG_PAGE} rows, got {n}")
        if total is not None:
            if n >= total:
                return Finding("page cap", "confirmed", f"asked {BIG_PAGE} rows, got all {total}")
            return Finding("page cap", "differs", f"asked {BIG_PAGE} rows, got {n} of {total}: the server caps a page "
                           f"at {n} (the scan strides by it; setting it saves a request)", _page_option(ctx, n))
        # no total: is there a row after the first answer's?
        paging = ctx.sample_paging
        if not isinstance(paging, OffsetPaging) or n == 0:
            raise Skip("no total and no offset paging: a cap cannot be told from the end of the table")
        ctx.need(1)
        nxt = ctx.fetch(ctx.spec(), n, n)
        if not nxt.rows:
            return Finding("page cap", "confirmed", f"asked {BIG_PAGE} rows, got {n}, and nothing follows")
        if ctx.ids(nxt.rows) == ctx.ids(ctx.sample.rows[: len(nxt.rows)]):
            return Finding("page cap", "inconclusive", f"asked {BIG_PAGE} rows, got {n}; the next page repeats them")
        return Finding("page cap", "differs", f"asked {BIG_PAGE} rows, got {n}, and more rows follow: the server "
                       f"caps a page at {n} (no total: the scan reads on past short pages)", _page_option(ctx, n))

    return [attempt("page cap", run)]


def _window(ctx: Context) -> int:
    n = len(ctx.sample.rows)
    if n < 4:
        raise Skip(f"the table has {n} rows: too few to compare pages")
    return min(5, n // 2)


def _paging(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        if isinstance(ctx.sample_paging, CursorPaging):
            raise Skip("pages follow a cursor (nothing to skip)")
        k = _window(ctx)
        ctx.need(1)
        got = ctx.ids(ctx.fetch(ctx.spec(), k, k).rows)
        want = ctx.ids(ctx.sample.rows[k: 2 * k])
        if got == want:
            return Finding("paging", "confirmed", f"rows {k}..{2 * k - 1} asked alone match the first answer's")
        if got[:k] == ctx.ids(ctx.sample.rows[:k]):
            return Finding("paging", "differs", f"asked rows {k}..{2 * k - 1}, got rows 0..{k - 1} again: the API "
                           "ignores the paging parameters (every scan beyond one page fails with InconsistentScan)")
        return Finding("paging", "inconclusive", f"asked rows {k}..{2 * k - 1}: other rows came back "
                       "(no stable order?)")

    return [attempt("paging", run)]


def _skip(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        paging = ctx.sample_paging
        if not (isinstance(paging, OffsetPaging) and paging.page_number and paging.skip_param):
            raise Skip("the dialect pages without a skip parameter")
        k = _window(ctx)
        ctx.need(1)
        got = ctx.ids(ctx.fetch(ctx.spec(), k, k, by_skip=True).rows)
        if got == ctx.ids(ctx.sample.rows[k: 2 * k]):
            return Finding("skip", "confirmed", f"{paging.skip_param}={k} starts at row {k}")
        if got[:k] == ctx.ids(ctx.sample.rows[:k]):
            if ctx.result("paging") == "differs":  # nothing is honoured: no option helps
                return Finding("skip", "differs", f"{paging.skip_param}={k} is ignored, as is all paging")
            opts = {"drift_check": False} if "drift_check" in ctx.session.user_dialect.OPTIONS else {}
            return Finding("skip", "differs", f"{paging.skip_param}={k} is ignored: the page starts at row 0 (the "
                           "boundary check needs it)", opts)
        return Finding("skip", "inconclusive", f"{paging.skip_param}={k}: other rows came back")

    return [attempt("skip", run)]


# --- filters ------------------------------------------------------------------------------------


def _local(ctx: Context, pred: Pred, column: str) -> dict[str, Any]:
    """``local_filters`` for ``column`` when the source as configured would send ``pred`` as exact."""
    return {"local_filters": [column]} if ctx.user_exact(pred) else {}


def _impossible(ctx: Context) -> list[Finding]:
    cols = [c for c in ctx.text_columns() if ctx.pushed(Cmp(c, Op.EQ, NO_SUCH_VALUE)) is not Exactness.LOCAL]
    if not cols:
        return [Finding("impossible filter", "skipped", "no text column's = is sent to the API")]
    out = []
    for col in cols[:FILTER_COLUMNS]:
        name = f"impossible filter [{col}]"
        pred = Cmp(col, Op.EQ, NO_SUCH_VALUE)

        def run(col: str = col, name: str = name, pred: Pred = pred) -> Finding:
            ctx.need(1)
            ans = ctx.fetch(ctx.spec([pred]), 0, 50)
            total = ans.page.total
            if ans.rows or (total or 0) > 0:
                return Finding(name, "differs", f"{col} = {shown(NO_SUCH_VALUE)} returned {rows(len(ans.rows))} "
                               f"(total {total}): the API ignores this filter", _local(ctx, pred, col))
            return Finding(name, "confirmed", f"{col} = <no such value>: 0 rows" +
                           (f", total {total}" if total is not None else ""), ctx.justified(name))

        out.append(attempt(name, run))
    return out


def _cased(ctx: Context) -> tuple[str, str]:
    """A pushed text column and a sample value whose case-swapped spelling no sampled row holds."""
    for col in ctx.text_columns():
        seen = set(ctx.texts(col))
        for v in ctx.texts(col):
            if len(v) <= 200 and v.swapcase() != v and v.swapcase() not in seen and v[:3].swapcase() != v[:3] \
                    and ctx.pushed(Cmp(col, Op.EQ, v)) is Exactness.EXACT:
                return col, v
    raise Skip("no text column's = is sent as exact with a cased value in the sample")


def _eq(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        col, v = _cased(ctx)
        pred = Cmp(col, Op.EQ, v)
        ctx.need(1)
        ans = ctx.fetch(ctx.spec([pred]), 0, 100)
        bad = ctx.failing(ans, [pred])
        if bad:
            return Finding("= honoured", "differs", bad, _local(ctx, pred, col))
        if not ans.rows:
            return Finding("= honoured", "differs", f"{col} = {shown(v)} returned no row, though the sample has one",
                           _local(ctx, pred, col))
        return Finding("= honoured", "confirmed", f"{col} = {shown(v)}: {rows(len(ans.rows))}, all matching")

    return [attempt("= honoured", run)]


def _eq_case(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        col, v = _cased(ctx)
        pred = Cmp(col, Op.EQ, v.swapcase())
        ctx.need(1)
        ans = ctx.fetch(ctx.spec([pred]), 0, 100)
        bad = ctx.failing(ans, [pred])
        if bad:
            opts: dict[str, Any] = {}
            if ctx.user_exact(pred):
                option = ctx.hints.case_option
                opts = {option[0]: option[1]} if option else {"local_filters": [col]}
            return Finding("= case-sensitive", "differs", f"= ignores case: {bad}", opts)
        return Finding("= case-sensitive", "confirmed", f"{col} = {shown(v.swapcase())} did not match {shown(v)}")

    return [attempt("= case-sensitive", run)]


def _like_case(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        col, v = _cased(ctx)
        prefix = v[:3].swapcase()
        pred = Like(col, LikePattern((prefix, LikePattern.ANY)))
        if ctx.pushed(pred) is not Exactness.EXACT:
            raise Skip(f"LIKE on {col} is not sent to the API as exact")
        ctx.need(1)
        ans = ctx.fetch(ctx.spec([pred]), 0, 100)
        bad = ctx.failing(ans, [pred])
        option = ctx.hints.like_case_option
        user = ctx.session.user_dialect.options.get(option) if option else None
        if bad:
            opts: dict[str, Any] = {option: "insensitive"} if option and user != "insensitive" else \
                _local(ctx, pred, col)
            return Finding("LIKE case-sensitive", "differs", f"LIKE ignores case: {bad}", opts)
        opts = {option: "sensitive"} if option and user != "sensitive" else {}
        return Finding("LIKE case-sensitive", "confirmed", f"{col} LIKE {shown(prefix + '%')} did not match "
                       f"{shown(v)}", opts)

    return [attempt("LIKE case-sensitive", run)]


def _in(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        for col in ctx.text_columns():
            values = list(dict.fromkeys(ctx.texts(col)))[:2]
            pred = InList(col, tuple(values))
            if len(values) == 2 and ctx.pushed(pred) is Exactness.EXACT:
                break
        else:
            raise Skip("IN is not sent to the API as exact on any text column")
        ctx.need(1)
        ans = ctx.fetch(ctx.spec([pred]), 0, 100)
        bad = ctx.failing(ans, [pred])
        if bad:
            return Finding("IN honoured", "differs", bad, _local(ctx, pred, col))
        missing = [v for v in values if v not in set(ans.values(col))]
        if missing:
            return Finding("IN honoured", "differs", f"{pred} returned no row with {shown(missing[0])}, which the "
                           "sample has", _local(ctx, pred, col))
        return Finding("IN honoured", "confirmed", f"{col} IN (2 values): {rows(len(ans.rows))}, both values",
                       ctx.justified("IN honoured"))

    return [attempt("IN honoured", run)]


def _timestamps(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        for c in ctx.table.columns:
            if c.filter_only or not pa.types.is_timestamp(c.type):
                continue
            whole = [v for v in ctx.sample.values(c.name) if isinstance(v, dt.datetime) and v.microsecond == 0]
            if not whole:
                continue
            v = max(whole)
            pred = Cmp(c.name, Op.GE, v + dt.timedelta(milliseconds=500))
            sent = ctx.pushed(pred)
            # sent as a superset, a row failing it is no evidence where a column holds several values
            if sent is Exactness.EXACT or (sent is Exactness.SUPERSET and not ctx.table.has(c.name + "__all")):
                break
        else:
            raise Skip("no pushed timestamp column with a whole-second value in the sample")
        ctx.need(1)
        ans = ctx.fetch(ctx.spec([pred]), 0, BIG_PAGE)
        bad = ctx.failing(ans, [pred])
        if bad:
            return Finding("timestamps as instants", "differs", f"timestamps compare as text: {bad}",
                           _local(ctx, pred, c.name))
        return Finding("timestamps as instants", "confirmed", f"{c.name} >= {v.isoformat()} + 0.5 s left out the row "
                       "at the whole second")

    return [attempt("timestamps as instants", run)]


# --- order --------------------------------------------------------------------------------------


def _key(ctx: Context, column: str, descending: bool, *, user: bool = False) -> SortKey | None:
    """A sort key the probing dialect (``user``: the source as configured) pushes."""
    d, table = (ctx.session.user_dialect, ctx.user_table) if user else (ctx.session.dialect, ctx.table)
    assert table is not None
    for nulls_first in (descending, not descending):
        key = SortKey(column, descending, nulls_first)
        if d.can_sort(table, [key]):
            return key
    return None


def _sortable(ctx: Context, nullable: bool | None) -> list[str]:
    """Columns to sort on: with distinct values in the sample (with NULLs, without, or either:
    None), columns whose sample is out of order first (an ignored sort shows), then those without
    NULLs, then numbers and times before text."""
    ranked = []
    for c in ctx.table.columns:
        if c.filter_only or pa.types.is_nested(c.type) or pa.types.is_boolean(c.type):
            continue
        vals = ctx.sample.values(c.name)
        present = [v for v in vals if v is not None]
        if len(set(present)) < 2 or (nullable is not None and (None in vals) != nullable):
            continue
        if _key(ctx, c.name, False) is None and _key(ctx, c.name, True) is None:
            continue
        try:
            ordered = present == sorted(present) or present == sorted(present, reverse=True)
        except TypeError:
            continue
        ranked.append((ordered, None in vals, pa.types.is_string(c.type), c.name))
    return [name for *_, name in sorted(ranked)]


def _sort(descending: bool) -> Any:
    name = "sort " + ("descending" if descending else "ascending")

    def check(ctx: Context) -> list[Finding]:
        def run() -> Finding:
            for col in _sortable(ctx, nullable=None):
                key = _key(ctx, col, descending)
                if key is not None:
                    break
            else:
                raise Skip("no column the dialect sorts on has distinct values in the sample")
            return _judge_sort(ctx, name, key)[0]

        return [attempt(name, run)]

    return check


def _judge_sort(ctx: Context, name: str, key: SortKey) -> tuple[Finding, Answer]:
    ctx.need(1)
    ans = ctx.fetch(ctx.spec(order=[key]), 0, BIG_PAGE)
    # also where the source as configured does not sort on this column yet (Entu: until it is declared
    # single-valued): a sort the API ignores is ignored on every column
    off = {"sort_pushdown": False}
    what = f"{key.column} {'DESC' if key.descending else 'ASC'} NULLS {'FIRST' if key.nulls_first else 'LAST'}"
    bad = ctx.failing(ans, order=[key])
    if bad:
        return Finding(name, "differs", f"ORDER BY {what}: {bad}", off), ans
    got = [v for v in ans.values(key.column) if v is not None]
    seen = [v for v in ctx.sample.values(key.column) if v is not None]
    if got and seen:
        best = max(seen) if key.descending else min(seen)
        if (got[0] < best) if key.descending else (got[0] > best):
            return Finding(name, "differs", f"ORDER BY {what} started at {shown(got[0])}, but the table holds "
                           f"{shown(best)}: the API ignores the sort", off), ans
    firsts = ", ".join(shown(v, 24) for v in ans.values(key.column)[:3])
    return Finding(name, "confirmed", f"ORDER BY {what}: {rows(len(ans.rows))} in order ({firsts}, ...)",
                   ctx.justified("sort")), ans


def _null_order(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        for col in _sortable(ctx, nullable=True):
            key = _key(ctx, col, False) or _key(ctx, col, True)
            if key is not None:
                break
        else:
            raise Skip("no column the dialect sorts on has NULLs and values in the sample")
        found, ans = _judge_sort(ctx, "NULL order", key)
        # a NULL is in the table (the sample has one): with NULLs first it must lead, else a value must
        first = ans.values(key.column)[0] if ans.rows else None
        if ans.rows and (first is None) != key.nulls_first:
            where = "first" if key.nulls_first else "last"
            return Finding("NULL order", "differs", f"ORDER BY {col} was sent expecting NULLs {where}; the first "
                           f"row holds {shown(first)}", {"sort_pushdown": False})
        if found.result != "confirmed":
            return found
        return Finding("NULL order", "confirmed", f"{col}: NULLs {'first' if key.nulls_first else 'last'} "
                       f"{'descending' if key.descending else 'ascending'}, as the dialect assumes")

    return [attempt("NULL order", run)]


# --- aggregates and tables ------------------------------------------------------------------------


def _aggregate(ctx: Context) -> list[Finding]:
    def run() -> Finding:
        count = (Aggregate("count_star"),)
        keys = [k for k in ([ctx.table.key] if ctx.table.key else []) + ctx.text_columns()
                if k and ctx.session.dialect.can_aggregate(ctx.table, [k], count)]
        if not keys:
            raise Skip("the dialect sends no GROUP BY to the API for this table")
        key = keys[0]
        spec = ScanSpec(ctx.session.name, ctx.table.name, (key,), group_by=(key,), aggregates=count)
        ctx.need(1)
        ans = ctx.session.fetch(ctx.table, spec, 0, BIG_PAGE, convert=False)
        groups = len(ans.page.records)
        seen = len(set(ctx.sample.values(key)))
        total = ctx.row_count() if key == ctx.table.key else None
        confirm = ctx.hints.confirms.get("aggregate")
        if groups < seen:
            off = {confirm[0]: False} if confirm and ctx.session.user_dialect.options.get(confirm[0]) else {}
            return Finding("aggregate", "differs", f"GROUP BY {key}: {groups} groups, but the sample alone has {seen} "
                           "distinct values: the answer is capped", off)
        if total is not None and groups == total:
            return Finding("aggregate", "confirmed", f"GROUP BY {key}: {groups} groups, one per row",
                           ctx.justified("aggregate"))
        return Finding("aggregate", "inconclusive", f"GROUP BY {key}: {groups} groups ({seen} values sampled; the "
                       "table's size is unknown)")

    return [attempt("aggregate", run)]


def _tables(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    # one request per path: tables sharing one (Alumio's configurations_<type>) answer together
    targets: dict[tuple[str, str], tuple[TableDef, ScanSpec]] = {}
    for t in ctx.session.source.tables().values():
        if t.name == ctx.table.name:
            continue
        spec = ScanSpec(ctx.session.name, t.name, tuple(c.name for c in t.columns if not c.filter_only))
        try:
            req = ctx.session.dialect.render_scan(t, spec).base
        except LowcodeSQLError:
            continue  # read per key only (a required filter): nothing to ask without one
        targets.setdefault((req.method, req.path), (t, spec))

    def run() -> Finding:
        ctx.need(len(targets))
        failed: list[Finding] = []
        for (_, path), (t, spec) in targets.items():
            name = t.name
            try:
                ctx.session.fetch(t, spec, 0, 1, convert=False)
            except FetchError as e:
                note = None
                if "paths" in ctx.session.user_dialect.OPTIONS:
                    note = f'paths = {{ {name} = "<its path on your deployment>" }}  # {path}: {e.status or "failed"}'
                failed.append(Finding(f"table {name}", "differs", f"{path}: {str(e).split('] ', 1)[-1]}"[:300],
                                      note=note))
        out.extend(failed)
        if failed:
            return Finding("tables", "differs", f"{len(failed)} of {len(targets)} other table paths failed")
        return Finding("tables", "confirmed", f"{len(targets)} other table paths answer")

    if not targets:
        return [*out, Finding("tables", "skipped", "no other table to read without a filter")]
    return [attempt("tables", run), *out]


#: every check, in order (the plan lists them before a request is sent)
CHECKS: Sequence[Check] = (
    Check("answer shape", "is a list answer shaped as the docs show? (from the sample page)", "0", _shape),
    Check("totals", "does a list answer report the total number of matches?", "0", _totals),
    Check("page cap", f"asked {BIG_PAGE} rows at once, does every row come (or is a page capped)?", "≤ 1",
          _page_cap),
    Check("paging", "does a page asked from row k start at row k?", "1", _paging),
    Check("skip", "is the skip parameter (page-number paging) honoured?", "1", _skip),
    Check("impossible filter", f"does = on a value no row holds return 0 rows (up to {FILTER_COLUMNS} text "
          "columns)?", f"≤ {FILTER_COLUMNS}", _impossible),
    Check("= honoured", "does = on a sampled value return only (and some) matching rows?", "1", _eq),
    Check("= case-sensitive", "does = on the value in the other case match it?", "1", _eq_case),
    Check("LIKE case-sensitive", "does LIKE 'prefix%' in the other case match?", "1", _like_case),
    Check("IN honoured", "does IN (a, b) return rows of both values, and only those?", "1", _in),
    Check("timestamps as instants", "does ts >= (a whole second + 0.5 s) leave out that second's row?", "1",
          _timestamps),
    Check("sort ascending", "are rows in ascending order of a column with distinct values?", "1", _sort(False)),
    Check("sort descending", "... and in descending order?", "1", _sort(True)),
    Check("NULL order", "do NULLs come where the dialect assumes in a sort?", "1", _null_order),
    Check("aggregate", "does a GROUP BY the API computes answer every group?", "1", _aggregate),
    Check("tables", "does every other table's path answer (one 1-row request each)?", "≤ 1 per table",
          _tables),
)
