"""EXPLAIN: what each remote scan sends, what the API does exactly or as a superset, what stays local.

Requests are shown as method + path + query string: credentials travel in headers added by the
fetcher and never appear here. The text still passes ``lowcode_sql.secrets.redact`` as a whole (a
secret typed into the SQL, or a platform whose query string carries one, is masked too).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from lowcode_sql.ir import Exactness
from lowcode_sql.plan import PlannedScan, QueryPlan
from lowcode_sql.plan.joins import MAX_BATCH, full_scan_pages
from lowcode_sql.requests import CursorPaging, OffsetPaging, ScanRequest
from lowcode_sql.secrets import redact

__all__ = ["analyze", "explain_plan"]


Counter = Callable[[PlannedScan, ScanRequest], int]


def explain_plan(qp: QueryPlan, counter: Counter | None = None) -> str:
    """The plan as text. With ``counter`` (one COUNT request per scan), the predicted number of
    page requests is exact; without it, it is given as a formula of the total."""
    lines: list[str] = []
    for scan in qp.scans:
        spec = scan.spec
        lines.append(f"scan {scan.source}.{scan.table.name} AS {scan.alias}  (view {scan.view})")
        lines.append(f"  columns:  {', '.join(spec.columns) or '(none)'}")
        if scan.feeds:  # plan/sharing.py: one fetch for several references; DuckDB applies each one's filters
            fed = "; ".join(f"{f.alias} (view {f.view}: {', '.join(f.columns)})" for f in scan.feeds)
            lines.append(f"  shared:   one fetch feeds {fed}")
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
        lines.extend(_bound_lines(qp, scan, req, counter))
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


def _bound_lines(qp: QueryPlan, scan: PlannedScan, req: ScanRequest,
                counter: Counter | None) -> list[str]:
    lines: list[str] = []
    for join in qp.joins:
        if join.build == scan.view:
            lines.append(f"  bound:    read first: its {join.build_column} values are sent to scan {join.probe}")
        if join.probe != scan.view:
            continue
        lines.append(f"  bound:    {join.describe()}")
        lines.append("  choice:   batches when 1, or fewer than the full scan's pages (one COUNT request tells "
                     "them); else the full scan below")
        if counter is None:
            continue
        build = next(s for s in qp.scans if s.view == join.build)
        keys = counter(build, build.dialect.render_scan(build.table, build.spec))
        pages = full_scan_pages(req, counter(scan, req))
        lines.append(f"  estimate: the build side has {keys} rows, so at most {keys} keys (at least "
                     f"{math.ceil(keys / MAX_BATCH)} batches); a full scan here is {pages} pages")
    return lines


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


def analyze(engine: Any, sql: str, params: Any = None, counter: Counter | None = None, *,
            fmt: str = "text") -> str:
    """EXPLAIN ANALYZE: run the query and show, next to each scan's plan and predicted requests,
    what it actually cost (requests by kind, rows, bytes, network wait vs conversion) and, for the
    whole query, the wall time split between the scans and DuckDB. ``fmt="json"`` for tools."""
    qp = engine.plan(sql, params)
    text = explain_plan(qp, counter)  # the prediction plain EXPLAIN prints, made before the run
    predicted = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("  requests:")]
    started = time.perf_counter()
    result = engine.run(qp, started=started, profile=True)
    profile = json.loads(result.table.column(1)[0].as_py())
    kept = _rows_kept(profile, qp.scans, result.scans)
    scans: list[dict[str, Any]] = []
    for scan, report, pred, rows_kept in zip(qp.scans, result.scans, predicted, kept, strict=True):
        st = report.stats.as_dict() if report.stats is not None else {}
        requests = st.get("requests", 0)
        # pages converted on the I/O loop were converted while DuckDB waited for them (as far as
        # the wait goes): that share of the wait was conversion, not the network
        on_loop = min(report.decode_seconds, report.wait_seconds)
        scans.append({
            "scan": f"{scan.source}.{scan.table.name}", "alias": scan.alias, "mode": report.mode,
            "requests": {"predicted": pred, "actual": requests,
                         "pages": st.get("pages", 0) if report.mode != "count" else 0,
                         "counts": requests if report.mode == "count" else 0,
                         "logins": st.get("logins", 0), "retries": st.get("retries", 0),
                         "throttled": st.get("throttled", 0), "cache_hits": st.get("cache_hits", 0)},
            "rows_received": report.rows if report.mode != "count" else 0,
            "rows_counted": report.rows if report.mode == "count" else None,
            "rows_kept": rows_kept,
            "bytes": st.get("bytes", 0),
            "detail": report.detail,
            "network_seconds": round(report.wait_seconds - on_loop, 6),
            "convert_seconds": round(report.convert_seconds + on_loop, 6),
            "slowest_request": ({"seconds": st["slowest_seconds"], "request": st["slowest_request"]}
                                if st.get("slowest_request") else None),
        })
    in_scans = sum(s["network_seconds"] + s["convert_seconds"] for s in scans)
    query = {"rows": _result_rows(profile), "wall_seconds": round(result.elapsed, 6),
             "scans_seconds": round(in_scans, 6), "duckdb_seconds": round(max(0.0, result.elapsed - in_scans), 6)}
    if fmt == "json":
        return redact(json.dumps({"scans": scans, "query": query, "duckdb_sql": qp.sql}, indent=2))
    out: list[str] = []
    index = -1
    for line in text.splitlines():
        if line.startswith("scan "):
            index += 1
        if line.startswith("  requests:") and 0 <= index < len(scans):
            out.extend(_analyzed(scans[index]))
            continue
        out.append(line)
    out.append(f"analyze: {query['rows']} rows in {query['wall_seconds']:.3f} s: scans {query['scans_seconds']:.3f} s "
               f"(network and conversion, as DuckDB pulled them), DuckDB {query['duckdb_seconds']:.3f} s")
    return redact("\n".join(out))


def _analyzed(s: dict[str, Any]) -> list[str]:
    r = s["requests"]
    kinds = (f"{r['pages']} pages, {r['counts']} counts, {r['logins']} logins, {r['retries']} retries, "
             f"{r['cache_hits']} cache hits")
    rows = (f"{s['rows_counted']} counted by the API" if s["rows_counted"] is not None
            else f"{s['rows_received']} received")
    if s["rows_kept"] is not None:
        rows += f", {s['rows_kept']} kept by DuckDB's filters"
    return [f"  requests: predicted {r['predicted']}; actual {r['actual']} ({kinds})",
            *([f"  chosen:   {s['detail']}"] if s.get("detail") else []),
            f"  actual:   {rows}, {s['bytes']} bytes; network {s['network_seconds']:.3f} s, "
            f"converting {s['convert_seconds']:.3f} s",
            *([f"  slowest:  {s['slowest_request']['seconds']:.3f} s  {s['slowest_request']['request']}"]
              if s["slowest_request"] else [])]


# --------------------------------------------------------------------------------------------
# Rows kept: read from DuckDB's own profile of the run
# --------------------------------------------------------------------------------------------

_PASS_THROUGH = {"FILTER", "PROJECTION"}


def _result_rows(profile: dict[str, Any]) -> int:
    """The rows of the answer: what the operator under EXPLAIN_ANALYZE passed on."""
    node = profile["operator"][0]
    while node.get("name") in ("RESULT_COLLECTOR", "EXPLAIN_ANALYZE") and node.get("children"):
        node = node["children"][0]
    return int(node.get("intermediate_rows", 0))


def _scan_leaves(profile: dict[str, Any]) -> list[tuple[set[str], int, bool, int]]:
    """Each Arrow scan in DuckDB's plan: (columns it read, rows it produced, whether DuckDB pushed a
    filter into it, rows left after the FILTER/PROJECTION chain right above it)."""
    leaves: list[tuple[set[str], int, bool, int]] = []

    def walk(node: dict[str, Any], chain_rows: int | None) -> None:
        name = node.get("name", "")
        rows = int(node.get("intermediate_rows", 0))
        if name == "PYTHON_ARROW_SCAN" or node.get("extra_info", {}).get("Function") == "PYTHON_ARROW_SCAN":
            info = node.get("extra_info", {})
            cols = info.get("Projections", [])
            cols = [cols] if isinstance(cols, str) else list(cols)
            leaves.append(({c.strip() for c in cols}, rows, bool(info.get("Filters")), rows if chain_rows is None
                           else chain_rows))
            return
        for child in node.get("children", []):
            # a FILTER/PROJECTION chain keeps the rows of its top; anything else starts a new chain
            top = (chain_rows if chain_rows is not None else rows) if name in _PASS_THROUGH else None
            walk(child, top)

    for op in profile.get("operator", []):
        walk(op, None)
    return leaves


def _rows_kept(profile: dict[str, Any], planned: Sequence[PlannedScan], reports: Sequence[Any]) -> list[int | None]:
    """Per scan, the rows DuckDB's own filters above that scan let through, or None where the profile
    cannot say which scan is which. DuckDB's profile names no view, so each Arrow scan of its plan is
    matched to a scan by the columns it read and the rows it produced; a scan is attributed only
    when every consistent matching gives it the same Arrow scan (a self-join reading the same
    columns and rows stays unattributed rather than guessed)."""
    leaves = _scan_leaves(profile)

    def fits(leaf: tuple[set[str], int, bool, int], k: int) -> bool:
        columns = set(planned[k].spec.columns) or {c.name for c in planned[k].table.columns}
        rows = reports[k].rows
        return leaf[0] <= columns and (leaf[1] == rows or (leaf[2] and leaf[1] <= rows))

    options = [[k for k in range(len(planned)) if fits(leaf, k)] for leaf in leaves]
    matchings: list[tuple[int, ...]] = []

    def assign(j: int, used: tuple[int, ...]) -> None:
        if len(matchings) > 256:  # enough to know it is ambiguous
            return
        if j == len(leaves):
            matchings.append(used)
            return
        for k in options[j]:
            if k not in used:
                assign(j + 1, (*used, k))

    assign(0, ())
    out: list[int | None] = [None] * len(planned)
    if not matchings or len(matchings) > 256:
        return out
    for k in range(len(planned)):
        chosen = {m.index(k) if k in m else None for m in matchings}
        if len(chosen) == 1 and (j := chosen.pop()) is not None:
            out[k] = leaves[j][3]
    return out
