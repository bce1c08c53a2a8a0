"""EXPLAIN: what each remote scan sends, what the API does exactly or as a superset, what stays local.

Requests are shown as method + path + query string: credentials travel in headers added by the
fetcher and never appear here. The text still passes ``lowcode_sql.secrets.redact`` as a whole (a
secret typed into the SQL, or a platform whose query string carries one, is masked too).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from lowcode_sql.plan import PlannedScan, QueryPlan
from lowcode_sql.secrets import redact
from lowcode_sql.types import CursorPaging, Exactness, OffsetPaging, ScanRequest

__all__ = ["explain_plan"]


Counter = Callable[[PlannedScan, ScanRequest], int]


def explain_plan(qp: QueryPlan, counter: Counter | None = None) -> str:
    """The plan as text. With ``counter`` (one COUNT request per scan), the predicted number of
    page requests is exact; without it, it is given as a formula of the total."""
    lines: list[str] = []
    for scan in qp.scans:
        spec = scan.spec
        lines.append(f"scan {scan.source}.{scan.table.name} AS {scan.alias}  (view {scan.view})")
        lines.append(f"  columns:  {', '.join(spec.columns) or '(none)'}")
        exact = [str(p) for p, e in spec.pushed if e is Exactness.EXACT]
        superset = [str(p) for p, e in spec.pushed if e is Exactness.SUPERSET]
        lines.append(f"  exact:    {' AND '.join(exact) or '-'}")
        lines.append(f"  superset: {' AND '.join(superset) or '-'}  (re-checked by DuckDB)")
        lines.append(f"  local:    {' AND '.join(map(str, spec.local)) or '-'}")
        if spec.order:
            order = ", ".join(f"{k.column} {'DESC' if k.descending else 'ASC'}" for k in spec.order)
            lines.append(f"  order:    {order} (pushed)")
        if spec.limit is not None or spec.offset:
            lines.append(f"  limit:    {spec.limit} offset {spec.offset} (pushed)")
        if spec.contradiction:
            lines.append("  requests: none (the filter can never be true)")
            continue
        req = scan.dialect.render_scan(scan.table, spec)
        if spec.count_only:
            first = req.page_request(spec.offset, 1)
            lines.append("  mode:     COUNT(*) from the API's reported total")
            lines.append("  requests: 1")
        else:
            p = req.paging
            size = p.page_size if isinstance(p, OffsetPaging | CursorPaging) else None
            first = req.page_request(spec.offset, size or 0)
            kind = ("offset pages, concurrent once the total is known" if isinstance(p, OffsetPaging)
                    else "cursor pages, sequential" if isinstance(p, CursorPaging) else "one request")
            lines.append(f"  paging:   {kind}" + (f", {size} rows per page" if size else ""))
            lines.append(f"  requests: {_predict(scan, req, counter)}")
        lines.append(f"  request:  {first.method} {first.target()}")
        for note in req.notes:
            lines.append(f"  note:     {note}")
    lines.append("duckdb:")
    lines.append("  " + qp.sql)
    return redact("\n".join(lines))


def _predict(scan: PlannedScan, req: ScanRequest, counter: Counter | None) -> str:
    p, spec = req.paging, scan.spec
    if not isinstance(p, OffsetPaging | CursorPaging):
        return "1"
    size = p.page_size
    # offset pages after the first overlap the one before by a row (fetch/scan.py, boundary check)
    overlap = isinstance(p, OffsetPaging) and p.overlap and (not p.page_number or p.skip_param) and size >= 2
    step = size - 1 if overlap else size
    if spec.limit is not None and counter is None:
        return f"{1 + max(0, math.ceil((spec.limit - size) / step))} at most (LIMIT {spec.limit} pushed)"
    if counter is None:
        return f"1 + ceil((N - {size}) / {step}) for N matching rows (run explain with a count for N)"
    total = max(0, counter(scan, req) - spec.offset)
    if spec.limit is not None:
        total = min(total, spec.limit)
    pages = 1 + max(0, math.ceil((total - size) / step))
    return f"{pages} ({total} rows; one more for the count just made)"
