"""Golden files: SQL -> split (exact / superset / local, order, limit, count) -> first request.

Each case in ``golden/<platform>.txt`` is ``-- sql`` followed by the query and ``-- expect`` followed
by the rendered plan. Set ``LOWCODE_UPDATE_GOLDEN=1`` to rewrite the files, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dialect._base import Dialect, TableDef
from lowcode_sql.errors import UnknownTable
from lowcode_sql.plan import plan
from lowcode_sql.types import CursorPaging, Exactness, HttpRequest, OffsetPaging

GOLDEN = Path(__file__).parent / "golden"


class StaticCatalog:
    """One source's tables, fixed: what the planner resolves names against in the golden tests."""

    def __init__(self, source: str, dialect: Dialect, tables: list[TableDef]) -> None:
        self.source, self.dialect, self.tables = source, dialect, {t.name: t for t in tables}

    def resolve(self, db: str | None, name: str) -> tuple[str, TableDef, Dialect]:
        if (db not in (None, self.source)) or name not in self.tables:
            raise UnknownTable(name, list(self.tables))
        return self.source, self.tables[name], self.dialect


def offline_catalog(source: str, dialect: Dialect, why: str) -> StaticCatalog:
    """The catalog a dialect discovers without a request (its options name every table)."""
    gen = dialect.discover()
    try:
        next(gen)
    except StopIteration as stop:
        return StaticCatalog(source, dialect, stop.value)
    raise AssertionError(why)


def render(sql: str, catalog, folder) -> str:
    try:
        qp = plan(sql, catalog, folder)
    except Exception as e:  # the error itself is the expected output
        return f"error: {type(e).__name__}: {e}"
    out = []
    for scan in qp.scans:
        spec = scan.spec
        out.append(f"scan {scan.table.name} columns={','.join(spec.columns)}")
        for p, e in spec.pushed:
            out.append(f"  {'exact' if e is Exactness.EXACT else 'superset'}: {p}")
        for p in spec.local:
            out.append(f"  local: {p}")
        if spec.contradiction:
            out.append("  contradiction: no request")
            continue
        if spec.aggregates:
            keys = ",".join(spec.group_by) or "()"
            out.append(f"  group by {keys}: {', '.join(map(str, spec.aggregates))}")
        if spec.order or spec.limit is not None or spec.offset:
            order = ",".join(f"{k.column}{' desc' if k.descending else ''}" for k in spec.order)
            out.append(f"  order={order or '-'} limit={spec.limit} offset={spec.offset}")
        try:
            req = scan.dialect.render_scan(scan.table, spec)
        except Exception as e:
            out.append(f"  render error: {type(e).__name__}: {e}")
            continue
        if spec.count_only:
            first = req.page_request(spec.offset, 1)
            out.append(f"  count: {_show(first)}")
        else:
            p = req.paging
            size = p.page_size if isinstance(p, OffsetPaging | CursorPaging) else 0
            out.append(f"  request: {_show(req.page_request(spec.offset, size))}")
    out.append(f"duckdb: {qp.sql}")
    return "\n".join(out)


def _show(req: HttpRequest) -> str:
    """Method (unless GET), path and query, and a JSON body as canonical JSON."""
    text = req.target() if req.method == "GET" else f"{req.method} {req.target()}"
    if req.json is not None:
        text += " " + json.dumps(req.json, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text


def check(name: str, catalog, folder) -> None:
    path = GOLDEN / f"{name}.txt"
    cases = []
    for block in path.read_text().split("-- sql\n")[1:]:
        sql, _, expected = block.partition("-- expect\n")
        cases.append((sql.strip(), expected.strip()))
    actual = [(sql, render(sql, catalog, folder)) for sql, _ in cases]
    if os.environ.get("LOWCODE_UPDATE_GOLDEN"):
        path.write_text("".join(f"-- sql\n{s}\n-- expect\n{a}\n\n" for s, a in actual))
        return
    for (sql, expected), (_, got) in zip(cases, actual, strict=True):
        assert got == expected, f"\nSQL: {sql}\n--- expected\n{expected}\n--- got\n{got}"
